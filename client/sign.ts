import { randomUUID } from "node:crypto";
import { importJWK, type JWK, SignJWT } from "jose";
import { bodyDigest, canonicalTarget, type TokenAlgorithm } from "../domain/identity/request-token.ts";

/** A system's signing identity: its id, the registered key's id and the private half. */
export interface SigningIdentity {
  readonly systemId: string;
  readonly kid: string;
  readonly alg: TokenAlgorithm;
  readonly privateJwk: JWK;
}

export interface RequestToSign {
  readonly method: string;
  /** Path below the API's base URL, e.g. `/v1/agencies`. */
  readonly path: string;
  readonly query?: Iterable<readonly [string, string]>;
  readonly body?: string | Uint8Array;
}

/**
 * Signs one request as design.md specifies: `iss` = `sub` = the system, `aud` the platform,
 * a fresh `jti`, the method, the canonical target and, when there is a body, its digest.
 */
export async function signRequest(
  identity: SigningIdentity,
  audience: string,
  request: RequestToSign,
  options: { now?: Date; lifetimeSeconds?: number; jti?: string; endUser?: string; caseRef?: string } = {},
): Promise<string> {
  const issuedAt = Math.floor((options.now ?? new Date()).getTime() / 1000);
  const key = await importJWK(identity.privateJwk, identity.alg);
  const hasBody = request.body !== undefined && request.body.length > 0;
  return new SignJWT({
    htm: request.method.toUpperCase(),
    htu: canonicalTarget(request.path, request.query),
    ...(hasBody ? { bdy: bodyDigest(request.body as string | Uint8Array) } : {}),
    ...(options.endUser !== undefined ? { usr: options.endUser } : {}),
    ...(options.caseRef !== undefined ? { case: options.caseRef } : {}),
  })
    .setProtectedHeader({ alg: identity.alg, kid: identity.kid, typ: "JWT" })
    .setIssuer(identity.systemId)
    .setSubject(identity.systemId)
    .setAudience(audience)
    .setIssuedAt(issuedAt)
    .setExpirationTime(issuedAt + (options.lifetimeSeconds ?? 120))
    .setJti(options.jti ?? randomUUID())
    .sign(key);
}
