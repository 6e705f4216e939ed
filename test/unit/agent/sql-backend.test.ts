import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor, SqlBackend } from "../../../agent/backends/sql.ts";
import {
  BackendConfigError,
  BackendQueryError,
  BackendUnavailableError,
  type QueryRequest,
} from "../../../agent/backends/types.ts";
import type { ServedDataset } from "../../../domain/agent/config.ts";
import { PGLITE_HOOK_TIMEOUT, PGLITE_TEST_TIMEOUT, startPostgres, type TestPostgres } from "./postgres.ts";

const ROWS = 250;

const citizens: ServedDataset = {
  datasetId: "MPS.POPULATION.CITIZENS",
  backend: "population",
  sql: {
    table: "registry.citizens",
    keyColumn: "citizen_id",
    fields: {
      citizenId: "citizen_id",
      fullName: "full_name",
      birthDate: "birth_date",
      province: "province",
      registeredAt: "registered_at",
      households: "households",
      address: "address",
      active: "active",
    },
    filterable: ["province", "active"],
  },
};

const citizenId = (n: number) => `C${String(n).padStart(4, "0")}`;

let postgres: TestPostgres;
let backend: SqlBackend;

beforeAll(async () => {
  postgres = await startPostgres();
  await postgres.db.exec(`
    CREATE SCHEMA registry;
    CREATE TABLE registry.citizens (
      citizen_id text PRIMARY KEY,
      full_name text NOT NULL,
      birth_date date,
      province text NOT NULL,
      registered_at timestamptz NOT NULL,
      households bigint,
      address jsonb,
      active boolean NOT NULL,
      secret_note text
    );
    INSERT INTO registry.citizens
      SELECT 'C' || lpad(n::text, 4, '0'), 'Citizen ' || n, DATE '1990-01-01' + n,
             CASE WHEN n % 5 = 0 THEN 'HN' ELSE 'HCM' END,
             TIMESTAMPTZ '2024-03-01 08:00:00+07' + make_interval(mins => n),
             9007199254740993 + n, jsonb_build_object('street', 'Street ' || n, 'ward', n % 7),
             n % 2 = 0, 'not for sharing'
      FROM generate_series(1, ${ROWS}) AS n;
    CREATE TABLE canary (id int);
    CREATE TABLE numbered (id integer PRIMARY KEY, label text);
    INSERT INTO numbered VALUES (1, 'one'), (2, 'two');
  `);
  backend = new SqlBackend("population", postgres.backend({ poolMax: 2 }));
  backend.validate(citizens);
}, PGLITE_HOOK_TIMEOUT);

afterAll(async () => {
  await backend?.close();
  await postgres?.stop();
}, PGLITE_HOOK_TIMEOUT);

const query = (overrides: Partial<QueryRequest> = {}): QueryRequest => ({
  dataset: citizens,
  filters: {},
  fields: [],
  limit: 50,
  ...overrides,
});

async function tableIsIntact(): Promise<void> {
  const counted = await postgres.db.query<{ n: number }>("SELECT count(*)::int AS n FROM registry.citizens");
  expect(counted.rows[0]?.n).toBe(ROWS);
  const canary = await postgres.db.query("SELECT to_regclass('canary') IS NOT NULL AS present");
  expect(canary.rows[0]).toEqual({ present: true });
}

describe("the SQL backend reading one record", { timeout: PGLITE_TEST_TIMEOUT }, () => {
  it("returns the record's requested fields, typed for JSON", async () => {
    const record = await backend.getRecord({
      dataset: citizens,
      key: "C0007",
      fields: ["fullName", "birthDate", "registeredAt", "households", "address", "active"],
    });

    expect(record).toEqual({
      fullName: "Citizen 7",
      birthDate: "1990-01-08",
      registeredAt: "2024-03-01T01:07:00.000Z",
      households: "9007199254741000",
      address: { street: "Street 7", ward: 0 },
      active: false,
    });
  });

  it("returns every mapped field, and no unmapped column, when no fields are asked for", async () => {
    const record = await backend.getRecord({ dataset: citizens, key: "C0010", fields: [] });

    expect(Object.keys(record ?? {}).sort()).toEqual(Object.keys(citizens.sql?.fields ?? {}).sort());
    expect(record).not.toHaveProperty("secret_note");
  });

  it("ignores requested fields the mapping does not hold", async () => {
    const record = await backend.getRecord({ dataset: citizens, key: "C0010", fields: ["fullName", "secret_note"] });

    expect(record).toEqual({ fullName: "Citizen 10" });
  });

  it("returns undefined for a key that names no record", async () => {
    expect(await backend.getRecord({ dataset: citizens, key: "C9999", fields: [] })).toBeUndefined();
  });

  it("returns undefined for a key the key column's type cannot hold", async () => {
    const numbered: ServedDataset = {
      datasetId: "X.NUMBERED",
      backend: "population",
      sql: { table: "numbered", keyColumn: "id", fields: { id: "id", label: "label" } },
    };

    expect(await backend.getRecord({ dataset: numbered, key: "abc", fields: [] })).toBeUndefined();
    expect(await backend.getRecord({ dataset: numbered, key: "2", fields: [] })).toEqual({ id: 2, label: "two" });
  });
});

