import { describe, expect, it } from "vitest";
import { fold, type RecordState } from "../../../domain/sync/fold.ts";
import type { ApplyInput } from "../../../domain/sync/model.ts";

/* How operations fold onto a record of the integrated store, on plain values: no store involved. */

const at = "2026-11-27T08:00:00.000Z";
const datasetId = "MPS.POPULATION.REGISTER";

function upsert(fullName: string, batchId: string, index: number, sequence?: number): ApplyInput {
  return {
    datasetId,
    key: "001",
    operation: { op: "upsert", record: { personalId: "001", fullName } },
    batchId,
    index,
    ...(sequence ? { sequence } : {}),
    fullSync: false,
    at,
  };
}

function remove(batchId: string, index: number, sequence?: number): ApplyInput {
  return { ...upsert("", batchId, index, sequence), operation: { op: "delete", key: "001" } };
}

/** The record as a run of operations leaves it, starting from none. */
function stateAfter(inputs: readonly ApplyInput[], read?: RecordState): RecordState {
  const state = fold(read, inputs).write?.state;
  if (!state) throw new Error("nothing written");
  return state;
}

describe("fold", () => {
  it("applies one key's operations in order, a new version each, keeping every superseded version", () => {
    const folded = fold(undefined, [
      upsert("An", "batch-1", 0, 1),
      upsert("An (2)", "batch-1", 1, 1),
      remove("batch-1", 2, 1),
    ]);

    expect(folded.results.map((result) => [result.outcome, result.change?.version, result.change?.op])).toEqual([
      ["created", 1, "upsert"],
      ["updated", 2, "upsert"],
      ["deleted", 3, "delete"],
    ]);
    expect(folded.superseded.map((state) => [state.version, state.record.fullName])).toEqual([
      [1, "An"],
      [2, "An (2)"],
    ]);
    expect(folded.write).toEqual({
      state: expect.objectContaining({ version: 3, deleted: true, record: {}, lastOp: "batch-1#2", sequence: 1 }),
      touch: false,
    });
  });

  it("makes no new version for the record as it stands, whatever order its fields come in", () => {
    const read = stateAfter([upsert("An", "batch-1", 0, 1)]);
    const same = {
      ...upsert("", "batch-1", 1, 1),
      operation: { op: "upsert" as const, record: { fullName: "An", personalId: "001" } },
    };

    const folded = fold(read, [same]);

    expect(folded.results).toEqual([{ outcome: "unchanged" }]);
    expect(folded.superseded).toEqual([]);
    expect(folded.write).toBeUndefined();
  });

  it("finds nothing to delete in a record that is absent or already deleted", () => {
    const deleted = stateAfter([upsert("An", "batch-1", 0, 1), remove("batch-1", 1, 1)]);

    expect(fold(undefined, [remove("batch-2", 0, 2)]).results).toEqual([{ outcome: "absent" }]);
    expect(fold(undefined, [remove("batch-2", 0, 2)]).write).toBeUndefined();
    expect(fold(deleted, [remove("batch-1", 2, 1)])).toEqual({ results: [{ outcome: "absent" }], superseded: [] });
  });

  it("recreates a deleted record as the next version, the deleted one kept as history", () => {
    const deleted = stateAfter([upsert("An", "batch-1", 0, 1), remove("batch-1", 1, 1)]);

    const folded = fold(deleted, [upsert("An", "batch-2", 0, 2)]);

    expect(folded.results.map((result) => [result.outcome, result.change?.version])).toEqual([["created", 3]]);
    expect(folded.superseded.map((state) => [state.version, state.deleted])).toEqual([[2, true]]);
  });

  it("changes nothing when the same operations are delivered again, and hands the last version on", () => {
    const window = [upsert("An", "batch-1", 0, 1), upsert("An (2)", "batch-1", 1, 1)];
    const read = stateAfter(window);

    const again = fold(read, window);

    expect(again.results.map((result) => [result.outcome, result.change?.version])).toEqual([
      ["replayed", undefined],
      ["replayed", 2],
    ]);
    expect(again.superseded).toEqual([]);
    expect(again.write).toBeUndefined();
  });

  it("never moves a record back to an earlier batch's data, whichever order the batches come in", () => {
    const read = stateAfter([upsert("Later", "batch-b", 0, 2)]);

    const folded = fold(read, [upsert("Earlier", "batch-a", 0, 1), remove("batch-a", 1, 1)]);

    expect(folded.results).toEqual([{ outcome: "superseded" }, { outcome: "superseded" }]);
    expect(folded.write).toBeUndefined();
  });

  it("takes an operation of the same batch before the record's last one as a replay, and after it as new", () => {
    const read = stateAfter([upsert("An", "batch-1", 5, 1)]);

    const before = fold(read, [upsert("Other", "batch-1", 3, 1)]);
    const after = fold(read, [upsert("Other", "batch-1", 7, 1)]);

    expect(before.results).toEqual([{ outcome: "replayed" }]);
    expect(after.results.map((result) => [result.outcome, result.change?.version])).toEqual([["updated", 2]]);
  });

  it("lets the later of two operations on one key in a window win", () => {
    const folded = fold(undefined, [upsert("First", "batch-1", 0, 1), upsert("Second", "batch-1", 1, 1)]);

    expect(folded.write?.state).toMatchObject({ version: 2, record: { fullName: "Second" }, lastOp: "batch-1#1" });
  });

  it("moves an unchanged record's position on to a later batch, so an earlier one applied after it is superseded", () => {
    const read = stateAfter([upsert("An", "batch-1", 0, 1)]);

    const later = fold(read, [upsert("An", "batch-3", 0, 3)]);
    const late = fold(later.write?.state, [upsert("An (2)", "batch-2", 0, 2)]);

    expect(later.results).toEqual([{ outcome: "unchanged" }]);
    expect(later.write).toEqual({
      state: expect.objectContaining({ version: 1, lastOp: "batch-3#0", sequence: 3, sourceBatch: "batch-1" }),
      touch: true,
    });
    expect(late.results).toEqual([{ outcome: "superseded" }]);
  });

  it("marks a record a full sync carried unchanged as seen by it", () => {
    const read = stateAfter([upsert("An", "batch-1", 0, 1)]);

    const folded = fold(read, [{ ...upsert("An", "batch-full", 0, 1), fullSync: true }]);

    expect(folded.write).toEqual({ state: expect.objectContaining({ version: 1, seenIn: "batch-full" }), touch: true });
  });

  it("keeps the full sync that last saw a record when another batch changes it", () => {
    const read = stateAfter([{ ...upsert("An", "batch-full", 0, 1), fullSync: true }]);

    const folded = fold(read, [upsert("An (2)", "batch-2", 0, 2)]);

    expect(folded.write?.state).toMatchObject({ version: 2, seenIn: "batch-full", sourceBatch: "batch-2" });
  });

  it("orders records written before batches had sequences by their last operation alone", () => {
    const read = stateAfter([upsert("An", "batch-old", 0)]);

    const replay = fold(read, [upsert("An", "batch-old", 0)]);
    const sequenced = fold(read, [upsert("An (2)", "batch-new", 0, 1)]);

    expect(replay.results).toEqual([{ outcome: "replayed", change: expect.objectContaining({ version: 1 }) }]);
    expect(sequenced.results.map((result) => [result.outcome, result.change?.version])).toEqual([["updated", 2]]);
  });
});
