import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackendConfigError, BackendUnavailableError } from "../../../agent/backends/types.ts";
import { DeliveryStore, InvalidDeliveryError } from "../../../agent/sync/store.ts";
import type { DeliveredRecord } from "../../../domain/delivery/model.ts";
import { PGLITE_HOOK_TIMEOUT, PGLITE_TEST_TIMEOUT, startPostgres, type TestPostgres } from "./postgres.ts";

/** What the store's statement applying one record version holds. */
const APPLY_STATEMENT = "WITH fresh";

const DATASET = "MPS.POPULATION.CITIZENS";

function upsert(key: string, version: number, record: Record<string, unknown> = { key, version }): DeliveredRecord {
  return {
    idempotencyKey: `${DATASET}:${key}:v${version}`,
    key,
    version,
    op: "upsert",
    record,
    changedAt: "2026-11-30T06:00:00.000Z",
  };
}

function remove(key: string, version: number): DeliveredRecord {
  return {
    idempotencyKey: `${DATASET}:${key}:v${version}`,
    key,
    version,
    op: "delete",
    changedAt: "2026-11-30T06:00:00.000Z",
  };
}

let postgres: TestPostgres;
/** The node's pool, as most tests use it; others open their own connections. */
let pool: pg.Pool;
let tables = 0;

/** A store on a table of its own, so tests do not see each other's records. */
async function freshStore(on = pool): Promise<{ store: DeliveryStore; table: string }> {
  const table = `deliveries_${++tables}`;
  return { store: await DeliveryStore.open(on, table), table };
}

