import { createHash } from "node:crypto";
import type pg from "pg";
import type { PublishedDataset } from "../../domain/agent/config.ts";
import { COLUMN_NAME, checkTable, jsonValue, quoteIdentifier, TABLE_NAME, typeParsers } from "../backends/sql.ts";
import { BackendConfigError, BackendUnavailableError } from "../backends/types.ts";

/*
 * The provider side of sync (Art. 7.2b-c): a dataset's changes read from the agency's own
 * PostgreSQL table and sent to the platform as incremental batches.
 *
 * Changes are the table's rows and the tombstone table's rows (one per deleted key, with the
 * same key and watermark columns as the table), read as ONE stream ordered by
 * (watermark, key, deletes before upserts): a delete and a later re-insert of the same key keep
 * their order, and rows sharing a watermark are split between batches by key without a gap. The
 * stream's position is kept in a state table of the same database, one row per dataset, and moves
 * only after the platform accepted the batch.
 *
 * Resuming after a crash at any point loses no change and duplicates none:
 * - before the platform took the batch: the position has not moved; the next run reads the same
 *   changes again.
 * - after the platform took it, before the position moved: the next run reads from the same
 *   position. The batch id is derived from the dataset, the position and the batch's content, so
 *   the same changes are the same batch id, which the platform treats idempotently (the same
 *   batch again answers 200 and changes nothing; `POST /v1/sync/{datasetId}/batches`). If rows
 *   changed meanwhile, the content differs and so does the id: that batch carries the rows as they
 *   are now, later in the dataset's sequence than the first, and re-sending a record as it stands
 *   is harmless (the platform keeps no new version for an identical record, and deleting a deleted
 *   one changes nothing).
 * - while the position moves: it is one statement, moved only from where this run started.
 *
 * The watermark column must be NOT NULL and set by every write that should be published (a
 * trigger's `now()` or a sequence). A watermark set inside a long transaction that commits after a
 * later one was published is missed: publish from a column assigned at commit order (a sequence
 * bumped by trigger) where writers hold long transactions.
 */

/** One operation of a sync batch, as `POST /v1/sync/{datasetId}/batches` takes it. */
export type SyncRecord =
  | { readonly op: "upsert"; readonly record: Record<string, unknown> }
  | { readonly op: "delete"; readonly key: string };

/** Sends one batch to the platform; resolves once the platform accepted it (202, or 200 for a batch it had). */
export type SubmitBatch = (datasetId: string, records: SyncRecord[], batchKey: string) => Promise<{ batchId: string }>;

export interface PublisherOptions {
  readonly pool: pg.Pool;
  readonly dataset: PublishedDataset;
  readonly submit: SubmitBatch;
  /** Where positions are kept, one row per dataset. @default "dscp_publisher_state" */
  readonly stateTable?: string;
  /** Changes per batch, at most the platform's 1,000 inline operations. @default 500 */
  readonly batchSize?: number;
}

/** Where the stream stands: the last change sent, as PostgreSQL writes its watermark and key in text. */
interface Position {
  readonly watermark: string;
  readonly key: string;
  /** 0 for a delete, 1 for an upsert: a delete sorts first at the same watermark and key. */
  readonly kind: number;
}

const MAX_BATCH = 1000;
const DEFAULT_BATCH = 500;

/** Publishes one dataset's changes; see the module comment. */
export class Publisher {
  private readonly pool: pg.Pool;
  private readonly dataset: PublishedDataset;
  private readonly submit: SubmitBatch;
  private readonly stateTable: string;
  private readonly batchSize: number;
  private readonly changes: string;
  private readonly fields: readonly string[];
  private ready: Promise<void> | undefined;

