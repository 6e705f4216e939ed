import { describe, expect, it } from "vitest";
import { chunkMessage } from "../../../adapters/sqs/chunk-message.ts";
import { exchangeEntryMessage } from "../../../adapters/sqs/exchange-entry-message.ts";
import { oversightMessage } from "../../../adapters/sqs/oversight-message.ts";
import { exchangeEntryFixture } from "../domain/fixtures.ts";

const entry = exchangeEntryFixture({ transactionId: "t-1", time: "2026-11-30T00:00:00.000Z" });

describe("exchangeEntryMessage", () => {
  it("keeps every field of an entry, also one it does not know, since the entry is hashed as queued", () => {
    const queued = { ...entry, addedLater: "kept" };

    expect(exchangeEntryMessage.parse(JSON.parse(JSON.stringify(queued)))).toEqual(queued);
  });

  it("refuses an entry without an outcome it knows", () => {
    expect(exchangeEntryMessage.safeParse({ ...entry, outcome: "maybe" }).success).toBe(false);
  });
});

describe("chunkMessage", () => {
  it("passes each operation on as it came", () => {
    const operation = { op: "upsert", record: { personalId: "001", nested: { a: [1, 2] } } };
    const chunk = {
      batchId: "batch-0001",
      datasetId: "MPS.POPULATION.REGISTER",
      chunk: 0,
      mode: "incremental",
      operations: [{ index: 0, key: "001", operation }],
    };

    const parsed = chunkMessage.parse(chunk);

    expect(parsed.operations[0]?.operation).toBe(operation);
  });

  it("refuses an operation that is neither an upsert nor a delete", () => {
    const chunk = {
      batchId: "batch-0001",
      datasetId: "MPS.POPULATION.REGISTER",
      chunk: 0,
      mode: "full",
      operations: [{ index: 0, key: "001", operation: { op: "merge" } }],
    };

    expect(chunkMessage.safeParse(chunk).success).toBe(false);
  });
});

describe("oversightMessage", () => {
  it("takes an audit by id or a year to rank, and nothing else", () => {
    expect(oversightMessage.parse({ auditId: "a-1" })).toEqual({ auditId: "a-1" });
    expect(oversightMessage.parse({ rankingYear: 2026 })).toEqual({ rankingYear: 2026 });
    expect(oversightMessage.safeParse({ rankingYear: "2026" }).success).toBe(false);
  });
});
