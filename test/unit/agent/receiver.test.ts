import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { applyPush } from "../../../agent/sync/receiver.ts";
import { DeliveryStore } from "../../../agent/sync/store.ts";
import type { DeliveredRecord } from "../../../domain/delivery/model.ts";
import { PGLITE_HOOK_TIMEOUT, PGLITE_TEST_TIMEOUT, startPostgres, type TestPostgres } from "./postgres.ts";

const DATASET = "MPS.POPULATION.CITIZENS";

const version = (key: string, v: number): DeliveredRecord => ({
  idempotencyKey: `${DATASET}:${key}:v${v}`,
  key,
  version: v,
  op: "upsert",
  record: { key },
  changedAt: "2026-11-30T06:00:00.000Z",
});

const push = (records: unknown[], overrides: Record<string, unknown> = {}) => ({
  messageId: "b1.0.MOH.CLINICS.0.abc",
  datasetId: DATASET,
  batchId: "b1",
  providerSystem: "MPS.POPULATION",
  attempt: 1,
  records,
  ...overrides,
});

let postgres: TestPostgres;
let pool: pg.Pool;
let store: DeliveryStore;

beforeAll(async () => {
  postgres = await startPostgres();
  pool = postgres.pool();
  store = await DeliveryStore.open(pool, "citizens_received");
}, PGLITE_HOOK_TIMEOUT);

afterAll(async () => {
  await postgres?.stop();
}, PGLITE_HOOK_TIMEOUT);

describe("receiving a push", { timeout: PGLITE_TEST_TIMEOUT }, () => {
  it("applies it and answers 200 with the counts, and 200 again when it is pushed again", async () => {
    const body = push([version("C1", 1), version("C2", 1)]);

    const first = await applyPush({ datasetId: DATASET, store }, body);
    const again = await applyPush({ datasetId: DATASET, store }, body);

    expect(first).toEqual({
      status: 200,
      body: { messageId: body.messageId, applied: 2, duplicates: 0, stale: 0 },
    });
    expect(again.body).toMatchObject({ applied: 0, duplicates: 2 });
  });

  it("refuses a push of another dataset with 400", async () => {
    const answer = await applyPush({ datasetId: DATASET, store }, push([version("C3", 1)], { datasetId: "X.OTHER" }));

    expect(answer.status).toBe(400);
    expect(await store.get("C3")).toBeUndefined();
  });

  it("refuses a push whose records are not record versions with 400, naming the record", async () => {
    const answer = await applyPush({ datasetId: DATASET, store }, push([version("C4", 1), { key: "C5" }]));

    expect(answer).toMatchObject({ status: 400, body: { error: expect.stringContaining("records/1") } });
    expect(await store.get("C4")).toBeUndefined();
  });

  it("refuses a body that is not a push with 400", async () => {
    expect((await applyPush({ datasetId: DATASET, store }, "records")).status).toBe(400);
    expect((await applyPush({ datasetId: DATASET, store }, { datasetId: DATASET, records: [] })).status).toBe(400);
  });

  it("answers 503 when the store cannot apply it, so the platform delivers it again", async () => {
    const closed = postgres.pool();
    const unreachable = await DeliveryStore.open(closed, "citizens_received");
    await closed.end();

    const answer = await applyPush({ datasetId: DATASET, store: unreachable }, push([version("C6", 1)]));

    expect(answer.status).toBe(503);
    expect(await store.get("C6")).toBeUndefined();
  });
});