  constructor(options: PublisherOptions) {
    this.pool = options.pool;
    this.dataset = options.dataset;
    this.submit = options.submit;
    this.batchSize = options.batchSize ?? DEFAULT_BATCH;
    const setting = `publishes[${options.dataset.datasetId}]`;
    if (!Number.isInteger(this.batchSize) || this.batchSize < 1 || this.batchSize > MAX_BATCH) {
      throw new BackendConfigError(`${setting}.batchSize`, `must be an integer from 1 to ${MAX_BATCH}`);
    }
    const stateTable = options.stateTable ?? "dscp_publisher_state";
    if (!TABLE_NAME.test(stateTable)) throw new BackendConfigError("stateTable", "must be a lower-case table name");
    this.stateTable = quoteIdentifier(stateTable);
    const source = options.dataset.source;
    const table = (name: string, at: string) => {
      if (!TABLE_NAME.test(name)) {
        throw new BackendConfigError(
          `${setting}.source.${at}`,
          "must be a lower-case table name, optionally schema.table",
        );
      }
      return quoteIdentifier(name);
    };
    const column = (name: string, at: string) => {
      if (!COLUMN_NAME.test(name)) {
        throw new BackendConfigError(`${setting}.source.${at}`, "must be a lower-case column name");
      }
      return quoteIdentifier(name);
    };
    const rows = table(source.table, "table");
    const key = column(source.keyColumn, "keyColumn");
    const watermark = column(source.watermarkColumn, "watermarkColumn");
    const entries = Object.entries(source.fields);
    if (entries.length === 0) throw new BackendConfigError(`${setting}.source.fields`, "must map at least one field");
    this.fields = entries.map(([field]) => field);
    const selected = entries.map(([field, name], index) => `${column(name, `fields.${field}`)} AS "f${index}"`);
    const after = (kind: number) => `WHERE $1::boolean OR ROW(${watermark}, ${key}, ${kind}) > ROW($2, $3, $4::int)`;
    const branches = [
      `SELECT ${watermark} AS "w", ${key} AS "k", 1 AS "kind", ${selected.join(", ")} FROM ${rows} ${after(1)}`,
    ];
    if (source.tombstoneTable) {
      const tombstones = table(source.tombstoneTable, "tombstoneTable");
      const nothing = entries.map((_, index) => `NULL AS "f${index}"`);
      branches.push(`SELECT ${watermark}, ${key}, 0, ${nothing.join(", ")} FROM ${tombstones} ${after(0)}`);
    }
    // Positions are PostgreSQL's own text of the watermark and key; the comparison reads them back
    // as the columns' types. Each branch filters on its own (watermark, key) index, if any.
    this.changes = `SELECT "w"::text AS "wt", "k"::text AS "kt", "kind", ${this.fields.map((_, index) => `"f${index}"`).join(", ")}
      FROM (${branches.join(" UNION ALL ")}) AS "change"
      ORDER BY "w", "k", "kind" LIMIT $5`;
  }

  /**
   * Sends the next batch of changes after the stored position, up to the batch size, and moves
   * the position past them once the platform accepted it. Nothing to send: `{ records: 0 }`.
   */
  async runOnce(): Promise<{ records: number; batchId?: string }> {
    await this.prepare();
    const from = await this.position();
    const rows = await this.read<{ wt: string; kt: string; kind: number } & Record<string, unknown>>({
      text: this.changes,
      values: [from === undefined, from?.watermark ?? null, from?.key ?? null, from?.kind ?? 0, this.batchSize],
      types: typeParsers,
    });
    const last = rows[rows.length - 1];
    if (!last) return { records: 0 };
    const records: SyncRecord[] = rows.map((row) =>
      row.kind === 0 ? { op: "delete", key: row.kt } : { op: "upsert", record: this.recordOf(row) },
    );
    const batchKey = this.batchKeyOf(from, records);
    const { batchId } = await this.submit(this.dataset.datasetId, records, batchKey);
    await this.advance(from, { watermark: last.wt, key: last.kt, kind: last.kind });
    return { records: records.length, batchId };
  }

