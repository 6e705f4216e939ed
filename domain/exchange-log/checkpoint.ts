import { createHash, createPublicKey, type JsonWebKey, verify } from "node:crypto";
import { derToJose, type PlatformSigner } from "../identity/platform-token.ts";
import { type ChainedEntry, canonicalJson, chainHash, GENESIS_HASH } from "./chain.ts";

/** The `typ` of a checkpoint's protected header: a compact JWS whose payload is the checkpoint. */
export const CHECKPOINT_TYPE = "dscp-log-checkpoint+jws";

/** Where a shard's chain stood when a checkpoint was taken, and the archived entries it adds. */
export interface CheckpointShard {
  readonly shard: number;
  /** The last entry the checkpoint commits to (0 and the genesis hash before the first). */
  readonly seq: number;
  readonly hash: string;
  /** The entries after the previous checkpoint's head up to `seq`, archived beside it. */
  readonly segment?: {
    readonly key: string;
    readonly fromSeq: number;
    readonly toSeq: number;
    /** SHA-256 (hex) of the segment object's bytes. */
    readonly sha256: string;
  };
}

/**
 * A signed statement of every shard's head at a time: once published, the log below these heads
 * cannot be truncated, rewound or rewritten without the table disagreeing with it.
 */
export interface Checkpoint {
  /** The platform that signed it (its audience). */
  readonly issuer: string;
  /** 1 for the first checkpoint, then one more each time. */
  readonly number: number;
  readonly time: string;
  /** SHA-256 (hex) of the previous checkpoint's JWS, null for the first: checkpoints form a chain too. */
  readonly previous: string | null;
  readonly shards: readonly CheckpointShard[];
}

/** A checkpoint and the compact JWS (ES256, the platform key) that carries and signs it. */
export interface SignedCheckpoint {
  readonly checkpoint: Checkpoint;
  readonly jws: string;
}

/** Thrown when a checkpoint does not verify; `reason` says why, for a person to read. */
export class CheckpointVerificationError extends Error {
  override readonly name = "CheckpointVerificationError";
}

/** Signs a checkpoint with the platform's key: a compact JWS over its canonical JSON. */
export async function signCheckpoint(signer: PlatformSigner, checkpoint: Checkpoint): Promise<SignedCheckpoint> {
  const header = Buffer.from(JSON.stringify({ alg: "ES256", kid: signer.keyId, typ: CHECKPOINT_TYPE })).toString(
    "base64url",
  );
  const payload = Buffer.from(canonicalJson(checkpoint)).toString("base64url");
  const der = await signer.sign(Buffer.from(`${header}.${payload}`));
  return { checkpoint, jws: `${header}.${payload}.${Buffer.from(derToJose(der, 32)).toString("base64url")}` };
}

/**
 * Verifies a checkpoint's JWS with the platform's published key set (`GET /v1/platform/keys`)
 * and returns the checkpoint it signs. Needs nothing but the JWS and the keys: works offline.
 * @throws CheckpointVerificationError naming what is wrong.
 */
export function verifyCheckpoint(jws: string, keys: readonly (JsonWebKey & { kid?: string })[]): Checkpoint {
  const parts = jws.trim().split(".");
  const [header, payload, signature] = parts;
  if (parts.length !== 3 || !header || !payload || !signature) {
    throw new CheckpointVerificationError("not a compact JWS (header.payload.signature)");
  }
  let protectedHeader: { alg?: unknown; kid?: unknown; typ?: unknown };
  let checkpoint: Checkpoint;
  try {
    protectedHeader = JSON.parse(Buffer.from(header, "base64url").toString("utf8"));
    checkpoint = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
  } catch {
    throw new CheckpointVerificationError("its header or payload is not base64url JSON");
  }
  if (protectedHeader.typ !== CHECKPOINT_TYPE)
    throw new CheckpointVerificationError(`its type is ${String(protectedHeader.typ)}, not ${CHECKPOINT_TYPE}`);
  if (protectedHeader.alg !== "ES256")
    throw new CheckpointVerificationError(`it is signed with ${String(protectedHeader.alg)}, not ES256`);
  const key = keys.find((candidate) => candidate.kid === protectedHeader.kid);
  if (!key) {
    throw new CheckpointVerificationError(
      `it names key ${String(protectedHeader.kid)}, which is not among the platform's published keys`,
    );
  }
  let valid: boolean;
  try {
    valid = verify(
      "sha256",
      Buffer.from(`${header}.${payload}`),
      { key: createPublicKey({ key, format: "jwk" }), dsaEncoding: "ieee-p1363" },
      Buffer.from(signature, "base64url"),
    );
  } catch (error) {
    throw new CheckpointVerificationError(`its signature cannot be checked: ${(error as Error).message}`);
  }
  if (!valid)
    throw new CheckpointVerificationError("its signature does not verify: it is not what the platform signed");
  if (!isCheckpoint(checkpoint)) throw new CheckpointVerificationError("its payload is not a checkpoint");
  return checkpoint;
}

