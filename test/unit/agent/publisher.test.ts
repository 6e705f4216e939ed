import type pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BackendConfigError, BackendUnavailableError } from "../../../agent/backends/types.ts";
import { Publisher, type SyncRecord } from "../../../agent/sync/publisher.ts";
import type { PublishedDataset } from "../../../domain/agent/config.ts";
import { PGLITE_HOOK_TIMEOUT, PGLITE_TEST_TIMEOUT, startPostgres, type TestPostgres } from "./postgres.ts";

/**
 * The platform's side of `POST /v1/sync/{datasetId}/batches`, as the publisher relies on it: a
 * batch id seen before with the same content answers as before and changes nothing; with other
 * content it is refused (409). Accepted operations are applied to the records in order.
 */
class FakePlatform {
  readonly batches = new Map<string, string>();
  readonly submissions: Array<{ batchKey: string; records: SyncRecord[] }> = [];
  readonly records = new Map<string, Record<string, unknown>>();
  /** How many operations were applied (not replayed) per key. */
  readonly applied = new Map<string, number>();

  submit = async (datasetId: string, records: SyncRecord[], batchKey: string) => {
    expect(datasetId).toBe(DATASET);
    expect(batchKey).toMatch(/^[A-Za-z0-9._-]{8,100}$/);
    this.submissions.push({ batchKey, records });
    const content = JSON.stringify(records);
    const known = this.batches.get(batchKey);
    if (known !== undefined) {
      if (known !== content) throw new Error("409: batch id exists already for other content");
      return { batchId: batchKey };
    }
    this.batches.set(batchKey, content);
    for (const operation of records) {
      const key = operation.op === "delete" ? operation.key : String(operation.record.id);
      this.applied.set(key, (this.applied.get(key) ?? 0) + 1);
      if (operation.op === "delete") this.records.delete(key);
      else this.records.set(key, operation.record);
    }
    return { batchId: batchKey };
  };
}

const DATASET = "MOC.BUSINESSES";

let postgres: TestPostgres;
let pool: pg.Pool;
let tables = 0;

/** A source table of its own (and its tombstones) with `rows` businesses, all at one watermark unless spread. */
async function source(rows: number, options: { spread?: boolean } = {}): Promise<PublishedDataset> {
  const table = `businesses_${++tables}`;
  await pool.query(`
    CREATE TABLE ${table} (
      id integer PRIMARY KEY,
      name text NOT NULL,
      founded date,
      capital bigint,
      updated_at timestamptz NOT NULL
    );
    CREATE TABLE ${table}_deleted (id integer NOT NULL, updated_at timestamptz NOT NULL);
    INSERT INTO ${table}
      SELECT n, 'Business ' || n, DATE '2000-01-01' + n, NULL,
             TIMESTAMPTZ '2026-11-01 00:00:00+00' + ${options.spread ? "make_interval(secs => n % 37)" : "interval '0'"}
      FROM generate_series(1, ${rows}) AS n;
  `);
  return {
    datasetId: DATASET,
    backend: "registry",
    everySeconds: 60,
    source: {
      table,
      keyColumn: "id",
      watermarkColumn: "updated_at",
      fields: { id: "id", name: "name", founded: "founded", capital: "capital" },
      tombstoneTable: `${table}_deleted`,
    },
  };
}

function publisher(dataset: PublishedDataset, submit: FakePlatform["submit"], batchSize = 100): Publisher {
  return new Publisher({ pool, dataset, submit, batchSize, stateTable: `state_${tables}` });
}

/** Runs until there is nothing left to send. */
async function drain(run: Publisher): Promise<number> {
  let batches = 0;
  while ((await run.runOnce()).records > 0) batches++;
  return batches;
}

beforeAll(async () => {
  postgres = await startPostgres();
  pool = postgres.pool();
}, PGLITE_HOOK_TIMEOUT);

afterAll(async () => {
  await postgres?.stop();
}, PGLITE_HOOK_TIMEOUT);