  /**
   * Finds the source table, the tombstone table and every mapped column in the database: a
   * misconfigured one is a {@link BackendConfigError} naming its setting, an unreachable database
   * a {@link BackendUnavailableError}.
   */
  async check(): Promise<void> {
    const setting = `publishes[${this.dataset.datasetId}].source`;
    const source = this.dataset.source;
    const run = async (text: string, values: unknown[]) => {
      try {
        return await this.pool.query(text, values);
      } catch (error) {
        throw unavailable(error);
      }
    };
    const keyAndWatermark = [
      { column: source.keyColumn, setting: `${setting}.keyColumn` },
      { column: source.watermarkColumn, setting: `${setting}.watermarkColumn` },
    ];
    await checkTable(run, {
      table: source.table,
      setting: `${setting}.table`,
      columns: [
        ...keyAndWatermark,
        ...Object.entries(source.fields).map(([field, column]) => ({ column, setting: `${setting}.fields.${field}` })),
      ],
    });
    if (source.tombstoneTable) {
      await checkTable(run, {
        table: source.tombstoneTable,
        setting: `${setting}.tombstoneTable`,
        columns: keyAndWatermark,
      });
    }
  }

  /** `agent-<hex>`: the same dataset, position and changes give the same id (the platform's batch ids: 8-100 of [A-Za-z0-9._-]). */
  private batchKeyOf(from: Position | undefined, records: readonly SyncRecord[]): string {
    const digest = createHash("sha256")
      .update(JSON.stringify([this.dataset.datasetId, from ?? null, records]))
      .digest("hex");
    return `agent-${digest.slice(0, 48)}`;
  }

  /** A row's mapped fields; a NULL column is left out (the record holds what the row holds). */
  private recordOf(row: Record<string, unknown>): Record<string, unknown> {
    const record: Record<string, unknown> = {};
    this.fields.forEach((field, index) => {
      const value = row[`f${index}`];
      if (value !== null && value !== undefined) record[field] = jsonValue(value);
    });
    return record;
  }

  private prepare(): Promise<void> {
    this.ready ??= this.pool
      .query(
        `CREATE TABLE IF NOT EXISTS ${this.stateTable} (
           dataset_id text PRIMARY KEY,
           watermark text NOT NULL,
           key text NOT NULL,
           kind int NOT NULL,
           updated_at timestamptz NOT NULL DEFAULT now())`,
      )
      .then(
        () => undefined,
        (error: unknown) => {
          this.ready = undefined;
          throw unavailable(error);
        },
      );
    return this.ready;
  }

  private async position(): Promise<Position | undefined> {
    const rows = await this.read<Position>({
      text: `SELECT watermark, key, kind FROM ${this.stateTable} WHERE dataset_id = $1`,
      values: [this.dataset.datasetId],
    });
    return rows[0];
  }

  /**
   * Moves the position from where this run read to `to`; a position another run moved meanwhile
   * is left as it is (that run sent its own batch).
   */
  private async advance(from: Position | undefined, to: Position): Promise<void> {
    const values = [this.dataset.datasetId, to.watermark, to.key, to.kind];
    await this.read(
      from === undefined
        ? {
            text: `INSERT INTO ${this.stateTable} (dataset_id, watermark, key, kind) VALUES ($1, $2, $3, $4)
                   ON CONFLICT (dataset_id) DO NOTHING`,
            values,
          }
        : {
            text: `UPDATE ${this.stateTable} SET watermark = $2, key = $3, kind = $4, updated_at = now()
                   WHERE dataset_id = $1 AND watermark = $5 AND key = $6 AND kind = $7`,
            values: [...values, from.watermark, from.key, from.kind],
          },
    );
  }

  private async read<T>(query: pg.QueryConfig): Promise<T[]> {
    try {
      return (await this.pool.query(query)).rows as T[];
    } catch (error) {
      throw unavailable(error);
    }
  }
}

function unavailable(error: unknown): BackendUnavailableError {
  return new BackendUnavailableError(`the source database: ${(error as Error).message}`, { cause: error });
}
