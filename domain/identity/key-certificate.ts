import { createHash, generateKeyPairSync, type KeyObject } from "node:crypto";
import { type JWTVerifyGetKey, jwtVerify } from "jose";
import { DependencyUnavailableError } from "../problem.ts";
import { PlatformTokenError } from "./errors.ts";
import { derToJose, jwsSigningInput } from "./es256.ts";
import type { PlatformSigner } from "./platform-token.ts";

/** `typ` of a key certificate: a compact JWS, signed by a published platform key. */
export const KEY_CERTIFICATE_TYPE = "dscp-key-cert+jwt";

/** Protected-header parameter of a platform token that carries its signing key's certificate. */
export const CERTIFICATE_HEADER = "dscp_cert";

/** No environment key is certified for longer than this (seconds); verifiers refuse longer ones. */
export const MAX_CERTIFICATE_SECONDS = 3600;

/** An environment key is certified anew once its certificate is this old (seconds). */
export const RENEW_AFTER_SECONDS = 3000;

/** How long a caller asked to retry after the platform key could not certify (seconds). */
export const CERTIFICATION_RETRY_AFTER_SECONDS = 2;

/** The public half of an environment key (P-256), as certified. */
export interface EnvironmentJwk {
  readonly kty: "EC";
  readonly crv: "P-256";
  readonly x: string;
  readonly y: string;
}

/** What a key certificate states: this key, named `kid`, speaks for the platform from `iat` to `exp`. */
export interface KeyCertificateClaims {
  readonly kid: string;
  readonly jwk: EnvironmentJwk;
  readonly iat: number;
  readonly exp: number;
}

/** An environment key ready to sign platform tokens until `expires` (seconds since the epoch). */
export interface CertifiedKey {
  readonly kid: string;
  /** The compact JWS certificate carried in each token's `dscp_cert` header. */
  readonly certificate: string;
  readonly expires: number;
  readonly privateKey: KeyObject;
}

/** The signing keys of one execution environment: one certified key at a time, renewed before it expires. */
export interface EnvironmentKeys {
  /** A key whose certificate is valid at least until `until` (seconds since the epoch). */
  keyUntil(until: number): Promise<CertifiedKey>;
}

/** The platform key could not certify an environment key (KMS throttled or unavailable): 503, retry later. */
export class KeyCertificationError extends DependencyUnavailableError {
  constructor(options?: ErrorOptions) {
    super("the platform's signing key is unavailable; retry shortly", {
      ...options,
      retryAfterSeconds: CERTIFICATION_RETRY_AFTER_SECONDS,
    });
  }
}

/**
 * Signs a certificate for `key` with the platform key: one KMS Sign. The validity is `iat` to
 * `exp`, which must be positive and at most {@link MAX_CERTIFICATE_SECONDS} long.
 */
export async function certifyKey(platform: PlatformSigner, claims: KeyCertificateClaims): Promise<string> {
  if (!(claims.exp > claims.iat && claims.exp - claims.iat <= MAX_CERTIFICATE_SECONDS)) {
    throw new RangeError(`a key certificate is valid for at most ${MAX_CERTIFICATE_SECONDS} s`);
  }
  const header = { alg: "ES256", kid: platform.keyId, typ: KEY_CERTIFICATE_TYPE };
  const payload = { kid: claims.kid, jwk: claims.jwk, iat: claims.iat, exp: claims.exp };
  const signingInput = jwsSigningInput(header, payload);
  const der = await platform.sign(Buffer.from(signingInput));
  return `${signingInput}.${Buffer.from(derToJose(der, 32)).toString("base64url")}`;
}

/**
 * The keys of this execution environment: a P-256 key pair made in memory at first use and
 * certified once by the platform key, then used for every token until its certificate is
 * {@link RENEW_AFTER_SECONDS} old (or would expire before the token), when a new pair is made
 * and certified. One KMS Sign per environment per renewal, not one per token. While a renewal
 * fails, the old key keeps signing tokens its certificate still covers.
 */