describe("the SQL backend querying", { timeout: PGLITE_TEST_TIMEOUT }, () => {
  it("filters by equality on filterable fields", async () => {
    const page = await backend.query(query({ filters: { province: "HN", active: true }, fields: ["citizenId"] }));

    expect(page.items).toHaveLength(ROWS / 10);
    expect(page.items.every((item) => Number(String(item.citizenId).slice(1)) % 10 === 0)).toBe(true);
    expect(page.nextCursor).toBeUndefined();
  });

  it("refuses a filter on a field that is not filterable, naming it", async () => {
    await expect(backend.query(query({ filters: { fullName: "Citizen 1" } }))).rejects.toThrow(
      new BackendQueryError("filters.fullName: this dataset cannot be filtered on fullName here"),
    );
  });

  it("refuses a limit outside 1 to 1000", async () => {
    await expect(backend.query(query({ limit: 0 }))).rejects.toBeInstanceOf(BackendQueryError);
    await expect(backend.query(query({ limit: 1001 }))).rejects.toBeInstanceOf(BackendQueryError);
  });

  it("pages through every row in key order, without a duplicate or a gap", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await backend.query(query({ fields: ["citizenId"], limit: 40, ...(cursor ? { cursor } : {}) }));
      seen.push(...page.items.map((item) => String(item.citizenId)));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);

    expect(pages).toBe(Math.ceil(ROWS / 40));
    expect(seen).toEqual(Array.from({ length: ROWS }, (_, index) => citizenId(index + 1)));
  });

  it("pages with filters, the cursor carrying only the key position", async () => {
    const first = await backend.query(query({ filters: { province: "HN" }, fields: ["citizenId"], limit: 30 }));
    const second = await backend.query(
      query({ filters: { province: "HN" }, fields: ["citizenId"], limit: 30, cursor: first.nextCursor as string }),
    );

    expect(first.items).toHaveLength(30);
    expect(second.items).toHaveLength(ROWS / 5 - 30);
    expect(second.nextCursor).toBeUndefined();
  });
});

describe("the SQL backend against injection", { timeout: PGLITE_TEST_TIMEOUT }, () => {
  it("reads a key holding SQL as a value, and finds nothing", async () => {
    for (const key of ["x' OR '1'='1", "C0001'; DROP TABLE canary; --", 'C0001" OR 1=1 --', "C0001' --"]) {
      expect(await backend.getRecord({ dataset: citizens, key, fields: [] })).toBeUndefined();
    }
    await tableIsIntact();
  });

  it("reads a filter holding SQL as a value, and finds nothing", async () => {
    const page = await backend.query(query({ filters: { province: "HN' OR '1'='1'; DROP TABLE canary; --" } }));

    expect(page.items).toEqual([]);
    await tableIsIntact();
  });

  it("refuses a filter whose name holds SQL", async () => {
    await expect(
      backend.query(query({ filters: { 'province" = province OR 1=1; DROP TABLE canary; --': "HN" } })),
    ).rejects.toBeInstanceOf(BackendQueryError);
    await tableIsIntact();
  });

  it("refuses a tampered cursor", async () => {
    for (const cursor of ["not a cursor!", "eyJ2IjoyfQ", Buffer.from("' OR 1=1 --").toString("base64url"), ""]) {
      await expect(backend.query(query({ cursor }))).rejects.toBeInstanceOf(BackendQueryError);
    }
  });

  it("takes a well-formed cursor holding SQL as a key position only", async () => {
    const cursor = encodeCursor("C0248'; DROP TABLE canary; --");

    const page = await backend.query(query({ cursor, fields: ["citizenId"] }));

    expect(page.items).toEqual([{ citizenId: "C0249" }, { citizenId: "C0250" }]);
    await tableIsIntact();
  });

  it("refuses a cursor whose position the key column's type cannot hold", async () => {
    const numbered: ServedDataset = {
      datasetId: "X.NUMBERED",
      backend: "population",
      sql: { table: "numbered", keyColumn: "id", fields: { id: "id" } },
    };

    await expect(backend.query(query({ dataset: numbered, cursor: encodeCursor("1 OR 1=1") }))).rejects.toBeInstanceOf(
      BackendQueryError,
    );
  });

  it("round-trips its own cursors", () => {
    expect(decodeCursor(encodeCursor("C0001"))).toBe("C0001");
  });
});