function isCheckpoint(value: unknown): value is Checkpoint {
  const candidate = value as Partial<Checkpoint> | null;
  return (
    typeof candidate === "object" &&
    candidate !== null &&
    typeof candidate.issuer === "string" &&
    Number.isSafeInteger(candidate.number) &&
    typeof candidate.time === "string" &&
    (candidate.previous === null || typeof candidate.previous === "string") &&
    Array.isArray(candidate.shards) &&
    candidate.shards.every(
      (shard) =>
        typeof shard === "object" &&
        shard !== null &&
        Number.isSafeInteger(shard.shard) &&
        Number.isSafeInteger(shard.seq) &&
        typeof shard.hash === "string",
    )
  );
}

/**
 * The checkpoint a JWS carries, read without checking the signature (to publish what the
 * archive holds; readers verify it themselves with {@link verifyCheckpoint}).
 */
export function decodeCheckpoint(jws: string): SignedCheckpoint {
  const payload = jws.trim().split(".")[1] ?? "";
  const checkpoint = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as unknown;
  if (!isCheckpoint(checkpoint)) throw new CheckpointVerificationError("its payload is not a checkpoint");
  return { checkpoint, jws: jws.trim() };
}

/** What a checkpoint's successor names as `previous`. */
export function checkpointDigest(jws: string): string {
  return createHash("sha256").update(jws.trim()).digest("hex");
}

/** A shard's head in a checkpoint; the genesis when the checkpoint has nothing of that shard. */
export function headIn(checkpoint: Checkpoint | undefined, shard: number): { seq: number; hash: string } {
  const found = checkpoint?.shards.find((candidate) => candidate.shard === shard);
  return found ? { seq: found.seq, hash: found.hash } : { seq: 0, hash: GENESIS_HASH };
}

/** An archived segment: one entry per line, canonical JSON. */
export function segmentBody(entries: readonly ChainedEntry[]): Buffer {
  return Buffer.from(entries.map((entry) => `${canonicalJson(entry)}\n`).join(""));
}

export function parseSegment(body: Buffer | string): ChainedEntry[] {
  return body
    .toString()
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as ChainedEntry);
}

export function sha256Hex(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

/**
 * The longest run of `entries` (read in sequence order) that continues the chain from `after`:
 * each entry is the next one, links to the previous hash and hashes to what it says. A
 * checkpoint extends a shard only over such a run, never over a break.
 */
export function soundPrefix(
  entries: readonly ChainedEntry[],
  after: { seq: number; hash: string },
): { sound: ChainedEntry[]; break?: { seq: number; reason: string } } {
  const sound: ChainedEntry[] = [];
  let { seq, hash } = after;
  for (const entry of entries) {
    const { shard, seq: at, prevHash, hash: own, ...content } = entry;
    const reason =
      at !== seq + 1
        ? `entry ${seq + 1} is missing (next is ${at})`
        : prevHash !== hash
          ? `entry ${at} does not link to entry ${seq}`
          : chainHash(prevHash, content, shard, at) !== own
            ? `entry ${at} was altered`
            : undefined;
    if (reason) return { sound, break: { seq: seq + 1, reason } };
    sound.push(entry);
    seq = at;
    hash = own;
  }
  return { sound };
}