describe("the publisher", { timeout: PGLITE_TEST_TIMEOUT }, () => {
  it("sends every row once, in batches, even when they share one watermark", async () => {
    const platform = new FakePlatform();
    const run = publisher(await source(250), platform.submit);

    const batches = await drain(run);

    expect(batches).toBe(3);
    expect(platform.records.size).toBe(250);
    expect([...platform.applied.values()].every((count) => count === 1)).toBe(true);
    expect(platform.records.get("7")).toEqual({ id: 7, name: "Business 7", founded: "2000-01-08" });
  });

  it("sends rows in watermark order, without a gap or a duplicate across batches", async () => {
    const platform = new FakePlatform();
    const run = publisher(await source(250, { spread: true }), platform.submit, 40);

    await drain(run);

    expect(platform.records.size).toBe(250);
    expect([...platform.applied.values()].every((count) => count === 1)).toBe(true);
  });

  it("sends only what changed since its last batch, and nothing when nothing did", async () => {
    const platform = new FakePlatform();
    const dataset = await source(10);
    const run = publisher(dataset, platform.submit);
    await drain(run);

    await pool.query(
      `UPDATE ${dataset.source.table} SET name = 'Renamed', updated_at = TIMESTAMPTZ '2026-11-02 00:00:00+00' WHERE id = 3`,
    );
    const changed = await run.runOnce();
    const idle = await run.runOnce();

    expect(changed.records).toBe(1);
    expect(platform.submissions.at(-1)?.records).toEqual([
      { op: "upsert", record: { id: 3, name: "Renamed", founded: "2000-01-04" } },
    ]);
    expect(idle).toEqual({ records: 0 });
  });

  it("sends a deletion from the tombstone table, in order with a later re-insert of the same key", async () => {
    const platform = new FakePlatform();
    const dataset = await source(5);
    const run = publisher(dataset, platform.submit);
    await drain(run);
    const { table, tombstoneTable } = dataset.source;

    await pool.query(`
      DELETE FROM ${table} WHERE id IN (2, 4);
      INSERT INTO ${tombstoneTable} VALUES (2, TIMESTAMPTZ '2026-11-03 00:00:00+00'), (4, TIMESTAMPTZ '2026-11-03 00:00:00+00');
      INSERT INTO ${table} VALUES (4, 'Again', NULL, 5, TIMESTAMPTZ '2026-11-04 00:00:00+00');
    `);
    await run.runOnce();

    expect(platform.submissions.at(-1)?.records).toEqual([
      { op: "delete", key: "2" },
      { op: "delete", key: "4" },
      { op: "upsert", record: { id: 4, name: "Again", capital: "5" } },
    ]);
    expect([...platform.records.keys()].sort()).toEqual(["1", "3", "4", "5"]);
  });

  it("keeps its position when the platform does not take the batch, and sends the same batch again", async () => {
    const platform = new FakePlatform();
    const dataset = await source(30);
    const run = publisher(dataset, platform.submit);
    const failing = publisher(dataset, async () => {
      throw new Error("503 platform unavailable");
    });

    await expect(failing.runOnce()).rejects.toThrow("503 platform unavailable");
    await drain(run);

    expect(platform.records.size).toBe(30);
    expect([...platform.applied.values()].every((count) => count === 1)).toBe(true);
  });

  it("resubmits the same batch id after a crash between the platform taking a batch and the position moving", async () => {
    const platform = new FakePlatform();
    const dataset = await source(150);
    // The platform takes the batch; the node dies before it moves its position.
    const crashing = publisher(dataset, async (datasetId, records, batchKey) => {
      await platform.submit(datasetId, records, batchKey);
      throw new Error("killed");
    });
    await expect(crashing.runOnce()).rejects.toThrow("killed");

    const restarted = publisher(dataset, platform.submit);
    await drain(restarted);

    const [first, again] = platform.submissions;
    expect(again?.batchKey).toBe(first?.batchKey);
    expect(platform.batches.size).toBe(2);
    expect(platform.records.size).toBe(150);
    expect([...platform.applied.values()].every((count) => count === 1)).toBe(true);
  });

  it("resubmits the same batch id when its database goes away before the position moves", async () => {
    const platform = new FakePlatform();
    const dataset = await source(30);
    const lost = postgres.pool();
    const cut = new Publisher({
      pool: lost,
      dataset,
      batchSize: 100,
      stateTable: `state_${tables}`,
      submit: async (datasetId, records, batchKey) => {
        const taken = await platform.submit(datasetId, records, batchKey);
        await lost.end();
        return taken;
      },
    });

    await expect(cut.runOnce()).rejects.toBeInstanceOf(BackendUnavailableError);
    await drain(publisher(dataset, platform.submit));

    const [first, again] = platform.submissions;
    expect(again?.batchKey).toBe(first?.batchKey);
    expect(platform.records.size).toBe(30);
    expect([...platform.applied.values()].every((count) => count === 1)).toBe(true);
  });

  it("sends rows as they are now when they changed between such a crash and the restart", async () => {
    const platform = new FakePlatform();
    const dataset = await source(20);
    const crashing = publisher(dataset, async (datasetId, records, batchKey) => {
      await platform.submit(datasetId, records, batchKey);
      throw new Error("killed");
    });
    await expect(crashing.runOnce()).rejects.toThrow("killed");
    await pool.query(
      `UPDATE ${dataset.source.table} SET name = 'Changed meanwhile', updated_at = TIMESTAMPTZ '2026-11-05 00:00:00+00' WHERE id = 9`,
    );

    await drain(publisher(dataset, platform.submit));

    expect(platform.records.size).toBe(20);
    expect(platform.records.get("9")).toMatchObject({ name: "Changed meanwhile" });
  });

  it("passes its check when the source, its tombstones and every mapped column are there", async () => {
    await expect(publisher(await source(1), new FakePlatform().submit).check()).resolves.toBeUndefined();
  });

  it("finds a mapped column the source does not have when it checks, naming the setting", async () => {
    const dataset = await source(1);
    const misnamed = { ...dataset, source: { ...dataset.source, fields: { ...dataset.source.fields, name: "nme" } } };

    await expect(publisher(misnamed, new FakePlatform().submit).check()).rejects.toThrow(
      expect.objectContaining({ setting: `publishes[${DATASET}].source.fields.name` }),
    );
  });

  it("finds a tombstone table the database does not have when it checks, naming the setting", async () => {
    const dataset = await source(1);
    const missing = { ...dataset, source: { ...dataset.source, tombstoneTable: "no_such_tombstones" } };

    await expect(publisher(missing, new FakePlatform().submit).check()).rejects.toThrow(
      expect.objectContaining({ setting: `publishes[${DATASET}].source.tombstoneTable` }),
    );
  });

  it("refuses a source column that is not a plain identifier, naming the setting", () => {
    const dataset: PublishedDataset = {
      datasetId: DATASET,
      backend: "registry",
      everySeconds: 60,
      source: { table: "t", keyColumn: "id", watermarkColumn: "updated_at; DROP TABLE t", fields: { id: "id" } },
    };

    expect(() => new Publisher({ pool, dataset, submit: new FakePlatform().submit })).toThrow(
      expect.objectContaining({ setting: `publishes[${DATASET}].source.watermarkColumn` }),
    );
    expect(() => new Publisher({ pool, dataset, submit: new FakePlatform().submit })).toThrow(BackendConfigError);
  });
});
