import { canonicalJson } from "../canonical-json.ts";
import type { RecordChange } from "../delivery/model.ts";
import type { Applied, ApplyInput, StoredRecord } from "./model.ts";

/*
 * How operations fold onto a record of the integrated store (Art. 7.2c), whatever store holds it:
 * each record keeps the position of the operation that last wrote or saw it (its batch's sequence
 * in the dataset and its index in the batch), so an operation at or before that position (a
 * replay, or an earlier batch applied late) changes nothing, and data never moves backwards.
 */

/** A record as the integrated store keeps it: what it holds, and where it stands among the batches. */
export interface RecordState extends StoredRecord {
  /** The {@link positionOf} the last operation applied: a replay of it is a no-op. */
  readonly lastOp: string;
  /** The sequence of that operation's batch: an operation of an earlier batch is a no-op. */
  readonly sequence?: number;
  /** The last full sync that carried the record. */
  readonly seenIn?: string;
}

/** What a run of operations on one key comes to, worked out from the record as read. */
export interface Folded {
  /** What each operation did, in input order. */
  readonly results: Applied[];
  /** Every version the operations supersede, oldest first: the record's history, written before `write`. */
  readonly superseded: RecordState[];
  /**
   * The record's new state, if anything is to be written: `touch` when only its position (and
   * the full sync that saw it) moved on, the record and its version as read.
   */
  readonly write?: { readonly state: RecordState; readonly touch: boolean };
}

/** `<batchId>#<index>`: where an operation stands in its batch (batch ids hold no `#`). */
export function positionOf(input: Pick<ApplyInput, "batchId" | "index">): string {
  return `${input.batchId}#${input.index}`;
}

/**
 * Folds one key's operations, in order, onto the record as read (`undefined`: none yet).
 * Operations up to the one the record says was applied last are replays (a window applied again
 * after a crash); those of a batch earlier than the record's last are superseded; an upsert of
 * the record as it stands makes no new version. Unchanged records of a full sync are marked seen
 * by it (or it would delete them as absent), and of a later batch (or an earlier batch applied
 * after it would change them).
 */
export function fold(read: RecordState | undefined, inputs: readonly ApplyInput[]): Folded {
  const results: Applied[] = [];
  const superseded: RecordState[] = [];
  const done = read ? inputs.findIndex((input) => positionOf(input) === read.lastOp) : -1;
  let state = read;
  let changed = false;
  let seen = false;
  let latest = -1;
  inputs.forEach((input, position) => {
    if (position < done) {
      results.push({ outcome: "replayed" });
      return;
    }
    const past = passed(read, input);
    if (past) {
      results.push(past);
      return;
    }
    latest = position;
    const live = state !== undefined && !state.deleted;
    if (input.fullSync) seen = true;
    if (input.operation.op === "delete") {
      if (!live || !state) {
        results.push({ outcome: "absent" });
        return;
      }
      superseded.push(state);
      state = written(input, { record: {}, deleted: true }, state.version + 1, state);
      changed = true;
      results.push({ outcome: "deleted", change: changeOf(state) });
      return;
    }
    const record = input.operation.record;
    if (live && state && sameRecord(state.record, record)) {
      results.push({ outcome: "unchanged" });
      return;
    }
    if (state) superseded.push(state);
    state = written(input, { record, deleted: false }, (state?.version ?? 0) + 1, state);
    changed = true;
    results.push({ outcome: live ? "updated" : "created", change: changeOf(state) });
  });
  if (changed && state) return { results, superseded, write: { state, touch: false } };
  const last = inputs[latest];
  const advanced = (last?.sequence ?? 0) > (read?.sequence ?? 0);
  if ((seen || advanced) && read && last) {
    const state: RecordState = {
      ...read,
      ...(seen ? { seenIn: last.batchId } : {}),
      lastOp: positionOf(last),
      ...(last.sequence ? { sequence: last.sequence } : {}),
    };
    return { results, superseded, write: { state, touch: true } };
  }
  return { results, superseded };
}

/** The change a state makes, as delivered to subscribers (7.2b). */
export function changeOf(state: RecordState): RecordChange {
  return {
    key: state.key,
    version: state.version,
    op: state.deleted ? "delete" : "upsert",
    record: state.deleted ? {} : state.record,
    changedAt: state.updatedAt,
  };
}

/** The same record, whatever order its fields were given in. */
export function sameRecord(a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/**
 * What an operation comes to if the record is already past it: `replayed` if it is the record's
 * last operation (with the version it made, if its batch made the record as it stands, so a
 * delivery lost with a crashed worker is made again; consumers apply it once by its key) or an
 * earlier one of the same batch; `superseded` if a later batch wrote or saw the record.
 * Undefined: the operation is to be applied.
 */
function passed(read: RecordState | undefined, input: ApplyInput): Applied | undefined {
  if (!read) return undefined;
  if (read.lastOp === positionOf(input)) {
    return read.sourceBatch === input.batchId
      ? { outcome: "replayed", change: changeOf(read) }
      : { outcome: "replayed" };
  }
  const sequence = input.sequence ?? 0;
  const readSequence = read.sequence ?? 0;
  // Records and operations from before sequences were kept: only the last operation is known.
  if (sequence === 0 || readSequence === 0) return undefined;
  if (sequence < readSequence) return { outcome: "superseded" };
  if (sequence === readSequence && input.index < indexOf(read.lastOp)) return { outcome: "replayed" };
  return undefined;
}

/** The index of an operation's {@link positionOf}. */
function indexOf(lastOp: string): number {
  return Number(lastOp.slice(lastOp.lastIndexOf("#") + 1));
}

/** The record's state at `version`, as `input` writes it. */
function written(
  input: ApplyInput,
  next: { record: Record<string, unknown>; deleted: boolean },
  version: number,
  before: RecordState | undefined,
): RecordState {
  return {
    datasetId: input.datasetId,
    key: input.key,
    record: next.record,
    version,
    deleted: next.deleted,
    sourceBatch: input.batchId,
    updatedAt: input.at,
    lastOp: positionOf(input),
    ...(input.sequence ? { sequence: input.sequence } : {}),
    ...(input.fullSync ? { seenIn: input.batchId } : before?.seenIn ? { seenIn: before.seenIn } : {}),
  };
}