async function appliedKeys(table: string): Promise<number> {
  const counted = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}_applied`);
  return counted.rows[0]?.n ?? -1;
}

beforeAll(async () => {
  postgres = await startPostgres();
  pool = postgres.pool();
}, PGLITE_HOOK_TIMEOUT);

afterAll(async () => {
  await postgres?.stop();
}, PGLITE_HOOK_TIMEOUT);

describe("the delivery store", { timeout: PGLITE_TEST_TIMEOUT }, () => {
  it("applies new record versions and reads them back", async () => {
    const { store } = await freshStore();

    const result = await store.apply([upsert("C1", 1, { name: "An" }), upsert("C2", 4, { name: "Binh" })]);

    expect(result).toEqual({ applied: 2, duplicates: 0, stale: 0 });
    expect(await store.get("C1")).toEqual({ version: 1, deleted: false, record: { name: "An" } });
    expect(await store.get("C2")).toEqual({ version: 4, deleted: false, record: { name: "Binh" } });
    expect(await store.get("C3")).toBeUndefined();
  });

  it("applies a push delivered twice only once", async () => {
    const { store, table } = await freshStore();
    const push = [upsert("C1", 1), upsert("C2", 1), remove("C3", 2)];

    await store.apply(push);
    const again = await store.apply(push);

    expect(again).toEqual({ applied: 0, duplicates: 3, stale: 0 });
    expect(await appliedKeys(table)).toBe(3);
  });

  it("keeps the newest version when an older one arrives after it", async () => {
    const { store } = await freshStore();

    await store.apply([upsert("C1", 3, { name: "newest" })]);
    const late = await store.apply([upsert("C1", 2, { name: "older" })]);

    expect(late).toEqual({ applied: 0, duplicates: 0, stale: 1 });
    expect(await store.get("C1")).toEqual({ version: 3, deleted: false, record: { name: "newest" } });
  });

  it("ends with the newest version whatever order one push lists them in", async () => {
    const { store } = await freshStore();

    await store.apply([upsert("C1", 5, { name: "five" }), upsert("C1", 4, { name: "four" })]);

    expect(await store.get("C1")).toEqual({ version: 5, deleted: false, record: { name: "five" } });
  });

  it("keeps a deleted record's version, so a late older upsert does not bring it back", async () => {
    const { store } = await freshStore();

    await store.apply([upsert("C1", 1, { name: "An" })]);
    await store.apply([remove("C1", 3)]);
    const late = await store.apply([upsert("C1", 2, { name: "resurrected?" })]);

    expect(late).toEqual({ applied: 0, duplicates: 0, stale: 1 });
    expect(await store.get("C1")).toEqual({ version: 3, deleted: true });
  });

  it("takes a newer upsert after a delete", async () => {
    const { store } = await freshStore();

    await store.apply([remove("C1", 3), upsert("C1", 4, { name: "back" })]);

    expect(await store.get("C1")).toEqual({ version: 4, deleted: false, record: { name: "back" } });
  });

  it("applies a push delivered twice at the same time on two connections once", async () => {
    const { store, table } = await freshStore(postgres.pool(2));
    const other = await DeliveryStore.open(postgres.pool(), table);
    const push = Array.from({ length: 20 }, (_, index) => upsert(`C${index}`, 1));

    const results = await Promise.all([store.apply(push), other.apply(push)]);

    expect(results.map((result) => result.applied + result.duplicates)).toEqual([20, 20]);
    expect(results[0].applied + results[1].applied).toBe(20);
    expect(results[0].duplicates + results[1].duplicates).toBe(20);
    expect(await appliedKeys(table)).toBe(20);
  });

  it("applies nothing of a push cut off mid-way, and every record once when it is delivered again", async () => {
    const { table } = await freshStore();
    const push = Array.from({ length: 10 }, (_, index) => upsert(`C${index}`, 7, { n: index }));
    const cut = await DeliveryStore.open(postgres.poolCutAfter(APPLY_STATEMENT, 5), table);

    const failed = await cut.apply(push).catch((error: unknown) => error);

    expect(failed).toBeInstanceOf(BackendUnavailableError);
    const restarted = await DeliveryStore.open(pool, table);
    expect(await appliedKeys(table)).toBe(0);
    expect(await restarted.get("C0")).toBeUndefined();
    expect(await restarted.apply(push)).toEqual({ applied: 10, duplicates: 0, stale: 0 });
    expect(await restarted.apply(push)).toEqual({ applied: 0, duplicates: 10, stale: 0 });
    expect(await restarted.get("C9")).toEqual({ version: 7, deleted: false, record: { n: 9 } });
    expect(await appliedKeys(table)).toBe(10);
  });

  it("refuses a push holding something that is not a record version, applying none of it", async () => {
    const { store, table } = await freshStore();
    const broken = { ...upsert("C2", 1), version: -1 };

    await expect(store.apply([upsert("C1", 1), broken])).rejects.toThrow(
      new InvalidDeliveryError("records/1: version must be a positive integer"),
    );
    expect(await appliedKeys(table)).toBe(0);
  });

  it("refuses a push holding a value PostgreSQL cannot keep, applying none of it", async () => {
    const { store, table } = await freshStore();

    await expect(store.apply([upsert("C1", 1), upsert("C2", 1, { name: "nul \u0000 inside" })])).rejects.toBeInstanceOf(
      InvalidDeliveryError,
    );
    expect(await appliedKeys(table)).toBe(0);
  });

  it("opens a table it made before as it is", async () => {
    const { store, table } = await freshStore();
    await store.apply([upsert("C1", 1)]);

    const reopened = await DeliveryStore.open(pool, table);

    expect(await reopened.get("C1")).toMatchObject({ version: 1 });
  });

  it("refuses a table name that is not a plain identifier, naming the setting", async () => {
    await expect(
      DeliveryStore.open(pool, 'deliveries"; DROP TABLE x; --', { setting: "subscriptions[S1].table" }),
    ).rejects.toThrow(expect.objectContaining({ setting: "subscriptions[S1].table" }));
  });

  it("refuses a table of that name made for something else", async () => {
    await pool.query("CREATE TABLE not_deliveries (id int)");

    await expect(DeliveryStore.open(pool, "not_deliveries")).rejects.toBeInstanceOf(BackendConfigError);
  });
});
