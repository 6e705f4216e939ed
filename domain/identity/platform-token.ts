import { randomUUID, sign } from "node:crypto";
import { decodeProtectedHeader, importJWK, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from "jose";
import { PlatformTokenError } from "./errors.ts";
import { jwsSigningInput } from "./es256.ts";
import {
  CERTIFICATE_HEADER,
  type EnvironmentKeys,
  type KeyCertificateClaims,
  verifyKeyCertificate,
} from "./key-certificate.ts";
import { bodyDigest, canonicalTarget } from "./request-token.ts";

export { derToJose } from "./es256.ts";

/** Signs with the platform's private key, which never leaves its keystore (KMS on AWS). */
export interface PlatformSigner {
  /** Names the key in tokens' `kid` and in the published key set. */
  readonly keyId: string;
  /** ECDSA P-256 SHA-256 signature of `message`, DER-encoded (as KMS returns it). */
  sign(message: Uint8Array): Promise<Uint8Array>;
  /** The public key, SubjectPublicKeyInfo DER. */
  publicKey(): Promise<Uint8Array>;
}

export interface PlatformCall {
  /** The platform's own identity (its audience), as `iss` and `sub`. */
  readonly issuer: string;
  /** The provider system called, as `aud`. */
  readonly audience: string;
  readonly method: string;
  /** Path of the upstream URL, and its query. */
  readonly path: string;
  readonly query?: Iterable<readonly [string, string]>;
  readonly body?: string;
  /** The end user and case the consumer named (its token's `usr` and `case`), forwarded to the provider. */
  readonly endUser?: string;
  readonly caseRef?: string;
  readonly now?: Date;
}

/** How long a platform token is valid (seconds). */
export const PLATFORM_TOKEN_SECONDS = 60;

/**
 * A request token the platform signs for a call it makes to an agency (design.md: "signed the
 * same way by the platform's key"): ES256 with this execution environment's key, whose
 * certificate by the platform key (published at `GET /v1/platform/keys`) rides in the protected
 * header as `dscp_cert`. No KMS call, but the one that certifies the environment's key.
 */
export async function signPlatformToken(keys: EnvironmentKeys, call: PlatformCall): Promise<string> {
  const issuedAt = Math.floor((call.now ?? new Date()).getTime() / 1000);
  const expires = issuedAt + PLATFORM_TOKEN_SECONDS;
  const key = await keys.keyUntil(expires);
  const header = { alg: "ES256", kid: key.kid, typ: "JWT", [CERTIFICATE_HEADER]: key.certificate };
  const claims = {
    iss: call.issuer,
    sub: call.issuer,
    aud: call.audience,
    iat: issuedAt,
    exp: expires,
    jti: randomUUID(),
    htm: call.method.toUpperCase(),
    htu: canonicalTarget(call.path, call.query),
    ...(call.body ? { bdy: bodyDigest(call.body) } : {}),
    ...(call.endUser !== undefined ? { usr: call.endUser } : {}),
    ...(call.caseRef !== undefined ? { case: call.caseRef } : {}),
  };
  const signingInput = jwsSigningInput(header, claims);
  const signature = sign("sha256", Buffer.from(signingInput), { key: key.privateKey, dsaEncoding: "ieee-p1363" });
  return `${signingInput}.${signature.toString("base64url")}`;
}

/** What an agency expects of a platform token, besides a valid signature. */
export interface PlatformTokenExpectations {
  /** The platform's identity: `iss`. */
  readonly issuer: string;
  /** The agency's system id: `aud`. */
  readonly audience: string;
  /** Claims that must be present (`jti`, `htm`, `htu`, `bdy`…). */
  readonly requiredClaims?: readonly string[];
  readonly now?: Date;
  /** Clock skew allowed on expiries (seconds). @default 30 */
  readonly clockToleranceSeconds?: number;
}

/**
 * Verifies a token the platform signed for a call to an agency, with nothing but the platform's
 * published key set (`GET /v1/platform/keys`). A token carrying a `dscp_cert` certificate is
 * verified with the key it certifies, once the certificate is verified (signed by a published
 * key, of its type, unexpired, at most an hour long) and names the token's `kid`, and only if
 * the token expires no later than its certificate; a token without one must be signed by a
 * published key itself. The one verifier the demo provider and consumer, Agent Nodes and tests use.
 */
export async function verifyPlatformToken(
  token: string,
  keySet: JWTVerifyGetKey,
  expected: PlatformTokenExpectations,
): Promise<{ payload: JWTPayload; kid: string; certificate?: KeyCertificateClaims }> {
  const options = {
    issuer: expected.issuer,
    audience: expected.audience,
    algorithms: ["ES256"],
    requiredClaims: [...(expected.requiredClaims ?? []), "exp"],
    clockTolerance: expected.clockToleranceSeconds ?? 30,
    ...(expected.now ? { currentDate: expected.now } : {}),
  };
  let header: ReturnType<typeof decodeProtectedHeader>;
  try {
    header = decodeProtectedHeader(token);
  } catch (error) {
    throw new PlatformTokenError("not a compact JWS", { cause: error });
  }
  const carried = header[CERTIFICATE_HEADER];
  if (carried === undefined) {
    const { payload, protectedHeader } = await jwtVerify(token, keySet, options);
    return { payload, kid: String(protectedHeader.kid) };
  }
  if (typeof carried !== "string") throw new PlatformTokenError(`${CERTIFICATE_HEADER} is not a compact JWS`);
  const { claims: certificate, key } = await certifiedKey(carried, keySet, expected);
  if (header.kid !== certificate.kid) throw new PlatformTokenError("the token's kid is not the certified key's");
  const { payload } = await jwtVerify(token, await key, options);
  if ((payload.exp ?? Number.POSITIVE_INFINITY) > certificate.exp) {
    throw new PlatformTokenError("the token outlives its key's certificate");
  }
  return { payload, kid: certificate.kid, certificate };
}

/**
 * How long a verifier relies on a key certificate it verified before verifying it again (within
 * the certificate's own lifetime, re-checked every time): a key withdrawn from the platform's
 * published set stops certifying within this bound. Every token is still verified in full.
 */
export const CERTIFICATE_REVERIFY_MS = 5 * 60_000;
/** Certificates remembered per key set: an environment's key is certified once an hour. */
const MAX_REMEMBERED_CERTIFICATES = 256;

interface VerifiedCertificate {
  readonly claims: KeyCertificateClaims;
  readonly key: ReturnType<typeof importJWK>;
  readonly verifiedAt: number;
}

const verifiedCertificates = new WeakMap<JWTVerifyGetKey, Map<string, VerifiedCertificate>>();

/**
 * A certificate's claims and the key it certifies, verified with `keySet` (at most
 * {@link CERTIFICATE_REVERIFY_MS} ago): every platform call carries one, and an execution
 * environment's certificate is the same for an hour, so a provider verifies it once, not on
 * every call.
 */
async function certifiedKey(
  certificate: string,
  keySet: JWTVerifyGetKey,
  expected: PlatformTokenExpectations,
): Promise<VerifiedCertificate> {
  const now = expected.now?.getTime() ?? Date.now();
  const tolerance = (expected.clockToleranceSeconds ?? 30) * 1000;
  let remembered = verifiedCertificates.get(keySet);
  const known = remembered?.get(certificate);
  if (
    known &&
    now >= known.verifiedAt &&
    now - known.verifiedAt < CERTIFICATE_REVERIFY_MS &&
    known.claims.exp * 1000 + tolerance >= now
  ) {
    return known;
  }
  const claims = await verifyKeyCertificate(certificate, keySet, expected);
  const verified = { claims, key: importJWK({ ...claims.jwk }, "ES256"), verifiedAt: now };
  if (!remembered) {
    remembered = new Map();
    verifiedCertificates.set(keySet, remembered);
  }
  remembered.delete(certificate);
  if (remembered.size >= MAX_REMEMBERED_CERTIFICATES) remembered.delete(remembered.keys().next().value as string);
  remembered.set(certificate, verified);
  return verified;
}

/** The platform's public key as a JWK Set entry. */
export async function platformJwk(signer: PlatformSigner): Promise<Record<string, string>> {
  const { createPublicKey } = await import("node:crypto");
  const jwk = createPublicKey({ key: Buffer.from(await signer.publicKey()), format: "der", type: "spki" }).export({
    format: "jwk",
  });
  return {
    kty: String(jwk.kty),
    crv: String(jwk.crv),
    x: String(jwk.x),
    y: String(jwk.y),
    kid: signer.keyId,
    alg: "ES256",
    use: "sig",
  };
}
