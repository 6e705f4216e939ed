import type { JsonWebKey } from "node:crypto";
import { type PlatformSigner, platformJwk } from "../identity/platform-token.ts";
import { type ChainedEntry, GENESIS_HASH, type LogFinding, type ShardVerdict, ShardVerifier } from "./chain.ts";
import {
  type Checkpoint,
  type CheckpointShard,
  CheckpointVerificationError,
  checkpointDigest,
  headIn,
  type SignedCheckpoint,
  segmentBody,
  sha256Hex,
  signCheckpoint,
  soundPrefix,
  verifyCheckpoint,
} from "./checkpoint.ts";

/** A checkpoint as the archive holds it: its object key and its JWS. */
export interface StoredCheckpoint {
  readonly key: string;
  readonly jws: string;
}

/** The write-once archive of checkpoints and the entries they cover (S3 under Object Lock). */
export interface LogArchive {
  /** Stores a shard's entries (in order) as a segment; returns its key. Never replaces an object. */
  putSegment(shard: number, entries: readonly ChainedEntry[], body: Buffer): Promise<string>;
  putCheckpoint(number: number, jws: string): Promise<void>;
  latest(): Promise<StoredCheckpoint | undefined>;
  /** Newest first, after checkpoint `afterNumber` when given (that is, older than it). */
  list(limit: number, afterNumber?: number): Promise<{ items: StoredCheckpoint[]; more: boolean }>;
  /** A shard's segments, in sequence order. */
  segments(shard: number): AsyncIterable<{ key: string; entries: ChainedEntry[] }>;
}

/** Another writer archived the same object first (two checkpoints taken at once). */
export class ArchiveConflictError extends Error {
  override readonly name = "ArchiveConflictError";
  constructor(key: string, options?: ErrorOptions) {
    super(`${key} is already in the archive`, options);
  }
}

/** What the checkpointer reads from the log table. */
export interface ChainSource {
  readShard(shard: number, afterSeq: number, limit?: number): Promise<{ entries: ChainedEntry[]; more: boolean }>;
}

/** Entries one checkpoint archives per shard at most; the next one goes on from there. */
export const MAX_ENTRIES_PER_SHARD = 20_000;

export interface CheckpointRun {
  readonly signed: SignedCheckpoint;
  /** Shards whose table chain does not continue the previous checkpoint: not extended, and why. */
  readonly refused: ReadonlyArray<{ shard: number; seq: number; reason: string }>;
}

/**
 * Takes a checkpoint: for each shard, reads the entries after the previous checkpoint's head,
 * extends the shard over those that continue its chain soundly (never over a break: a table
 * rewritten below the previous head stays exposed), archives them as a segment, then signs
 * every shard's head with the platform's key and archives the checkpoint, chained to the
 * previous one by its digest.
 */
export async function takeCheckpoint(options: CheckpointOptions): Promise<CheckpointRun> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await checkpointOnce(options);
    } catch (error) {
      // Taken at the same time as another: start again from the one that won.
      if (!(error instanceof ArchiveConflictError) || attempt >= 3) throw error;
    }
  }
}

export interface CheckpointOptions {
  readonly source: ChainSource;
  readonly archive: LogArchive;
  readonly signer: PlatformSigner;
  readonly issuer: string;
  readonly shards: number;
  readonly now?: Date;
}

async function checkpointOnce(options: CheckpointOptions): Promise<CheckpointRun> {
  const { source, archive, signer } = options;
  const previous = await latestCheckpoint(archive, [await publicJwk(signer)]);
  const refused: Array<{ shard: number; seq: number; reason: string }> = [];
  const shards: CheckpointShard[] = [];
  for (let shard = 0; shard < options.shards; shard++) {
    const start = headIn(previous?.checkpoint, shard);
    const fresh: ChainedEntry[] = [];
    let after = start.seq;
    for (;;) {
      const { entries, more } = await source.readShard(shard, after, 500);
      fresh.push(...entries);
      if (!more || entries.length === 0 || fresh.length >= MAX_ENTRIES_PER_SHARD) break;
      after = (entries.at(-1) as ChainedEntry).seq;
    }
    const { sound, break: broken } = soundPrefix(fresh.slice(0, MAX_ENTRIES_PER_SHARD), start);
    if (broken) refused.push({ shard, ...broken });
    const last = sound.at(-1);
    if (!last) {
      shards.push({ shard, ...start });
      continue;
    }
    const body = segmentBody(sound);
    const key = await archive.putSegment(shard, sound, body);
    shards.push({
      shard,
      seq: last.seq,
      hash: last.hash,
      segment: { key, fromSeq: start.seq + 1, toSeq: last.seq, sha256: sha256Hex(body) },
    });
  }
  const checkpoint: Checkpoint = {
    issuer: options.issuer,
    number: (previous?.checkpoint.number ?? 0) + 1,
    time: (options.now ?? new Date()).toISOString(),
    previous: previous ? checkpointDigest(previous.jws) : null,
    shards,
  };
  const signed = await signCheckpoint(signer, checkpoint);
  await archive.putCheckpoint(checkpoint.number, signed.jws);
  return { signed, refused };
}

