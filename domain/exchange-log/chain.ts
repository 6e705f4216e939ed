import { createHash } from "node:crypto";
import { canonicalJson } from "../canonical-json.ts";
import type { ExchangeEntry } from "../exchange/model.ts";

/** The chain hashes entries as canonical JSON (a shared domain utility, re-exported for the log's readers). */
export { canonicalJson };

/** Hash every chain starts from. */
export const GENESIS_HASH = "0".repeat(64);

/** An exchange entry as the chain stores it: position, link to the previous entry, own hash. */
export interface ChainedEntry extends ExchangeEntry {
  readonly shard: number;
  readonly seq: number;
  readonly prevHash: string;
  readonly hash: string;
}

/**
 * The log is several independent hash chains (shards), so appends never queue behind one
 * global writer. An entry's shard follows from its transaction id.
 */
export function shardOf(transactionId: string, shards: number): number {
  return createHash("sha256").update(transactionId).digest().readUInt32BE(0) % shards;
}

/** SHA-256 of the previous hash and the entry with its position: altering, removing or reordering breaks it. */
export function chainHash(prevHash: string, entry: ExchangeEntry, shard: number, seq: number): string {
  return createHash("sha256")
    .update(`${prevHash}\n${canonicalJson({ ...entry, shard, seq })}`)
    .digest("hex");
}

/** Links `entries` after (seq, hash) in one shard. */
export function link(
  entries: readonly ExchangeEntry[],
  shard: number,
  after: { seq: number; hash: string },
): ChainedEntry[] {
  let { seq, hash } = after;
  return entries.map((entry) => {
    seq += 1;
    const chained = { ...entry, shard, seq, prevHash: hash, hash: chainHash(hash, entry, shard, seq) };
    hash = chained.hash;
    return chained;
  });
}

/** How a shard fails verification. */
export type FindingKind = "broken" | "truncated" | "rewound" | "rewritten";

/**
 * One thing wrong with a shard: `broken` (the table's chain itself does not hold: an entry
 * missing, unlinked or altered), and against the latest signed checkpoint, `truncated` (entries
 * it commits to are gone), `rewound` (the head item is behind it) or `rewritten` (an entry it
 * commits to was replaced, its hash and the chain after it recomputed).
 */
export interface LogFinding {
  readonly kind: FindingKind;
  /** The first entry concerned. */
  readonly seq: number;
  readonly reason: string;
}

/** What verification found in one shard. */
export interface ShardVerdict {
  readonly shard: number;
  readonly entries: number;
  readonly valid: boolean;
  /** The first entry that does not fit, and why (the first finding). */
  readonly brokenAt?: number;
  readonly reason?: string;
  /** Every finding, in the order checked; absent when valid. */
  readonly findings?: readonly LogFinding[];
  /** The checkpointed head the shard was checked against. */
  readonly checkpointed?: { readonly checkpoint: number; readonly seq: number; readonly hash: string };
}

/** A shard's head as the latest signed checkpoint records it. */
export interface CheckpointedHead {
  readonly checkpoint: number;
  readonly seq: number;
  readonly hash: string;
}

/**
 * Checks one shard's entries, read in sequence order, page by page: each follows the previous
 * one without gap, links to its hash, and hashes to what it says; then, when there is a signed
 * checkpoint, that the table still holds the entry it commits to, with the hash it commits to,
 * and that the head item is not behind it. Only the running hash is kept.
 */
export class ShardVerifier {
  private seq: number;
  private hash: string;
  private count = 0;
  private hashAtHead: string | undefined;
  private hashAtCheckpoint: string | undefined;
  private broken: { at: number; reason: string } | undefined;

  /**
   * @param head what the store records as the shard's last appended entry; entries past it
   *   (appended after a crash, before the head moved) are fine, entries missing below it are not.
   * @param start where verification starts: the genesis, or a trusted earlier entry.
   * @param checkpointed the shard's head in the latest signed checkpoint.
   */
  constructor(
    readonly shard: number,
    private readonly head: { seq: number; hash: string } | undefined,
    start: { seq: number; hash: string } = { seq: 0, hash: GENESIS_HASH },
    private readonly checkpointed?: CheckpointedHead,
  ) {
    this.seq = start.seq;
    this.hash = start.hash;
  }

  add(entry: ChainedEntry): void {
    if (entry.seq === this.checkpointed?.seq) this.hashAtCheckpoint = entry.hash;
    if (this.broken) return;
    this.count++;
    const { shard: _shard, seq, prevHash, hash, ...content } = entry;
    if (seq !== this.seq + 1)
      this.broken = { at: this.seq + 1, reason: `entry ${this.seq + 1} is missing (next is ${seq})` };
    else if (prevHash !== this.hash)
      this.broken = { at: seq, reason: `entry ${seq} does not link to entry ${this.seq}` };
    else if (chainHash(prevHash, content, this.shard, seq) !== hash)
      this.broken = { at: seq, reason: `entry ${seq} was altered` };
    if (seq === this.head?.seq) this.hashAtHead = hash;
    this.seq = seq;
    this.hash = hash;
  }

  finish(): ShardVerdict {
    const { head, checkpointed } = this;
    if (!this.broken && head && head.seq > this.seq) {
      this.broken = {
        at: this.seq + 1,
        reason: `the chain ends at ${this.seq} but entries up to ${head.seq} were appended: entries were removed`,
      };
    } else if (!this.broken && head && this.hashAtHead !== undefined && this.hashAtHead !== head.hash) {
      this.broken = { at: head.seq, reason: `entry ${head.seq} is not the one appended` };
    }
    const findings: LogFinding[] = this.broken
      ? [{ kind: "broken", seq: this.broken.at, reason: this.broken.reason }]
      : [];
    if (checkpointed && checkpointed.seq > 0) {
      const signed = `signed checkpoint ${checkpointed.checkpoint}`;
      if (this.seq < checkpointed.seq && !this.broken) {
        findings.push({
          kind: "truncated",
          seq: this.seq + 1,
          reason: `entries ${this.seq + 1} to ${checkpointed.seq} are gone, though ${signed} commits to them: the log was truncated`,
        });
      } else if (this.hashAtCheckpoint === undefined) {
        findings.push({
          kind: "truncated",
          seq: checkpointed.seq,
          reason: `entry ${checkpointed.seq} is gone, though ${signed} commits to it`,
        });
      } else if (this.hashAtCheckpoint !== checkpointed.hash) {
        findings.push({
          kind: "rewritten",
          seq: checkpointed.seq,
          reason: `entry ${checkpointed.seq} is not the one ${signed} commits to: entries up to it were rewritten`,
        });
      }
      if (head === undefined || head.seq < checkpointed.seq) {
        findings.push({
          kind: "rewound",
          seq: (head?.seq ?? 0) + 1,
          reason: `the head is at ${head?.seq ?? 0}, behind entry ${checkpointed.seq} of ${signed}: the head was rewound`,
        });
      }
    }
    const [first] = findings;
    return {
      shard: this.shard,
      entries: this.count,
      valid: findings.length === 0,
      ...(first ? { brokenAt: first.seq, reason: first.reason, findings } : {}),
      ...(checkpointed ? { checkpointed } : {}),
    };
  }
}
