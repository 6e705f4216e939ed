import { createHash } from "node:crypto";

/** Longest a request token may live (`exp - iat`), in seconds. */
export const MAX_TOKEN_LIFETIME_SECONDS = 300;
/** Clock difference tolerated between a caller and the platform, in seconds. */
export const CLOCK_SKEW_SECONDS = 60;
/** Signature algorithms a system's key may use. */
export const TOKEN_ALGORITHMS = ["EdDSA", "ES256"] as const;
export type TokenAlgorithm = (typeof TOKEN_ALGORITHMS)[number];

/**
 * Claims of the short-lived token that signs one request (design.md, "Signed token"): who
 * calls (`iss` = `sub` = system id), for whom (`aud`), when (`iat`, `exp`), once (`jti`), and
 * what exactly (`htm` method, `htu` canonical target, `bdy` body digest).
 */
export interface RequestTokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly aud: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
  readonly htm: string;
  readonly htu: string;
  readonly bdy?: string;
  /** The end user on whose behalf the system calls (Art. 4.6, 13): recorded in the exchange log. */
  readonly usr?: string;
  /** The case (file, application) the call is made for: recorded in the exchange log. */
  readonly case?: string;
}

/** Longest end user (`usr`) or case reference (`case`) a token may name, in characters. */
export const MAX_CONTEXT_CLAIM_LENGTH = 200;

/**
 * An end user or case reference as a token may carry it: 1-200 characters, not blank, none of
 * them a control, format (bidirectional overrides…), surrogate or line/paragraph separator
 * character, so that what the log records reads as what was sent.
 */
const CONTEXT_CLAIM = /^[^\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}]{1,200}$/u;

/** Why a `usr` or `case` claim is malformed, naming it; undefined when it is absent or well-formed. */
export function contextClaimProblem(name: "usr" | "case", value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const what = name === "usr" ? "the end user" : "the case reference";
  if (typeof value !== "string" || !CONTEXT_CLAIM.test(value) || value.trim() === "") {
    return `${name} (${what}) must be 1-${MAX_CONTEXT_CLAIM_LENGTH} printable characters, without control characters`;
  }
  return undefined;
}

/**
 * The request target a token names: the path below the API's base URL, then the query
 * parameters sorted by name and value, percent-encoded as RFC 3986 says. Both sides compute it
 * the same way whatever order the caller wrote the query in.
 */
export function canonicalTarget(path: string, query?: Iterable<readonly [string, string]> | null): string {
  const pairs = [...(query ?? [])].map(([key, value]) => [encode(key), encode(value)] as const);
  pairs.sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0));
  const search = pairs.map(([key, value]) => `${key}=${value}`).join("&");
  return search ? `${path}?${search}` : path;
}

/** Query parameters of a REST proxy event as pairs, for {@link canonicalTarget}. */
export function queryPairs(
  multiValue: Record<string, string[] | undefined> | null | undefined,
): Array<[string, string]> {
  return Object.entries(multiValue ?? {}).flatMap(([key, values]) =>
    (values ?? []).map((value): [string, string] => [key, value]),
  );
}

/** base64url SHA-256 of a request body, the `bdy` claim. */
export function bodyDigest(body: string | Uint8Array): string {
  return createHash("sha256").update(body).digest("base64url");
}

function encode(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (character) => `%${character.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}