describe("the SQL backend's configuration", { timeout: PGLITE_TEST_TIMEOUT }, () => {
  const misconfigured = (sql: Partial<NonNullable<ServedDataset["sql"]>>): ServedDataset => ({
    ...citizens,
    datasetId: "MPS.POPULATION.BROKEN",
    sql: { ...(citizens.sql as NonNullable<ServedDataset["sql"]>), ...sql },
  });

  function settingOf(run: () => unknown): string {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(BackendConfigError);
      return (error as BackendConfigError).setting;
    }
    throw new Error("expected a BackendConfigError");
  }

  it("refuses a column that is not a plain identifier, naming the setting", () => {
    const setting = settingOf(() =>
      backend.validate(
        misconfigured({ fields: { ...citizens.sql?.fields, fullName: 'full_name"; DROP TABLE canary; --' } }),
      ),
    );

    expect(setting).toBe("serves[MPS.POPULATION.BROKEN].sql.fields.fullName");
  });

  it("refuses a filterable field that is not mapped, naming the setting", () => {
    const setting = settingOf(() => backend.validate(misconfigured({ filterable: ["province", "ward"] })));

    expect(setting).toBe("serves[MPS.POPULATION.BROKEN].sql.filterable.1");
  });

  it("refuses a dataset without a sql mapping", () => {
    const setting = settingOf(() => backend.validate({ datasetId: "X.REST", backend: "population" }));

    expect(setting).toBe("serves[X.REST].sql");
  });

  it("finds a column the table does not have when it checks, naming the setting", async () => {
    const checked = new SqlBackend("population", postgres.backend());
    checked.validate(misconfigured({ fields: { ...citizens.sql?.fields, fullName: "full_nme" } }));

    const error = await checked.check().catch((caught: unknown) => caught);
    await checked.close();

    expect(error).toBeInstanceOf(BackendConfigError);
    expect(error).toMatchObject({ setting: "serves[MPS.POPULATION.BROKEN].sql.fields.fullName" });
    expect(String((error as Error).message)).toContain("column full_nme does not exist in table registry.citizens");
  });

  it("finds a table the database does not have when it checks, naming the setting", async () => {
    const checked = new SqlBackend("population", postgres.backend());
    checked.validate(misconfigured({ table: "registry.citizen" }));

    const error = await checked.check().catch((caught: unknown) => caught);
    await checked.close();

    expect(error).toMatchObject({ setting: "serves[MPS.POPULATION.BROKEN].sql.table" });
  });

  it("passes its check when every validated mapping is in the database", async () => {
    await expect(backend.check()).resolves.toBeUndefined();
  });
});

describe("the SQL backend with a slow statement", { timeout: PGLITE_TEST_TIMEOUT }, () => {
  it("sets PostgreSQL's statement_timeout on its connections", async () => {
    const timed = new SqlBackend("population", postgres.backend({ statementTimeoutMs: 2500 }));
    await timed.check();
    await timed.close();

    // PGlite is one session shared by every connection: what the backend's connection set shows here.
    const shown = await postgres.db.query<{ statement_timeout: string }>("SHOW statement_timeout");
    expect(shown.rows[0]?.statement_timeout).toBe("2500ms");
  });

  // PGlite cannot interrupt a running statement (no signals in WebAssembly): this is the driver's
  // own timeout, which backs statement_timeout up against a server that hangs.
  it("gives up on a statement that outlasts its timeout and reports the backend unavailable", async () => {
    await postgres.db.exec("CREATE VIEW slow AS SELECT 'a'::text AS id, pg_sleep(1.5)::text AS nap");
    const slow = new SqlBackend("population", postgres.backend({ statementTimeoutMs: 200 }));
    const dataset: ServedDataset = {
      datasetId: "X.SLOW",
      backend: "population",
      sql: { table: "slow", keyColumn: "id", fields: { id: "id", nap: "nap" } },
    };

    const error = await slow.getRecord({ dataset, key: "a", fields: [] }).catch((caught: unknown) => caught);
    await slow.close();

    expect(error).toBeInstanceOf(BackendUnavailableError);
  });
});

describe("the SQL backend when the database is down", { timeout: PGLITE_TEST_TIMEOUT }, () => {
  it("reports it unavailable, for reads and for its readiness check", async () => {
    const down = new SqlBackend("population", postgres.backend());
    down.validate(citizens);
    await down.check();
    await postgres.stopServer();

    await expect(down.getRecord({ dataset: citizens, key: "C0001", fields: [] })).rejects.toBeInstanceOf(
      BackendUnavailableError,
    );
    await expect(down.query(query())).rejects.toBeInstanceOf(BackendUnavailableError);
    await expect(down.check()).rejects.toBeInstanceOf(BackendUnavailableError);
    await down.close();
  });
});