export function environmentKeys(
  platform: PlatformSigner,
  options: { readonly now?: () => Date; readonly lifetimeSeconds?: number } = {},
): EnvironmentKeys {
  const now = () => Math.floor((options.now ?? (() => new Date()))().getTime() / 1000);
  const lifetime = Math.min(options.lifetimeSeconds ?? MAX_CERTIFICATE_SECONDS, MAX_CERTIFICATE_SECONDS);
  const renewAfter = Math.min(RENEW_AFTER_SECONDS, Math.floor((lifetime * 5) / 6));
  let ready: (CertifiedKey & { readonly renewAt: number }) | undefined;
  let pending: Promise<CertifiedKey & { readonly renewAt: number }> | undefined;

  const certifyNew = async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const exported = publicKey.export({ format: "jwk" });
    const jwk: EnvironmentJwk = { kty: "EC", crv: "P-256", x: String(exported.x), y: String(exported.y) };
    const kid = jwkThumbprint(jwk);
    const iat = now();
    try {
      const certificate = await certifyKey(platform, { kid, jwk, iat, exp: iat + lifetime });
      return { kid, certificate, expires: iat + lifetime, privateKey, renewAt: iat + renewAfter };
    } catch (error) {
      throw new KeyCertificationError({ cause: error });
    }
  };

  return {
    async keyUntil(until) {
      const current = ready;
      if (current && now() < current.renewAt && current.expires >= until) return current;
      pending ??= certifyNew().finally(() => {
        pending = undefined;
      });
      try {
        ready = await pending;
      } catch (error) {
        if (current && current.expires >= until) return current;
        throw error;
      }
      if (ready.expires < until) throw new RangeError(`no key is certified until ${until}`);
      return ready;
    },
  };
}

/**
 * Verifies a key certificate with the platform's published key set: signed by the published key
 * its `kid` names, of type `dscp-key-cert+jwt`, issued at most an hour before it expires, not
 * yet expired (give or take `clockToleranceSeconds`), for a P-256 key whose thumbprint is its `kid`.
 */
export async function verifyKeyCertificate(
  certificate: string,
  keySet: JWTVerifyGetKey,
  options: { readonly now?: Date; readonly clockToleranceSeconds?: number } = {},
): Promise<KeyCertificateClaims> {
  let claims: Record<string, unknown>;
  try {
    ({ payload: claims } = await jwtVerify(certificate, keySet, {
      typ: KEY_CERTIFICATE_TYPE,
      algorithms: ["ES256"],
      requiredClaims: ["kid", "jwk", "iat", "exp"],
      maxTokenAge: MAX_CERTIFICATE_SECONDS,
      clockTolerance: options.clockToleranceSeconds ?? 30,
      ...(options.now ? { currentDate: options.now } : {}),
    }));
  } catch (error) {
    throw new PlatformTokenError(`the key certificate does not verify: ${(error as Error).message}`, { cause: error });
  }
  const { kid, jwk, iat, exp } = claims as {
    kid: unknown;
    jwk: Partial<EnvironmentJwk> | null;
    iat: number;
    exp: number;
  };
  if (exp - iat > MAX_CERTIFICATE_SECONDS) {
    throw new PlatformTokenError(`the key certificate is valid for more than ${MAX_CERTIFICATE_SECONDS} s`);
  }
  if (
    typeof jwk !== "object" ||
    jwk === null ||
    jwk.kty !== "EC" ||
    jwk.crv !== "P-256" ||
    typeof jwk.x !== "string" ||
    typeof jwk.y !== "string"
  ) {
    throw new PlatformTokenError("the key certificate does not hold a P-256 public key");
  }
  const certified: EnvironmentJwk = { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y };
  if (kid !== jwkThumbprint(certified)) throw new PlatformTokenError("the certified kid is not its key's thumbprint");
  return { kid, jwk: certified, iat, exp };
}

/** RFC 7638 thumbprint of an EC public key: its `kid`. */
export function jwkThumbprint(jwk: EnvironmentJwk): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash("sha256").update(canonical).digest("base64url");
}
