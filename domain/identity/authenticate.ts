import { decodeJwt, decodeProtectedHeader, errors, importJWK, jwtVerify } from "jose";
import type { Caller, KeyRecord, SystemRecord } from "../registry/model.ts";
import { AuthenticationError } from "./errors.ts";
import {
  CLOCK_SKEW_SECONDS,
  contextClaimProblem,
  MAX_TOKEN_LIFETIME_SECONDS,
  TOKEN_ALGORITHMS,
} from "./request-token.ts";

/**
 * Finds a system and its keys; the registry in the platform. `kid` names the key the token is
 * signed with, so that a cached directory knows when what it remembers lacks that key.
 */
export type SystemDirectory = (
  systemId: string,
  kid?: string,
) => Promise<{ system: SystemRecord; keys: KeyRecord[] } | undefined>;

/** Remembers token ids; answers false when `jti` was seen before for that issuer. */
export type ReplayGuard = (issuer: string, jti: string, expiresAt: number) => Promise<boolean>;

export interface AuthenticationInput {
  /** The compact JWT from `Authorization: Bearer …`. */
  readonly token: string | undefined;
  /** The platform's audience. */
  readonly audience: string;
  /** The request's method and canonical target. */
  readonly method: string;
  readonly target: string;
  readonly directory: SystemDirectory;
  readonly replayGuard: ReplayGuard;
  readonly now?: Date;
}

/** Who called, and the body digest their token promises (checked where the body is). */
export interface Authenticated {
  readonly caller: Caller;
  readonly jti: string;
  readonly bodyDigest?: string;
  /** The end user (`usr`) and case reference (`case`) the token names, when it names them. */
  readonly endUser?: string;
  readonly caseRef?: string;
}

/** Longest request token taken (API Gateway takes 10 KiB of headers in all). */
export const MAX_TOKEN_LENGTH = 8192;
/** The formats registration gives keys and systems (domain/identifiers.ts). */
const KID = /^[A-Za-z0-9._-]{1,64}$/;
const SYSTEM_ID = /^[A-Z][A-Z0-9]{1,15}(\.[A-Z][A-Z0-9_]{0,31})+$/;
/** A token id: printable ASCII (a UUID will do), short enough to be part of a key. */
const JTI = /^[\x21-\x7e]{1,128}$/;
/** base64url SHA-256: 32 bytes, 43 characters. */
const BODY_DIGEST = /^[A-Za-z0-9_-]{43}$/;

/**
 * Verifies a request token as design.md specifies: a registered, active system; a registered,
 * unrevoked key named by `kid` whose algorithm matches; a valid signature; the platform as
 * audience; a lifetime of at most five minutes that covers now (with bounded skew); the
 * request's method and target; and a `jti` never seen before, remembered last so that forged
 * tokens cannot use up ids.
 */
