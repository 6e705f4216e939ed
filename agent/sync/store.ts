import type pg from "pg";
import type { DeliveredRecord } from "../../domain/delivery/model.ts";
import { BackendConfigError, BackendUnavailableError } from "../backends/types.ts";

/*
 * The consumer side of sync (Art. 7.2b): record versions the platform pushes (or the node reads
 * from its inbox) applied into a PostgreSQL table of the agency's, at most once each and newest
 * version first. Delivery is at least once, in any order, possibly twice at the same time:
 *
 * - each record version's idempotency key is inserted into `<table>_applied` in the same
 *   transaction as the change, so a version is applied once whatever happens (a duplicate push,
 *   a concurrent one: the second waits on the first's key and then finds it);
 * - a record changes only for a newer version than it holds (`ON CONFLICT … WHERE version <`),
 *   and a delete keeps the row as a tombstone with its version, so a late older upsert cannot
 *   bring the record back;
 * - a push is one transaction: a crash or a lost connection mid-push rolls all of it back, and
 *   the platform's redelivery (it gets no 200) applies it whole.
 */

/** A table, optionally schema-qualified, leaving room for the `_applied` suffix. */
const TABLE = /^(?:[a-z_][a-z0-9_]{0,62}\.)?[a-z_][a-z0-9_]{0,54}$/;
const MAX_IDEMPOTENCY_KEY = 600;
/** PostgreSQL's deadlock and serialisation failures: the transaction is retried whole. */
const RETRIED = new Set(["40P01", "40001"]);
const ATTEMPTS = 3;
/** A unique violation on the catalog, or a relation that exists: a concurrent CREATE TABLE IF NOT EXISTS. */
const CREATE_RACE = new Set(["23505", "42P07"]);

/** A push whose records are not record versions: the node answers 400 and applies none of it. */
export class InvalidDeliveryError extends Error {
  override readonly name = "InvalidDeliveryError";
}

export interface ApplyResult {
  /** Record versions that changed the store. */
  readonly applied: number;
  /** Record versions applied before (by idempotency key): nothing done. */
  readonly duplicates: number;
  /** New record versions older than (or as old as) what the store holds: nothing changed. */
  readonly stale: number;
}

export interface StoredDelivery {
  readonly version: number;
  readonly deleted: boolean;
  readonly record?: Record<string, unknown>;
}

function quote(table: string): string {
  return table
    .split(".")
    .map((part) => `"${part}"`)
    .join(".");
}

/** Checks one pushed record version's shape; the platform signed the push, but a node trusts no input blindly. */
function checkRecord(record: DeliveredRecord, index: number): void {
  const invalid = (what: string) => new InvalidDeliveryError(`records/${index}: ${what}`);
  if (typeof record !== "object" || record === null) throw invalid("must be an object");
  const { idempotencyKey, key, version, op } = record;
  if (typeof idempotencyKey !== "string" || idempotencyKey === "" || idempotencyKey.length > MAX_IDEMPOTENCY_KEY) {
    throw invalid(`idempotencyKey must be a string of 1-${MAX_IDEMPOTENCY_KEY} characters`);
  }
  if (typeof key !== "string" || key === "") throw invalid("key must be a non-empty string");
  if (!Number.isSafeInteger(version) || version < 1) throw invalid("version must be a positive integer");
  if (op !== "upsert" && op !== "delete") throw invalid('op must be "upsert" or "delete"');
  if (
    op === "upsert" &&
    (typeof record.record !== "object" || record.record === null || Array.isArray(record.record))
  ) {
    throw invalid("record must be an object for an upsert");
  }
}

function isConnectionFailure(error: unknown): boolean {
  const code = String((error as { code?: unknown })?.code ?? "");
  const message = String((error as { message?: unknown })?.message ?? "");
  return (
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH)$/.test(code) ||
    /^(08|57)/.test(code) ||
    /Connection terminated|timeout exceeded when trying to connect|Query read timeout/i.test(message)
  );
}

/** One subscription's store: its records in `table`, the idempotency keys applied in `<table>_applied`. */
export class DeliveryStore {
  private readonly table: string;
  private readonly appliedTable: string;
  private readonly applyStatement: string;

  private constructor(
    private readonly pool: pg.Pool,
    table: string,
  ) {
    this.table = quote(table);
    this.appliedTable = quote(`${table}_applied`);
    // One round trip per record version: its key is taken, and only then is the record written,
    // if this version is newer than the row's. `fresh` and `changed` tell duplicate from stale.
    this.applyStatement = `
      WITH fresh AS (
        INSERT INTO ${this.appliedTable} (idempotency_key) VALUES ($1::text)
        ON CONFLICT (idempotency_key) DO NOTHING RETURNING 1
      ), changed AS (
        INSERT INTO ${this.table} AS held (key, version, deleted, record, applied_at)
        SELECT $2::text, $3::bigint, $4::boolean, $5::jsonb, now() WHERE EXISTS (SELECT 1 FROM fresh)
        ON CONFLICT (key) DO UPDATE
          SET version = EXCLUDED.version, deleted = EXCLUDED.deleted, record = EXCLUDED.record, applied_at = EXCLUDED.applied_at
          WHERE held.version < EXCLUDED.version
        RETURNING 1
      )
      SELECT EXISTS (SELECT 1 FROM fresh) AS "fresh", EXISTS (SELECT 1 FROM changed) AS "changed"`;
  }