/** The latest checkpoint in the archive, verified with `keys`; undefined before the first. */
export async function latestCheckpoint(
  archive: LogArchive,
  keys: readonly (JsonWebKey & { kid?: string })[],
): Promise<SignedCheckpoint | undefined> {
  const stored = await archive.latest();
  if (!stored) return undefined;
  return { checkpoint: verifyCheckpoint(stored.jws, keys), jws: stored.jws };
}

/** The platform's public key as a JWK named by its key id, to verify its own checkpoints with. */
export async function publicJwk(signer: PlatformSigner): Promise<JsonWebKey & { kid: string }> {
  return (await platformJwk(signer)) as JsonWebKey & { kid: string };
}

/**
 * Where a shard of the table first differs from the archive, up to a checkpointed head: the
 * archive's segments are checked to chain from the genesis (so they are what the signed head
 * commits to) and compared entry by entry with the table's. Undefined when they agree.
 */
export async function firstDivergence(
  table: ChainSource,
  archive: LogArchive,
  shard: number,
  checkpointed: { checkpoint: number; seq: number; hash: string },
): Promise<LogFinding | undefined> {
  let expected = { seq: 0, hash: GENESIS_HASH };
  let tablePage: ChainedEntry[] = [];
  let tableIndex = 0;
  let tableMore = true;
  const nextTableEntry = async (): Promise<ChainedEntry | undefined> => {
    if (tableIndex >= tablePage.length) {
      if (!tableMore) return undefined;
      const page = await table.readShard(shard, expected.seq, 500);
      tablePage = page.entries;
      tableIndex = 0;
      tableMore = page.more;
      if (tablePage.length === 0) return undefined;
    }
    return tablePage[tableIndex++];
  };
  for await (const segment of archive.segments(shard)) {
    const first = segment.entries[0];
    if (!first || first.seq !== expected.seq + 1) continue;
    const { sound, break: broken } = soundPrefix(segment.entries, expected);
    if (broken) {
      return {
        kind: "rewritten",
        seq: broken.seq,
        reason: `the archive does not hold together at entry ${broken.seq} (${segment.key}: ${broken.reason})`,
      };
    }
    for (const archived of sound) {
      if (archived.seq > checkpointed.seq) return undefined;
      const stored = await nextTableEntry();
      if (stored === undefined || stored.seq !== archived.seq) return undefined;
      if (stored.hash !== archived.hash) {
        return {
          kind: "rewritten",
          seq: archived.seq,
          reason: `entry ${archived.seq} differs from the one archived in ${segment.key}, which signed checkpoint ${checkpointed.checkpoint} commits to: it was rewritten and the chain after it recomputed`,
        };
      }
      expected = { seq: archived.seq, hash: archived.hash };
    }
  }
  return undefined;
}

/** What the table reads for verification: each shard's head item and its entries. */
export interface VerifiableChain extends ChainSource {
  head(shard: number): Promise<{ seq: number; hash: string } | undefined>;
}

/** The verdict on the whole log: every shard, against the latest signed checkpoint when there is one. */
export interface LogVerification {
  readonly valid: boolean;
  readonly checkedAt: string;
  readonly entries: number;
  /** The signed checkpoint the table was checked against; absent before the first. */
  readonly checkpoint?: { readonly number: number; readonly time: string };
  /** Why the latest checkpoint in the archive could not be used (it does not verify): the log is not valid. */
  readonly checkpointProblem?: string;
  readonly shards: readonly ShardVerdict[];
}

/**
 * Verifies every shard's chain in the table, page by page, and against the latest signed
 * checkpoint: entries it commits to that are gone (truncation), a head item behind it
 * (rewinding), an entry it commits to replaced (rewriting: the first such entry is found by
 * comparing the table with the archived segments). Each finding names its shard, entry and why.
 */
