import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import type { TokenAlgorithm } from "../domain/identity/request-token.ts";
import type { SigningIdentity } from "./sign.ts";

/** What a key file holds: the signing identity and the public half to register. */
export interface IdentityFile extends SigningIdentity {
  readonly publicJwk: JWK;
}

/** Generates a key pair for a system; `kid` defaults to a dated, random id. */
export async function generateIdentity(
  systemId: string,
  alg: TokenAlgorithm = "EdDSA",
  kid?: string,
): Promise<IdentityFile> {
  const { privateKey, publicKey } = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === "EdDSA" ? { crv: "Ed25519" } : {}),
  });
  const keyId = kid ?? `${new Date().toISOString().slice(0, 10)}-${randomBytes(4).toString("hex")}`;
  return { systemId, kid: keyId, alg, privateJwk: await exportJWK(privateKey), publicJwk: await exportJWK(publicKey) };
}

/** Where a system's key file lives in a keys folder. */
export function identityPath(directory: string, systemId: string): string {
  return join(directory, `${systemId}.json`);
}

/** Writes a key file readable by its owner only. */
export function saveIdentity(directory: string, identity: IdentityFile): string {
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const path = identityPath(directory, identity.systemId);
  writeFileSync(path, `${JSON.stringify(identity, null, 2)}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return path;
}

export function loadIdentity(path: string): IdentityFile {
  return JSON.parse(readFileSync(path, "utf8")) as IdentityFile;
}

/** The system's key file in `directory`, created with a fresh key pair when missing. */
export async function ensureIdentity(directory: string, systemId: string): Promise<IdentityFile> {
  const path = identityPath(directory, systemId);
  if (existsSync(path)) return loadIdentity(path);
  const identity = await generateIdentity(systemId);
  saveIdentity(directory, identity);
  return identity;
}
