import { describe, expect, it } from "vitest";
import {
  addressRefusal,
  endpointPolicy,
  endpointRefusal,
  hostRefusal,
  parseIpAddress,
} from "../../../domain/registry/endpoint-policy.ts";

const cloud = endpointPolicy("prod");
const local = endpointPolicy("local");

describe("the endpoint policy", () => {
  it.each([
    ["169.254.169.254", "cloud metadata"],
    ["169.254.170.2", "cloud metadata"],
    ["[fd00:ec2::254]", "cloud metadata"],
    ["[fe80::1]", "link-local"],
    ["169.254.1.1", "link-local"],
    ["127.0.0.1", "loopback"],
    ["127.1.2.3", "loopback"],
    ["[::1]", "loopback"],
    ["localhost", "loopback"],
    ["api.localhost", "loopback"],
    ["10.0.0.1", "private"],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["192.168.1.1", "private"],
    ["[fd12:3456::1]", "private"],
    ["[fc00::1]", "private"],
    ["100.64.0.1", "CGNAT"],
    ["100.100.100.200", "cloud metadata"],
    ["0.0.0.0", "unspecified"],
    ["[::]", "unspecified"],
    ["224.0.0.1", "multicast"],
    ["[ff02::1]", "multicast"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.255", "broadcast"],
    ["192.0.2.10", "documentation"],
    ["198.51.100.10", "documentation"],
    ["203.0.113.10", "documentation"],
    ["[2001:db8::1]", "documentation"],
    ["198.18.0.1", "benchmarking"],
    ["[2001::1]", "Teredo"],
    ["[::a9fe:a9fe]", "not global unicast"],
  ])("refuses %s (%s) outside the local stage", (host, kind) => {
    expect(hostRefusal(host, cloud)).toContain(kind);
  });

  it.each([
    ["decimal", "2852039166"],
    ["hexadecimal", "0xa9fea9fe"],
    ["hexadecimal parts", "0xa9.0xfe.0xa9.0xfe"],
    ["octal", "0251.0376.0251.0376"],
    ["two parts", "169.254.43518"],
    ["three parts", "169.254.169.254."],
    ["mixed", "0xa9.254.0251.254"],
    ["IPv4-mapped", "[::ffff:169.254.169.254]"],
    ["IPv4-mapped in hex", "[::ffff:a9fe:a9fe]"],
    ["IPv4-mapped, expanded", "[0:0:0:0:0:ffff:a9fe:a9fe]"],
    ["IPv4-translated", "[::ffff:0:a9fe:a9fe]"],
    ["NAT64", "[64:ff9b::a9fe:a9fe]"],
    ["6to4", "[2002:a9fe:a9fe::1]"],
    ["upper case", "[FD00:EC2::254]"],
    ["with a zone", "[fe80::1%25eth0]"],
  ])("refuses the metadata address written in %s form: %s", (_form, host) => {
    expect(hostRefusal(host, cloud)).toMatch(/cloud metadata|link-local/);
  });

  it.each([
    "http://2852039166/latest/meta-data",
    "http://0xa9fea9fe/",
    "http://0251.0376.0251.0376/",
    "http://169.254.43518/",
    "http://[::ffff:169.254.169.254]/",
    "http://[fd00:ec2::254]/",
    "http://[fe80::1]/",
    "http://169.254.170.2/v2/credentials",
  ])("refuses %s as an endpoint even on the local stage", (endpoint) => {
    expect(endpointRefusal(endpoint, local)).toMatch(/cloud metadata|link-local/);
  });

  it("reads every encoding of an IPv4 address as the same bytes", () => {
    for (const text of ["2852039166", "0xa9fea9fe", "0251.0376.0251.0376", "169.254.43518", "169.0xfe.0251.254"]) {
      expect(parseIpAddress(text)).toEqual([169, 254, 169, 254]);
    }
    expect(parseIpAddress("::ffff:169.254.169.254")).toEqual([...Array(10).fill(0), 255, 255, 169, 254, 169, 254]);
  });

  it("treats a numeric host out of range as malformed, and a name as no address", () => {
    expect(parseIpAddress("256.1.1.1")).toBeNull();
    expect(parseIpAddress("4294967296")).toBeNull();
    expect(hostRefusal("1.2.3.999", cloud)).toBe("a malformed IP address");
    expect(parseIpAddress("population.example.gov.vn")).toBeUndefined();
  });

  it("allows public addresses and names", () => {
    for (const host of [
      "8.8.8.8",
      "203.0.114.1",
      "[2600:1f18::1]",
      "[::ffff:8.8.8.8]",
      "api.moh.gov.vn",
      "172.32.0.1",
    ]) {
      expect(hostRefusal(host, cloud)).toBeUndefined();
    }
    expect(endpointRefusal("https://api.moh.gov.vn/dscp", cloud)).toBeUndefined();
  });

  it("allows loopback on the local stage only, and private ranges on none", () => {
    expect(endpointRefusal("http://127.0.0.1:8080/dscp", local)).toBeUndefined();
    expect(endpointRefusal("http://localhost:8080", local)).toBeUndefined();
    expect(endpointRefusal("https://[::1]:8443", local)).toBeUndefined();
    expect(endpointRefusal("https://127.0.0.1:8443", cloud)).toContain("loopback");
    expect(endpointRefusal("http://10.1.2.3", local)).toContain("private");
    expect(addressRefusal([127, 0, 0, 1], local)).toBeUndefined();
    expect(addressRefusal([127, 0, 0, 1], cloud)).toContain("loopback");
  });

  it("takes https only outside the local stage", () => {
    expect(endpointRefusal("http://api.moh.gov.vn", cloud)).toBe("must be an https URL");
    expect(endpointRefusal("http://api.moh.gov.vn", local)).toBeUndefined();
    expect(endpointRefusal("ftp://api.moh.gov.vn", local)).toBe("must be an http or https URL");
    expect(endpointRefusal("file:///etc/passwd", cloud)).toBe("must be an https URL");
  });

  it("refuses credentials, queries and fragments, and names private to a network", () => {
    expect(endpointRefusal("https://user:secret@api.moh.gov.vn", cloud)).toBe("must carry no credentials");
    expect(endpointRefusal("https://api.moh.gov.vn/?a=1", cloud)).toContain("without query");
    expect(endpointRefusal("https://api.moh.gov.vn/#top", cloud)).toContain("without query");
    expect(endpointRefusal("https://metadata.google.internal/", cloud)).toContain("private to a network");
    expect(endpointRefusal("https://printer.local/", cloud)).toContain("private to a network");
    expect(endpointRefusal("https://intranet/", cloud)).toContain("fully qualified");
  });
});
