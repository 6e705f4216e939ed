import { describe, expect, it } from "vitest";
import { bodyDigest, canonicalTarget, queryPairs } from "../../../domain/identity/request-token.ts";

describe("canonicalTarget", () => {
  it("is the bare path without a query", () => {
    expect(canonicalTarget("/v1/agencies")).toBe("/v1/agencies");
  });

  it("sorts parameters by name then value, so the caller's order does not matter", () => {
    expect(
      canonicalTarget("/v1/logs", [
        ["to", "2"],
        ["from", "1"],
        ["to", "1"],
      ]),
    ).toBe("/v1/logs?from=1&to=1&to=2");
  });

  it("percent-encodes names and values as RFC 3986 says", () => {
    expect(canonicalTarget("/v1/q", [["name", "Nguyễn Văn A!"]])).toBe("/v1/q?name=Nguy%E1%BB%85n%20V%C4%83n%20A%21");
  });

  it("reads REST multi-value query parameters", () => {
    expect(queryPairs({ a: ["1", "2"], b: undefined })).toEqual([
      ["a", "1"],
      ["a", "2"],
    ]);
    expect(queryPairs(null)).toEqual([]);
  });
});

describe("bodyDigest", () => {
  it("is the base64url SHA-256 of the bytes", () => {
    expect(bodyDigest("")).toBe("47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
    expect(bodyDigest(Buffer.from("{}"))).toBe(bodyDigest("{}"));
  });
});
