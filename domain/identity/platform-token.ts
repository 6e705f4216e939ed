import { randomUUID } from "node:crypto";
import { bodyDigest, canonicalTarget } from "./request-token.ts";

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
  readonly now?: Date;
}

/**
 * A request token the platform signs for a call it makes to an agency (design.md: "signed the
 * same way by the platform's key"), ES256 with the key published at `GET /v1/platform/keys`.
 */
export async function signPlatformToken(signer: PlatformSigner, call: PlatformCall): Promise<string> {
  const issuedAt = Math.floor((call.now ?? new Date()).getTime() / 1000);
  const header = { alg: "ES256", kid: signer.keyId, typ: "JWT" };
  const claims = {
    iss: call.issuer,
    sub: call.issuer,
    aud: call.audience,
    iat: issuedAt,
    exp: issuedAt + 60,
    jti: randomUUID(),
    htm: call.method.toUpperCase(),
    htu: canonicalTarget(call.path, call.query),
    ...(call.body ? { bdy: bodyDigest(call.body) } : {}),
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const der = await signer.sign(Buffer.from(signingInput));
  return `${signingInput}.${Buffer.from(derToJose(der, 32)).toString("base64url")}`;
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

function base64url(text: string): string {
  return Buffer.from(text).toString("base64url");
}

/** DER `SEQUENCE { INTEGER r, INTEGER s }` to JOSE's fixed-length `r || s`. */
export function derToJose(der: Uint8Array, size: number): Uint8Array {
  const bytes = Buffer.from(der);
  let offset = 2;
  if (bytes[1] !== undefined && bytes[1] & 0x80) offset += bytes[1] & 0x7f;
  const integer = () => {
    if (bytes[offset] !== 0x02) throw new Error("not a DER ECDSA signature");
    const length = bytes[offset + 1] ?? 0;
    const value = bytes.subarray(offset + 2, offset + 2 + length);
    offset += 2 + length;
    const trimmed = value.subarray(Math.max(0, value.length - size));
    return Buffer.concat([Buffer.alloc(size - trimmed.length), trimmed]);
  };
  return Buffer.concat([integer(), integer()]);
}
