import { isIPv6 } from "node:net";
import { ProblemError } from "../problem.ts";

/**
 * Which endpoints the platform calls (a provider's upstream, a consumer's push target): the one
 * place that decides it, used when an endpoint is registered and again for every address its
 * host resolves to when the platform connects, so a name that later points elsewhere (DNS
 * rebinding) is refused too.
 */
export interface EndpointPolicy {
  /** Plain `http:` endpoints: only on the local stage, where Agent Nodes run on this machine. */
  readonly allowHttp: boolean;
  /** Loopback addresses and `localhost`: only on the local stage. */
  readonly allowLoopback: boolean;
}

/** The policy of a deployment stage: https and public addresses only, but on the `local` stage. */
export function endpointPolicy(stage: string): EndpointPolicy {
  const local = stage === "local";
  return { allowHttp: local, allowLoopback: local };
}

/** The platform refuses to call an endpoint, or an address its host resolved to. */
export class EndpointRefusedError extends ProblemError {
  constructor(detail: string, options?: ErrorOptions) {
    super(502, "endpoint-refused", "The platform does not call that endpoint", detail, [], options);
  }
}

/** Problem slug of a call refused because the operator has not approved the endpoint yet. */
export const ENDPOINT_NOT_APPROVED = "endpoint-not-approved";

/** The platform calls a system's endpoint only once the operator approved it: 503 until then. */
export class EndpointNotApprovedError extends ProblemError {
  constructor(detail: string) {
    super(503, ENDPOINT_NOT_APPROVED, "The endpoint awaits the operator's approval", detail);
  }
}

/** An IP address as its bytes: 4 for IPv4, 16 for IPv6. */
export type IpBytes = readonly number[];

/** What kind of address is refused, and why (the reason shown to the caller). */
type Range = readonly [prefix: IpBytes, bits: number, kind: string];

const v4 = (text: string): IpBytes => text.split(".").map(Number);
const v6 = (text: string): IpBytes => {
  const bytes = parseIpv6(text);
  if (!bytes) throw new Error(`not an IPv6 address: ${text}`);
  return bytes;
};

const LOOPBACK = "loopback";

/** Refused IPv4 ranges, most specific first (RFC 6890 special-purpose registry, cloud metadata). */
const IPV4_RANGES: readonly Range[] = [
  [v4("169.254.169.254"), 32, "cloud metadata"],
  [v4("169.254.170.2"), 32, "cloud metadata (container credentials)"],
  [v4("100.100.100.200"), 32, "cloud metadata"],
  [v4("192.0.0.192"), 32, "cloud metadata"],
  [v4("0.0.0.0"), 8, "unspecified (this network)"],
  [v4("10.0.0.0"), 8, "private (RFC 1918)"],
  [v4("100.64.0.0"), 10, "shared address space (CGNAT, RFC 6598)"],
  [v4("127.0.0.0"), 8, LOOPBACK],
  [v4("169.254.0.0"), 16, "link-local"],
  [v4("172.16.0.0"), 12, "private (RFC 1918)"],
  [v4("192.0.0.0"), 24, "reserved (IETF protocol assignments)"],
  [v4("192.0.2.0"), 24, "documentation"],
  [v4("192.88.99.0"), 24, "reserved (6to4 relay)"],
  [v4("192.168.0.0"), 16, "private (RFC 1918)"],
  [v4("198.18.0.0"), 15, "reserved (benchmarking)"],
  [v4("198.51.100.0"), 24, "documentation"],
  [v4("203.0.113.0"), 24, "documentation"],
  [v4("224.0.0.0"), 4, "multicast"],
  [v4("255.255.255.255"), 32, "broadcast"],
  [v4("240.0.0.0"), 4, "reserved"],
];

/** Refused IPv6 ranges, most specific first; anything outside global unicast (2000::/3) is refused too. */
const IPV6_RANGES: readonly Range[] = [
  [v6("::"), 128, "unspecified"],
  [v6("::1"), 128, LOOPBACK],
  [v6("fd00:ec2::254"), 128, "cloud metadata"],
  [v6("fd00:ec2::23"), 128, "cloud metadata (time sync)"],
  [v6("64:ff9b:1::"), 48, "private (local-use NAT64)"],
  [v6("100::"), 64, "reserved (discard)"],
  [v6("2001::"), 32, "reserved (Teredo)"],
  [v6("2001:db8::"), 32, "documentation"],
  [v6("2001::"), 23, "reserved (IETF protocol assignments)"],
  [v6("3fff::"), 20, "documentation"],
  [v6("5f00::"), 16, "reserved (SRv6 SIDs)"],
  [v6("fc00::"), 7, "private (unique local)"],
  [v6("fe80::"), 10, "link-local"],
  [v6("fec0::"), 10, "private (site-local)"],
  [v6("ff00::"), 8, "multicast"],
];

/** IPv6 ranges that carry an IPv4 address, with the byte offset where it sits. */
const IPV4_CARRIERS: ReadonlyArray<readonly [prefix: IpBytes, bits: number, offset: number]> = [
  [v6("::ffff:0:0"), 96, 12], // IPv4-mapped
  [v6("::ffff:0:0:0"), 96, 12], // IPv4-translated (SIIT)
  [v6("64:ff9b::"), 96, 12], // NAT64
  [v6("2002::"), 16, 2], // 6to4
];

/**
 * Parses an IPv4 address the way URL parsers and `inet_aton` read one: one to four parts, each
 * decimal, hexadecimal (`0x`) or octal (leading `0`), the last filling the remaining bytes
 * (`2852039166`, `0xa9fea9fe`, `0251.0376.0251.0376`, `169.254.43518` are all 169.254.169.254).
 * Undefined when the text is not numeric (a host name); `null` when numeric but out of range.
 */