  /**
   * The store of one subscription, creating its tables if missing. `setting` names the table's
   * place in the configuration for errors (`subscriptions[<id>].table`).
   */
  static async open(pool: pg.Pool, table: string, options: { setting?: string } = {}): Promise<DeliveryStore> {
    const setting = options.setting ?? "subscriptions.table";
    if (!TABLE.test(table)) {
      throw new BackendConfigError(
        setting,
        "must be a lower-case table name (at most 55 characters), optionally schema.table",
      );
    }
    const store = new DeliveryStore(pool, table);
    const create = async () => {
      await pool.query(
        `CREATE TABLE IF NOT EXISTS ${store.table} (
           key text PRIMARY KEY,
           version bigint NOT NULL,
           deleted boolean NOT NULL DEFAULT false,
           record jsonb,
           applied_at timestamptz NOT NULL DEFAULT now())`,
      );
      await pool.query(
        `CREATE TABLE IF NOT EXISTS ${store.appliedTable} (
           idempotency_key text PRIMARY KEY,
           applied_at timestamptz NOT NULL DEFAULT now())`,
      );
    };
    try {
      // Two nodes creating the same table at once: IF NOT EXISTS is not atomic in PostgreSQL, and
      // the one that lost the race finds the table on its second try.
      await create().catch((error: unknown) => {
        if (!CREATE_RACE.has(String((error as { code?: unknown })?.code ?? ""))) throw error;
        return create();
      });
      // A table of that name made for something else is found now, not at the first push.
      await pool.query(`SELECT key, version, deleted, record, applied_at FROM ${store.table} LIMIT 0`);
    } catch (error) {
      if (isConnectionFailure(error)) {
        throw new BackendUnavailableError(`the store's database cannot be reached: ${(error as Error).message}`, {
          cause: error,
        });
      }
      throw new BackendConfigError(setting, `table ${table} cannot hold deliveries: ${(error as Error).message}`);
    }
    return store;
  }

  /**
   * Applies one push's record versions in one transaction: each idempotency key once, each
   * record only to a newer version. Throws (and applies nothing) if the transaction fails; the
   * caller then answers so the platform delivers the push again.
   */
  async apply(records: readonly DeliveredRecord[]): Promise<ApplyResult> {
    records.forEach(checkRecord);
    // Rows are locked in one order (key, then version) in every push, so two concurrent pushes
    // wait on each other rather than deadlock; a deadlock or serialisation failure is retried.
    const ordered = [...records].sort(
      (a, b) =>
        (a.key < b.key ? -1 : a.key > b.key ? 1 : 0) ||
        a.version - b.version ||
        (a.idempotencyKey < b.idempotencyKey ? -1 : a.idempotencyKey > b.idempotencyKey ? 1 : 0),
    );
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.applyOnce(ordered);
      } catch (error) {
        const code = String((error as { code?: unknown })?.code ?? "");
        if (attempt < ATTEMPTS && RETRIED.has(code)) continue;
        // A value PostgreSQL cannot hold (a NUL character in jsonb): this push will never apply.
        if (code.startsWith("22")) {
          throw new InvalidDeliveryError(`a record holds a value the store cannot keep: ${(error as Error).message}`, {
            cause: error,
          });
        }
        if (isConnectionFailure(error)) {
          throw new BackendUnavailableError(`the store's database failed mid-push: ${(error as Error).message}`, {
            cause: error,
          });
        }
        throw error;
      }
    }
  }

  async get(key: string): Promise<StoredDelivery | undefined> {
    const result = await this.pool
      .query<{ version: string; deleted: boolean; record: Record<string, unknown> | null }>(
        `SELECT version, deleted, record FROM ${this.table} WHERE key = $1`,
        [key],
      )
      .catch((error: unknown) => {
        throw isConnectionFailure(error)
          ? new BackendUnavailableError(`the store's database cannot be reached: ${(error as Error).message}`, {
              cause: error,
            })
          : error;
      });
    const row = result.rows[0];
    if (!row) return undefined;
    return { version: Number(row.version), deleted: row.deleted, ...(row.record ? { record: row.record } : {}) };
  }

  private async applyOnce(records: readonly DeliveredRecord[]): Promise<ApplyResult> {
    const client = await this.pool.connect();
    // A connection lost mid-push fails the statement and is also emitted: heard here.
    const lost = () => undefined;
    client.on("error", lost);
    let failure: Error | undefined;
    try {
      await client.query("BEGIN");
      let applied = 0;
      let duplicates = 0;
      let stale = 0;
      for (const record of records) {
        const deleted = record.op === "delete";
        const result = await client.query<{ fresh: boolean; changed: boolean }>(this.applyStatement, [
          record.idempotencyKey,
          record.key,
          record.version,
          deleted,
          deleted ? null : JSON.stringify(record.record),
        ]);
        const outcome = result.rows[0];
        if (!outcome?.fresh) duplicates++;
        else if (outcome.changed) applied++;
        else stale++;
      }
      await client.query("COMMIT");
      return { applied, duplicates, stale };
    } catch (error) {
      failure = error as Error;
      if (!isConnectionFailure(error)) await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.removeListener("error", lost);
      // A connection that failed is closed, not handed out again; the server rolls its transaction back.
      client.release(failure && isConnectionFailure(failure) ? failure : undefined);
    }
  }
}