export async function verifyLog(options: {
  readonly table: VerifiableChain;
  readonly archive?: LogArchive;
  readonly keys: readonly (JsonWebKey & { kid?: string })[];
  readonly shards: number;
  readonly now?: Date;
}): Promise<LogVerification> {
  let latest: SignedCheckpoint | undefined;
  let checkpointProblem: string | undefined;
  if (options.archive) {
    try {
      latest = await latestCheckpoint(options.archive, options.keys);
    } catch (error) {
      if (!(error instanceof CheckpointVerificationError)) throw error;
      checkpointProblem = `the latest checkpoint in the archive does not verify: ${error.message}`;
    }
  }
  const verdicts: ShardVerdict[] = [];
  for (let shard = 0; shard < options.shards; shard++) {
    const signed = latest?.checkpoint.shards.find((candidate) => candidate.shard === shard);
    const checkpointed =
      latest && signed ? { checkpoint: latest.checkpoint.number, seq: signed.seq, hash: signed.hash } : undefined;
    const verifier = new ShardVerifier(shard, await options.table.head(shard), undefined, checkpointed);
    let after = 0;
    for (;;) {
      const { entries, more } = await options.table.readShard(shard, after, 500);
      for (const entry of entries) verifier.add(entry);
      if (!more || entries.length === 0) break;
      after = (entries.at(-1) as ChainedEntry).seq;
    }
    let verdict = verifier.finish();
    const rewritten = verdict.findings?.find((finding) => finding.kind === "rewritten");
    if (rewritten && checkpointed && options.archive) {
      const precise = await firstDivergence(options.table, options.archive, shard, checkpointed);
      if (precise) verdict = withFinding(verdict, rewritten, precise);
    }
    verdicts.push(verdict);
  }
  return {
    valid: checkpointProblem === undefined && verdicts.every((verdict) => verdict.valid),
    checkedAt: (options.now ?? new Date()).toISOString(),
    entries: verdicts.reduce((sum, verdict) => sum + verdict.entries, 0),
    ...(latest ? { checkpoint: { number: latest.checkpoint.number, time: latest.checkpoint.time } } : {}),
    ...(checkpointProblem ? { checkpointProblem } : {}),
    shards: verdicts,
  };
}

function withFinding(verdict: ShardVerdict, replaced: LogFinding, by: LogFinding): ShardVerdict {
  const findings = (verdict.findings ?? []).map((finding) => (finding === replaced ? by : finding));
  const [first] = findings;
  return { ...verdict, findings, ...(first ? { brokenAt: first.seq, reason: first.reason } : {}) };
}

/** The verdict on the archive alone: each shard's archived entries, chained up to the latest checkpoint. */
export interface ArchiveVerification {
  readonly valid: boolean;
  /** The latest checkpoint, when it verifies. */
  readonly checkpoint?: Checkpoint;
  /** Why the latest checkpoint cannot be used. */
  readonly checkpointProblem?: string;
  readonly shards: ReadonlyArray<{
    readonly shard: number;
    /** Entries archived and chained from the genesis to the checkpoint's head. */
    readonly entries: number;
    readonly valid: boolean;
    readonly problem?: string;
  }>;
}

/**
 * Verifies the archive without the table (entries the table no longer holds, or a copy of the
 * bucket offline): the latest checkpoint's signature, then for each shard that its archived
 * segments chain, entry by entry, from the genesis to exactly the head the checkpoint signs.
 * Every archived entry up to that head is then what was logged.
 */
export async function verifyArchive(
  archive: LogArchive,
  keys: readonly (JsonWebKey & { kid?: string })[],
): Promise<ArchiveVerification> {
  let latest: SignedCheckpoint | undefined;
  try {
    latest = await latestCheckpoint(archive, keys);
  } catch (error) {
    if (!(error instanceof CheckpointVerificationError)) throw error;
    return { valid: false, checkpointProblem: `the latest checkpoint does not verify: ${error.message}`, shards: [] };
  }
  if (!latest) return { valid: false, checkpointProblem: "the archive holds no checkpoint", shards: [] };
  const shards: Array<ArchiveVerification["shards"][number]> = [];
  for (const head of latest.checkpoint.shards) {
    let at = { seq: 0, hash: GENESIS_HASH };
    let problem: string | undefined;
    for await (const segment of archive.segments(head.shard)) {
      const first = segment.entries[0];
      // Segments of a checkpoint taken twice at once overlap: each entry is checked once.
      if (!first || first.seq > at.seq + 1 || at.seq >= head.seq) continue;
      const fresh = segment.entries.filter((entry) => entry.seq > at.seq && entry.seq <= head.seq);
      const { sound, break: broken } = soundPrefix(fresh, at);
      const last = sound.at(-1);
      if (last) at = { seq: last.seq, hash: last.hash };
      if (broken) {
        problem = `${segment.key}: ${broken.reason}`;
        break;
      }
    }
    if (!problem && at.seq < head.seq) problem = `entries ${at.seq + 1} to ${head.seq} are not in the archive`;
    else if (!problem && at.hash !== head.hash) problem = `entry ${head.seq} is not the one the checkpoint signs`;
    shards.push({ shard: head.shard, entries: at.seq, valid: !problem, ...(problem ? { problem } : {}) });
  }
  return { valid: shards.every((shard) => shard.valid), checkpoint: latest.checkpoint, shards };
}