export function parseIpv4(text: string): IpBytes | undefined | null {
  const parts = text.split(".");
  if (parts.length > 1 && parts.at(-1) === "") parts.pop();
  if (parts.length === 0 || parts.length > 4) return undefined;
  const numbers: number[] = [];
  for (const part of parts) {
    const value = parseIpv4Part(part);
    if (value === undefined) return undefined;
    numbers.push(value);
  }
  const last = numbers.pop() ?? 0;
  if (numbers.some((value) => value > 255) || last >= 256 ** (4 - numbers.length)) return null;
  const bytes = [...numbers];
  for (let index = 4 - numbers.length - 1; index >= 0; index--) bytes.push(Math.floor(last / 256 ** index) % 256);
  return bytes;
}

function parseIpv4Part(part: string): number | undefined {
  if (/^0x[0-9a-f]*$/i.test(part)) return part.length === 2 ? 0 : Number.parseInt(part.slice(2), 16);
  if (/^0[0-7]+$/.test(part)) return Number.parseInt(part.slice(1), 8);
  if (/^(0|[1-9][0-9]*)$/.test(part)) return Number(part);
  return undefined;
}

/** Parses an IPv6 address (brackets and a zone id allowed, an IPv4 tail too) into 16 bytes. */
export function parseIpv6(text: string): IpBytes | undefined {
  const bare = text.replace(/^\[(.*)\]$/, "$1").replace(/%.*$/, "");
  if (!isIPv6(bare)) return undefined;
  let body = bare;
  const tail: number[] = [];
  const dotted = /:(\d+\.\d+\.\d+\.\d+)$/.exec(body);
  if (dotted?.[1]) {
    tail.push(...v4(dotted[1]));
    body = `${body.slice(0, dotted.index)}:0:0`;
  }
  const [head = "", rest] = body.split("::");
  const groups = (part: string | undefined) => (part ? part.split(":").filter((group) => group !== "") : []);
  const left = groups(head);
  const right = groups(rest);
  const missing = 8 - left.length - right.length;
  const all = rest === undefined ? left : [...left, ...Array<string>(missing).fill("0"), ...right];
  const bytes = all.flatMap((group) => {
    const value = Number.parseInt(group, 16);
    return [value >> 8, value & 0xff];
  });
  if (tail.length === 4) bytes.splice(12, 4, ...tail);
  return bytes.length === 16 ? bytes : undefined;
}

/** An IP address in any form a URL or a resolver gives: IPv4 (encoded forms too) or IPv6. */
export function parseIpAddress(text: string): IpBytes | undefined | null {
  return text.includes(":") || text.startsWith("[") ? parseIpv6(text) : parseIpv4(text);
}

function within(address: IpBytes, prefix: IpBytes, bits: number): boolean {
  if (address.length !== prefix.length) return false;
  for (let bit = 0; bit < bits; bit += 8) {
    const mask = bits - bit >= 8 ? 0xff : (0xff << (8 - (bits - bit))) & 0xff;
    if (((address[bit / 8] ?? 0) & mask) !== ((prefix[bit / 8] ?? 0) & mask)) return false;
  }
  return true;
}

/** Why `address` is not one the platform calls, or undefined when it is a public unicast address. */
export function addressRefusal(address: IpBytes, policy: EndpointPolicy): string | undefined {
  const kind = addressKind(address);
  if (kind === undefined || (kind === LOOPBACK && policy.allowLoopback)) return undefined;
  return kind === LOOPBACK ? "loopback (allowed on the local stage only)" : kind;
}

function addressKind(address: IpBytes): string | undefined {
  if (address.length === 4) return IPV4_RANGES.find(([prefix, bits]) => within(address, prefix, bits))?.[2];
  for (const [prefix, bits, offset] of IPV4_CARRIERS) {
    if (within(address, prefix, bits)) {
      const inner = addressKind(address.slice(offset, offset + 4));
      return inner ? `${inner}, inside an IPv6 address` : undefined;
    }
  }
  const special = IPV6_RANGES.find(([prefix, bits]) => within(address, prefix, bits))?.[2];
  if (special) return special;
  if (((address[0] ?? 0) & 0xe0) !== 0x20) return "reserved (not global unicast)";
  return undefined;
}

/**
 * Why the platform would not call a host, judged from its text alone: an IP literal in any
 * encoding is classified; `localhost` is loopback; a single-label or `.internal`/`.local` name
 * is not a public one. Undefined when the host may be called (its addresses are checked later).
 */
export function hostRefusal(host: string, policy: EndpointPolicy): string | undefined {
  const name = host.toLowerCase().replace(/\.$/, "");
  const address = parseIpAddress(name);
  if (address === null) return "a malformed IP address";
  if (address) {
    const refusal = addressRefusal(address, policy);
    return refusal ? `a ${refusal} address` : undefined;
  }
  if (name === "localhost" || name.endsWith(".localhost")) {
    return policy.allowLoopback ? undefined : "loopback (allowed on the local stage only)";
  }
  if (!name.includes(".")) return "not a fully qualified host name";
  if (/\.(internal|local|localdomain|home\.arpa)$/.test(name)) return "a name private to a network";
  return undefined;
}

/** Why an endpoint URL may not be registered (or called), or undefined when it may. */
export function endpointRefusal(endpoint: string, policy: EndpointPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return "must be an absolute URL";
  }
  if (url.protocol !== "https:" && !(url.protocol === "http:" && policy.allowHttp)) {
    return policy.allowHttp ? "must be an http or https URL" : "must be an https URL";
  }
  if (url.username || url.password) return "must carry no credentials";
  if (url.search || url.hash) return "must be a base URL, without query or fragment";
  const refusal = hostRefusal(url.hostname, policy);
  return refusal ? `its host is ${refusal}` : undefined;
}
