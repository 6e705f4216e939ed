import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { exportJWK, generateKeyPair, type JWK } from "jose";
import type { SigningIdentity } from "../client/sign.ts";

/*
 * The node's own keys (Art. 7.3d): made on the node, the private halves never leave its key file
 * (mode 0600). Rotation overlaps: `keygen --next` adds a key, the operator registers it, the
 * node's `platform.kids` lists it, and the node signs with it; the old one stays until removed.
 */

/** One key of the node's key file, oldest first. */
export interface NodeKey {
  readonly kid: string;
  readonly alg: "ES256";
  readonly privateJwk: JWK;
  readonly createdAt: string;
}

/** What the key file holds. */
export interface NodeKeyFile {
  readonly systemId: string;
  readonly keys: readonly NodeKey[];
}

/** The key file is missing, malformed, too readable, or does not hold the key asked for. */
export class KeyFileError extends Error {
  override readonly name = "KeyFileError";
}

/** A fresh P-256 (ES256) key; `kid` defaults to a dated, random id. */
export async function generateNodeKey(kid?: string, now: Date = new Date()): Promise<NodeKey> {
  const { privateKey } = await generateKeyPair("ES256", { extractable: true });
  const keyId = kid ?? `${now.toISOString().slice(0, 10)}-${randomBytes(4).toString("hex")}`;
  return { kid: keyId, alg: "ES256", privateJwk: await exportJWK(privateKey), createdAt: now.toISOString() };
}

/** The public half of a key, as the platform registers it. */
export function publicJwkOf(key: NodeKey): JWK {
  const { d: _private, ...jwk } = key.privateJwk;
  return { ...jwk, kid: key.kid, alg: "ES256", use: "sig" };
}

/** Reads the key file, refusing one that group or others may read. */
export function loadKeyFile(path: string): NodeKeyFile {
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch (error) {
    throw new KeyFileError(`no key file ${path}: run dscp-agent keygen first`, { cause: error });
  }
  if ((mode & 0o077) !== 0) {
    throw new KeyFileError(
      `key file ${path} is readable by group or others (mode ${(mode & 0o777).toString(8)}): chmod 600 ${path}`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new KeyFileError(`key file ${path} is not JSON: ${(error as Error).message}`, { cause: error });
  }
  const file = parsed as Partial<NodeKeyFile>;
  const wellFormed =
    typeof file.systemId === "string" &&
    Array.isArray(file.keys) &&
    file.keys.length > 0 &&
    file.keys.every(
      (key) =>
        typeof key?.kid === "string" && key.alg === "ES256" && typeof key.privateJwk?.d === "string" && key.createdAt,
    );
  if (!wellFormed) throw new KeyFileError(`key file ${path} is not a dscp-agent key file (systemId, keys[])`);
  return file as NodeKeyFile;
}

/** Writes the key file readable by its owner only, replacing it atomically. */
export function saveKeyFile(path: string, file: NodeKeyFile): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.tmp`);
  writeFileSync(temporary, `${JSON.stringify(file, null, 2)}\n`, { mode: 0o600 });
  chmodSync(temporary, 0o600);
  renameSync(temporary, path);
}

/**
 * The key the node signs with: the newest key of the file that the platform has accepted
 * (`kids`, from the local configuration), or, with no list, the oldest (the one registered at
 * enrolment, so that a `--next` key is not used before the platform knows it).
 */
export function signingKey(file: NodeKeyFile, kids?: readonly string[]): NodeKey {
  const accepted = kids ? file.keys.filter((key) => kids.includes(key.kid)) : file.keys.slice(0, 1);
  const key = accepted.at(-1);
  if (!key) {
    throw new KeyFileError(
      `platform.kids: none of ${kids?.join(", ")} is in the key file (it holds ${file.keys.map((k) => k.kid).join(", ")})`,
    );
  }
  return key;
}

/** The signing identity for client/sign.ts. */
export function signingIdentity(file: NodeKeyFile, kids?: readonly string[]): SigningIdentity {
  const key = signingKey(file, kids);
  return { systemId: file.systemId, kid: key.kid, alg: "ES256", privateJwk: key.privateJwk };
}

/** What `keygen` did, and what the operator runs next. */
export interface KeygenResult {
  readonly keyFile: string;
  readonly key: NodeKey;
  readonly publicJwk: JWK;
  /** Public-only file the operator's `dscp` reads (`--public-key`): `<keyFile folder>/public/<systemId>.json`. */
  readonly publicFile: string;
  /** The `dscp` command that registers the key. */
  readonly register: string;
}

/**
 * `dscp-agent keygen`: a first key (`next` false; refuses to replace a key file unless `force`),
 * or a next key for rotation, added beside the current ones.
 */
export async function keygen(options: {
  readonly keyFile: string;
  readonly systemId: string;
  readonly next?: boolean;
  readonly force?: boolean;
  readonly kid?: string;
}): Promise<KeygenResult> {
  const exists = existsSync(options.keyFile);
  if (options.next && !exists)
    throw new KeyFileError(`no key file ${options.keyFile}: run keygen without --next first`);
  if (!options.next && exists && !options.force) {
    throw new KeyFileError(`${options.keyFile} exists; --next adds a key for rotation, --force replaces the file`);
  }
  const current = options.next ? loadKeyFile(options.keyFile) : undefined;
  if (current && current.systemId !== options.systemId) {
    throw new KeyFileError(`${options.keyFile} belongs to ${current.systemId}, not ${options.systemId}`);
  }
  const key = await generateNodeKey(options.kid);
  if (current?.keys.some((held) => held.kid === key.kid))
    throw new KeyFileError(`key ${key.kid} is already in the file`);
  saveKeyFile(options.keyFile, { systemId: options.systemId, keys: [...(current?.keys ?? []), key] });
  const publicJwk = publicJwkOf(key);
  const publicDir = join(dirname(options.keyFile), "public");
  const publicFile = join(publicDir, `${options.systemId}.json`);
  mkdirSync(publicDir, { recursive: true });
  writeFileSync(publicFile, `${JSON.stringify({ systemId: options.systemId, kid: key.kid, publicJwk }, null, 2)}\n`);
  const register = options.next
    ? `npx dscp keys add ${options.systemId} --public-key ${publicFile}`
    : `npx dscp systems add ${options.systemId} --public-key ${publicFile} --name "<system name>" --capabilities provider,consumer --endpoint <the node's provider URL>`;
  return { keyFile: options.keyFile, key, publicJwk, publicFile, register };
}

/** Removes a key the platform no longer accepts (after `dscp keys revoke`); the last key stays. */
export function removeKey(keyFile: string, kid: string): NodeKeyFile {
  const file = loadKeyFile(keyFile);
  if (!file.keys.some((key) => key.kid === kid)) throw new KeyFileError(`key ${kid} is not in ${keyFile}`);
  if (file.keys.length === 1) throw new KeyFileError(`key ${kid} is the only key in ${keyFile}`);
  const kept = { ...file, keys: file.keys.filter((key) => key.kid !== kid) };
  saveKeyFile(keyFile, kept);
  return kept;
}