export async function authenticate(input: AuthenticationInput): Promise<Authenticated> {
  const now = input.now ?? new Date();
  const token = input.token?.replace(/^Bearer\s+/i, "").trim();
  if (!token) throw new AuthenticationError("unauthenticated", "send Authorization: Bearer <request token>");
  if (token.length > MAX_TOKEN_LENGTH) {
    throw new AuthenticationError("invalid-token", `a request token is at most ${MAX_TOKEN_LENGTH} characters`);
  }

  let header: ReturnType<typeof decodeProtectedHeader>;
  let unverified: ReturnType<typeof decodeJwt>;
  try {
    header = decodeProtectedHeader(token);
    unverified = decodeJwt(token);
  } catch (error) {
    throw new AuthenticationError("invalid-token", "the request token is not a compact JWS", { cause: error });
  }
  const algorithm = String(header.alg);
  if (!(TOKEN_ALGORITHMS as readonly string[]).includes(algorithm) || typeof header.kid !== "string") {
    throw new AuthenticationError("invalid-token", "the token header needs alg EdDSA or ES256 and a kid");
  }
  if (!KID.test(header.kid)) {
    throw new AuthenticationError("invalid-token", "kid must be 1-64 letters, digits, '.', '_' or '-'");
  }
  const issuer = unverified.iss;
  if (typeof issuer !== "string" || unverified.sub !== issuer) {
    throw new AuthenticationError("invalid-token", "iss and sub must both name the calling system");
  }
  // Bounded before the directory is read: an id no system can have is no key lookup.
  if (issuer.length > 200 || !SYSTEM_ID.test(issuer)) {
    throw new AuthenticationError("invalid-token", "iss must be a system id, e.g. MPS.POPULATION");
  }

  const found = await input.directory(issuer, header.kid);
  if (found?.system.status !== "active") {
    throw new AuthenticationError("unknown-system", `no active system ${issuer} is registered`);
  }
  const key = found.keys.find((candidate) => candidate.kid === header.kid);
  if (!key) throw new AuthenticationError("unknown-key", `${issuer} has no key ${header.kid}`);
  if (key.status === "revoked") throw new AuthenticationError("revoked-key", `key ${key.kid} of ${issuer} is revoked`);
  if (key.alg !== algorithm) {
    throw new AuthenticationError("bad-signature", `key ${key.kid} signs with ${key.alg}, not ${algorithm}`);
  }

  let claims: Awaited<ReturnType<typeof jwtVerify>>["payload"];
  try {
    const publicKey = await importedKey(key);
    ({ payload: claims } = await jwtVerify(token, publicKey, {
      algorithms: [key.alg],
      audience: input.audience,
      issuer,
      subject: issuer,
      currentDate: now,
      clockTolerance: CLOCK_SKEW_SECONDS,
      requiredClaims: ["iat", "exp", "jti", "htm", "htu"],
    }));
  } catch (error) {
    throw translate(error);
  }

  const iat = Number(claims.iat);
  const exp = Number(claims.exp);
  const nowSeconds = Math.floor(now.getTime() / 1000);
  if (exp - iat > MAX_TOKEN_LIFETIME_SECONDS || exp <= iat) {
    throw new AuthenticationError("invalid-token", `a token may live at most ${MAX_TOKEN_LIFETIME_SECONDS} s`);
  }
  if (iat > nowSeconds + CLOCK_SKEW_SECONDS) {
    throw new AuthenticationError("invalid-token", "the token was issued in the future");
  }
  if (claims.htm !== input.method || claims.htu !== input.target) {
    throw new AuthenticationError(
      "token-not-for-request",
      `the token signs ${String(claims.htm)} ${String(claims.htu)}, not ${input.method} ${input.target}`,
    );
  }
  if (typeof claims.jti !== "string" || !JTI.test(claims.jti)) {
    throw new AuthenticationError("invalid-token", "jti must be 1-128 printable ASCII characters");
  }
  if (claims.bdy !== undefined && (typeof claims.bdy !== "string" || !BODY_DIGEST.test(claims.bdy))) {
    throw new AuthenticationError("invalid-token", "bdy must be the base64url SHA-256 of the body (43 characters)");
  }
  for (const name of ["usr", "case"] as const) {
    const problem = contextClaimProblem(name, claims[name]);
    if (problem) throw new AuthenticationError("invalid-token", problem);
  }
  const jti = claims.jti;
  if (!(await input.replayGuard(issuer, jti, exp + CLOCK_SKEW_SECONDS))) {
    throw new AuthenticationError("token-replayed", `token ${jti} of ${issuer} was already used`);
  }

  const { system } = found;
  return {
    caller: {
      systemId: system.id,
      agencyCode: system.agencyCode,
      roles: system.roles,
      capabilities: system.capabilities,
      kid: key.kid,
    },
    jti,
    ...(typeof claims.bdy === "string" ? { bodyDigest: claims.bdy } : {}),
    ...(typeof claims.usr === "string" ? { endUser: claims.usr } : {}),
    ...(typeof claims.case === "string" ? { caseRef: claims.case } : {}),
  };
}

/**
 * Public keys as jose uses them, imported once per key record: a cached directory hands out the
 * same record while it trusts it, so a warm authoriser does not import the key on every request.
 */
const importedKeys = new WeakMap<KeyRecord, ReturnType<typeof importJWK>>();

function importedKey(key: KeyRecord): ReturnType<typeof importJWK> {
  let imported = importedKeys.get(key);
  if (!imported) {
    imported = importJWK({ ...key.jwk }, key.alg);
    importedKeys.set(key, imported);
    // A key that fails to import is not remembered: the failure is the caller's to see each time.
    imported.catch(() => importedKeys.delete(key));
  }
  return imported;
}

function translate(error: unknown): AuthenticationError {
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new AuthenticationError("bad-signature", "the signature does not verify with the registered key", {
      cause: error,
    });
  }
  if (error instanceof errors.JWTExpired) {
    return new AuthenticationError("token-expired", "the request token has expired", { cause: error });
  }
  if (error instanceof errors.JWTClaimValidationFailed && error.claim === "aud") {
    return new AuthenticationError("wrong-audience", "the token is not addressed to this platform", { cause: error });
  }
  const reason = error instanceof Error ? error.message : "invalid";
  return new AuthenticationError("invalid-token", `the request token is invalid: ${reason}`, { cause: error });
}
