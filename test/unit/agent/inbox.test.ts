import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { drainInbox, type InboxSource } from "../../../agent/sync/inbox.ts";
import { DeliveryStore } from "../../../agent/sync/store.ts";
import type { DscpClient } from "../../../client/dscp-client.ts";
import type { DeliveredRecord, InboxMessage } from "../../../domain/delivery/model.ts";
import { PGLITE_HOOK_TIMEOUT, PGLITE_TEST_TIMEOUT, startPostgres, type TestPostgres } from "./postgres.ts";

const DATASET = "MPS.POPULATION.CITIZENS";

const version = (key: string, v: number): DeliveredRecord => ({
  idempotencyKey: `${DATASET}:${key}:v${v}`,
  key,
  version: v,
  op: "upsert",
  record: { key, v },
  changedAt: "2026-11-30T06:00:00.000Z",
});

const message = (n: number, records: DeliveredRecord[], datasetId = DATASET): InboxMessage => ({
  receipt: `r${n}`,
  messageId: `m${n}`,
  batchId: "b1",
  datasetId,
  providerSystem: "MPS.POPULATION",
  records,
  deliveredAt: "2026-11-30T06:00:00.000Z",
});

/** The platform's inbox: pages of `pageSize`, messages gone once acknowledged. */
class FakeInbox implements InboxSource {
  readonly acknowledged: string[] = [];
  constructor(
    readonly messages: InboxMessage[],
    private readonly pageSize = 2,
  ) {}
  async readInbox(query: { cursor?: string }) {
    const start = Number(query.cursor ?? 0);
    const items = this.messages.slice(start, start + this.pageSize);
    const next = start + this.pageSize;
    return next < this.messages.length ? { items, nextCursor: String(next) } : { items };
  }
  async acknowledge(receipts: readonly string[]) {
    this.acknowledged.push(...receipts);
    return { acknowledged: receipts.length, unknown: [] };
  }
}

let postgres: TestPostgres;
let pool: pg.Pool;
let tables = 0;

const freshStore = async () => DeliveryStore.open(pool, `inbox_${++tables}`);

beforeAll(async () => {
  postgres = await startPostgres();
  pool = postgres.pool();
}, PGLITE_HOOK_TIMEOUT);

afterAll(async () => {
  await postgres?.stop();
}, PGLITE_HOOK_TIMEOUT);

describe("draining the inbox", { timeout: PGLITE_TEST_TIMEOUT }, () => {
  it("applies every message, page after page, and acknowledges each", async () => {
    const store = await freshStore();
    const inbox = new FakeInbox([
      message(1, [version("C1", 1)]),
      message(2, [version("C2", 1)]),
      message(3, [version("C1", 2)]),
    ]);

    const result = await drainInbox(inbox, () => store);

    expect(result).toEqual({ messages: 3, applied: 3, duplicates: 0, stale: 0, skipped: 0, invalid: 0 });
    expect(inbox.acknowledged).toEqual(["r1", "r2", "r3"]);
    expect(await store.get("C1")).toMatchObject({ version: 2 });
  });

  it("takes the platform's typed client as its inbox", () => {
    const asSource = (client: DscpClient): InboxSource => client;

    expect(asSource).toBeTypeOf("function");
  });

  it("applies a message read again after a crash before its acknowledgement once", async () => {
    const store = await freshStore();
    const first = message(1, [version("C1", 1), version("C2", 1)]);
    await store.apply(first.records);

    const result = await drainInbox(new FakeInbox([first]), () => store);

    expect(result).toMatchObject({ messages: 1, applied: 0, duplicates: 2 });
  });

  it("leaves messages of a dataset it applies no subscription of in the inbox", async () => {
    const store = await freshStore();
    const inbox = new FakeInbox([message(1, [version("C1", 1)], "X.OTHER"), message(2, [version("C2", 1)])]);

    const result = await drainInbox(inbox, (datasetId) => (datasetId === DATASET ? store : undefined));

    expect(result).toMatchObject({ messages: 1, skipped: 1 });
    expect(inbox.acknowledged).toEqual(["r2"]);
  });

  it("acknowledges what it applied before a store failed, and leaves the rest", async () => {
    const store = await freshStore();
    const closed = postgres.pool();
    const failing = await DeliveryStore.open(closed, `inbox_${tables}`);
    await closed.end();
    const inbox = new FakeInbox([message(1, [version("C1", 1)]), message(2, [version("C2", 1)])], 5);
    let calls = 0;

    const error = await drainInbox(inbox, () => (++calls === 1 ? store : failing)).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(Error);
    expect(inbox.acknowledged).toEqual(["r1"]);
  });
});
