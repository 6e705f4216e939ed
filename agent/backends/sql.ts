import pg from "pg";
import type { ServedDataset } from "../../domain/agent/config.ts";
import { type SqlBackendConfig, servedSetting, sqlPassword } from "./config.ts";
import {
  type Backend,
  BackendConfigError,
  BackendQueryError,
  BackendUnavailableError,
  type QueryRequest,
  type RecordRequest,
} from "./types.ts";

/*
 * The PostgreSQL backend: a served dataset is a table (or view), its key a column, its fields
 * columns. Every statement is generated from the dataset's mapping, whose identifiers are checked
 * against a strict pattern and double-quoted, and every value (key, filter, cursor, limit) is a
 * bound parameter: nothing a caller sends ever becomes SQL text.
 */

/** A table, optionally schema-qualified: as the central configuration allows it. */
export const TABLE_NAME = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;
/** A column: PostgreSQL's unquoted identifier shape, in lower case, at most 63 bytes. */
export const COLUMN_NAME = /^[a-z_][a-z0-9_]{0,62}$/;
const MAX_LIMIT = 1000;
const DEFAULT_POOL_MAX = 10;
const DEFAULT_STATEMENT_TIMEOUT_MS = 5000;
const CONNECT_TIMEOUT_MS = 5000;
/** The cursor's own shape: a version and the last key seen, as PostgreSQL writes it in text. */
const CURSOR_VERSION = 1;

/** A dataset's mapping, checked and turned into quoted SQL once. */
interface Plan {
  readonly setting: string;
  /** Quoted: as a statement and `to_regclass` take it. */
  readonly table: string;
  readonly keyColumn: string;
  /** Dataset field -> its column, quoted. */
  readonly columns: ReadonlyMap<string, string>;
  readonly rawColumns: ReadonlyMap<string, string>;
  readonly filterable: ReadonlySet<string>;
}

export interface SqlBackendOptions {
  /** Where `env:NAME` secrets are read. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Told of errors on idle connections (the next query reports them anyway). */
  readonly onPoolError?: (error: Error) => void;
}

/** PostgreSQL's type ids whose driver defaults would shift a value: `date` and `timestamp` (no zone) are read as local time. */
const DATE_OID = 1082;
const TIMESTAMP_OID = 1114;

/**
 * The driver's parsers, but a `date` stays `YYYY-MM-DD` and a `timestamp` without zone stays the
 * wall-clock time it is (ISO, no zone): neither names an instant, so neither becomes one.
 */
export const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: "text" | "binary") => {
    if (oid === DATE_OID && format !== "binary") return (value: string) => value;
    if (oid === TIMESTAMP_OID && format !== "binary") return (value: string) => value.replace(" ", "T");
    return format === "binary" ? pg.types.getTypeParser(oid, "binary") : pg.types.getTypeParser(oid, "text");
  }) as pg.CustomTypesConfig["getTypeParser"],
};

/** Quotes a checked identifier (`schema.table` part by part). */
export function quoteIdentifier(identifier: string): string {
  return identifier
    .split(".")
    .map((part) => `"${part}"`)
    .join(".");
}

/** Checks a served dataset's SQL mapping; throws {@link BackendConfigError} naming the setting. */
export function planOf(dataset: ServedDataset): Plan {
  const setting = `${servedSetting(dataset)}.sql`;
  const sql = dataset.sql;
  if (!sql) throw new BackendConfigError(setting, `dataset ${dataset.datasetId} is served by a sql backend: give sql`);
  if (!TABLE_NAME.test(sql.table)) {
    throw new BackendConfigError(`${setting}.table`, "must be a lower-case table name, optionally schema.table");
  }
  if (!COLUMN_NAME.test(sql.keyColumn)) {
    throw new BackendConfigError(`${setting}.keyColumn`, "must be a lower-case column name");
  }
  const entries = Object.entries(sql.fields);
  if (entries.length === 0) throw new BackendConfigError(`${setting}.fields`, "must map at least one field");
  const columns = new Map<string, string>();
  const rawColumns = new Map<string, string>();
  for (const [field, column] of entries) {
    if (!COLUMN_NAME.test(column)) {
      throw new BackendConfigError(`${setting}.fields.${field}`, `"${column}" must be a lower-case column name`);
    }
    columns.set(field, quoteIdentifier(column));
    rawColumns.set(field, column);
  }
  const filterable = new Set(sql.filterable ?? []);
  (sql.filterable ?? []).forEach((field, index) => {
    if (!columns.has(field)) {
      throw new BackendConfigError(`${setting}.filterable.${index}`, `"${field}" is not a mapped field`);
    }
  });
  return {
    setting,
    table: quoteIdentifier(sql.table),
    keyColumn: quoteIdentifier(sql.keyColumn),
    columns,
    rawColumns,
    filterable,
  };
}

/**
 * Finds a table (as the search path resolves it), that its user may read it, and each column in
 * it; throws a {@link BackendConfigError} naming the setting of the first one missing.
 */
export async function checkTable(
  run: (text: string, values: unknown[]) => Promise<pg.QueryResult>,
  expected: {
    readonly table: string;
    readonly setting: string;
    readonly columns: ReadonlyArray<{ readonly column: string; readonly setting: string }>;
  },
): Promise<void> {
  const found = await run(
    `SELECT to_regclass($1) IS NOT NULL AS "exists",
            COALESCE(has_table_privilege(to_regclass($1), 'SELECT'), false) AS "readable",
            ARRAY(SELECT attname::text FROM pg_attribute
                  WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped) AS "columns"`,
    [quoteIdentifier(expected.table)],
  );
  const row = found.rows[0] as { exists: boolean; readable: boolean; columns: string[] } | undefined;
  const table = expected.table;
  if (!row?.exists) throw new BackendConfigError(expected.setting, `table ${table} does not exist`);
  if (!row.readable) throw new BackendConfigError(expected.setting, `this user may not read table ${table}`);
  const columns = new Set(row.columns);
  for (const { column, setting } of expected.columns) {
    if (!columns.has(column)) {
      throw new BackendConfigError(setting, `column ${column} does not exist in table ${table}`);
    }
  }
}

/** A value as JSON carries it: instants as ISO strings, bytes as base64; numbers, text and jsonb as the driver gives them. */
export function jsonValue(value: unknown): unknown {
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? null : value.toISOString();
  if (Buffer.isBuffer(value)) return value.toString("base64");
  if (Array.isArray(value)) return value.map(jsonValue);
  return value;
}

export function encodeCursor(lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: CURSOR_VERSION, k: lastKey })).toString("base64url");
}

/** The last key of the previous page, or a {@link BackendQueryError} for anything this backend did not write. */
export function decodeCursor(cursor: string): string {
  const invalid = () => new BackendQueryError("cursor: not one this node gave (pass nextCursor as it came)");
  if (!/^[A-Za-z0-9_-]{1,2000}$/.test(cursor)) throw invalid();
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
  } catch {
    throw invalid();
  }
  if (typeof parsed !== "object" || parsed === null) throw invalid();
  const { v, k } = parsed as { v?: unknown; k?: unknown };
  if (v !== CURSOR_VERSION || typeof k !== "string" || k.length > 1000) throw invalid();
  return k;
}

/** Network failures, and PostgreSQL's own "cannot serve you now" classes. */
function isConnectionFailure(error: unknown): boolean {
  const code = String((error as { code?: unknown })?.code ?? "");
  const message = String((error as { message?: unknown })?.message ?? "");
  return (
    /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENOTFOUND|EHOSTUNREACH|ENETUNREACH|EPIPE|EAI_AGAIN)$/.test(code) ||
    /^(08|53|57)/.test(code) ||
    /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error/i.test(
      message,
    )
  );
}

/** A value PostgreSQL cannot read as the column's type (SQLSTATE class 22): the caller's input. */
function isDataException(error: unknown): boolean {
  return /^22/.test(String((error as { code?: unknown })?.code ?? ""));
}

/**
 * A dataset served from a PostgreSQL table through a connection pool; see the module comment.
 * Fields asked for that the mapping does not hold are ignored: the platform has already cut the
 * request to the consumer's permitted fields, and a field the node does not map has no value here.
 */
export class SqlBackend implements Backend {
  readonly type = "sql" as const;
  private readonly pool: pg.Pool;
  private readonly plans = new WeakMap<ServedDataset, Plan>();
  /** Every dataset validated: what `check` looks for in the database. */
  private readonly validated = new Map<string, ServedDataset>();
  /** Connections whose session has its statement_timeout set. */
  private readonly prepared = new WeakSet<pg.PoolClient>();
  private readonly statementTimeout: number;

  constructor(
    readonly name: string,
    config: SqlBackendConfig,
    options: SqlBackendOptions = {},
  ) {
    const password = sqlPassword(name, config, options.env);
    const statementTimeout = config.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS;
    this.pool = new pg.Pool({
      host: config.host,
      port: config.port,
      database: config.database,
      user: config.user,
      ...(password !== undefined ? { password } : {}),
      ...(config.ssl !== undefined ? { ssl: config.ssl } : {}),
      max: config.poolMax ?? DEFAULT_POOL_MAX,
      connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
      idleTimeoutMillis: 30_000,
      application_name: "dscp-agent",
      types: typeParsers,
      // The driver gives up a little after the server should have, for a server that hangs.
      query_timeout: statementTimeout + 1000,
    });
    // An idle connection the server dropped: pg emits it here, and would crash the process unheard.
    this.pool.on("error", (error) => options.onPoolError?.(error));
    this.statementTimeout = Math.trunc(statementTimeout);
  }

  validate(dataset: ServedDataset): void {
    this.planFor(dataset);
    this.validated.set(dataset.datasetId, dataset);
  }

  async getRecord(request: RecordRequest, signal?: AbortSignal): Promise<Record<string, unknown> | undefined> {
    const plan = this.planFor(request.dataset);
    const fields = this.projection(plan, request.fields);
    const select = fields.map((field, index) => `${plan.columns.get(field)} AS "f${index}"`);
    const text = `SELECT ${['1 AS "present"', ...select].join(", ")} FROM ${plan.table} WHERE ${plan.keyColumn} = $1 LIMIT 1`;
    try {
      const result = await this.run(text, [request.key], signal);
      const row = result.rows[0];
      return row ? this.record(fields, row) : undefined;
    } catch (error) {
      // A key the key column's type cannot hold (text for an integer key) names no record.
      if (isDataException(error)) return undefined;
      throw error;
    }
  }

  async query(
    request: QueryRequest,
    signal?: AbortSignal,
  ): Promise<{ items: Record<string, unknown>[]; nextCursor?: string }> {
    const plan = this.planFor(request.dataset);
    if (!Number.isInteger(request.limit) || request.limit < 1 || request.limit > MAX_LIMIT) {
      throw new BackendQueryError(`limit: must be an integer from 1 to ${MAX_LIMIT}`);
    }
    const values: unknown[] = [];
    const where: string[] = [];
    for (const [field, value] of Object.entries(request.filters)) {
      const column = plan.columns.get(field);
      if (!column || !plan.filterable.has(field)) {
        throw new BackendQueryError(`filters.${field}: this dataset cannot be filtered on ${field} here`);
      }
      if (!["string", "number", "boolean"].includes(typeof value)) {
        throw new BackendQueryError(`filters.${field}: must be a string, a number or a boolean`);
      }
      values.push(value);
      where.push(`${column} = $${values.length}`);
    }
    if (request.cursor !== undefined) {
      values.push(decodeCursor(request.cursor));
      where.push(`${plan.keyColumn} > $${values.length}`);
    }
    values.push(request.limit + 1);
    const fields = this.projection(plan, request.fields);
    const select = fields.map((field, index) => `${plan.columns.get(field)} AS "f${index}"`);
    const text = [
      `SELECT ${[`${plan.keyColumn}::text AS "k"`, ...select].join(", ")} FROM ${plan.table}`,
      where.length > 0 ? `WHERE ${where.join(" AND ")}` : "",
      `ORDER BY ${plan.keyColumn} LIMIT $${values.length}`,
    ]
      .filter(Boolean)
      .join(" ");
    let rows: Record<string, unknown>[];
    try {
      rows = (await this.run(text, values, signal)).rows;
    } catch (error) {
      if (isDataException(error)) {
        throw new BackendQueryError("filters or cursor: a value does not fit its column's type", { cause: error });
      }
      throw error;
    }
    const page = rows.slice(0, request.limit);
    const items = page.map((row) => this.record(fields, row));
    const last = page[page.length - 1];
    return rows.length > request.limit && last ? { items, nextCursor: encodeCursor(String(last.k)) } : { items };
  }

  /**
   * Reaches the database, and finds every validated dataset's table and columns in it (and that
   * this user may read the table): a misconfigured mapping is a {@link BackendConfigError} naming
   * the setting, an unreachable database a {@link BackendUnavailableError}.
   */
  async check(signal?: AbortSignal): Promise<void> {
    await this.run("SELECT 1", [], signal);
    for (const dataset of this.validated.values()) {
      const plan = this.planFor(dataset);
      const sql = dataset.sql as NonNullable<ServedDataset["sql"]>;
      await checkTable((text, values) => this.run(text, values, signal), {
        table: sql.table,
        setting: `${plan.setting}.table`,
        columns: [
          { column: sql.keyColumn, setting: `${plan.setting}.keyColumn` },
          ...[...plan.rawColumns].map(([field, column]) => ({ column, setting: `${plan.setting}.fields.${field}` })),
        ],
      });
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  private planFor(dataset: ServedDataset): Plan {
    const known = this.plans.get(dataset);
    if (known) return known;
    const plan = planOf(dataset);
    this.plans.set(dataset, plan);
    return plan;
  }

  /** The fields to return: those asked for that the mapping holds, in the order asked; all when none are asked for. */
  private projection(plan: Plan, requested: readonly string[]): string[] {
    if (requested.length === 0) return [...plan.columns.keys()];
    return [...new Set(requested)].filter((field) => plan.columns.has(field));
  }

  private record(fields: readonly string[], row: Record<string, unknown>): Record<string, unknown> {
    const record: Record<string, unknown> = {};
    fields.forEach((field, index) => {
      record[field] = jsonValue(row[`f${index}`]);
    });
    return record;
  }

  /** Runs one statement on a pooled connection; connection failures become {@link BackendUnavailableError}. */
  private async run(text: string, values: unknown[], signal?: AbortSignal): Promise<pg.QueryResult> {
    const abandoned = () => new BackendUnavailableError(`backend ${this.name}: the call was abandoned`);
    if (signal?.aborted) throw abandoned();
    const work = this.onConnection(text, values);
    try {
      if (!signal) return await work;
      // pg cannot cancel from here; statement_timeout ends the statement, the caller stops waiting now.
      work.catch(() => undefined);
      return await new Promise<pg.QueryResult>((resolve, reject) => {
        const abort = () => reject(abandoned());
        signal.addEventListener("abort", abort, { once: true });
        work.then(resolve, reject).finally(() => signal.removeEventListener("abort", abort));
      });
    } catch (error) {
      if (error instanceof BackendUnavailableError) throw error;
      if (isConnectionFailure(error)) {
        throw new BackendUnavailableError(
          `backend ${this.name}: PostgreSQL cannot be reached or cannot serve now (${(error as Error).message})`,
          { cause: error },
        );
      }
      if (isDataException(error)) throw error;
      // Anything else the server refused (a dropped column, a revoked grant) is the provider's fault: a 502.
      throw new BackendUnavailableError(
        `backend ${this.name}: PostgreSQL refused the query (${(error as Error).message})`,
        {
          cause: error,
        },
      );
    }
  }

  /**
   * One statement on a pooled connection. A new connection first gets its statement_timeout, set
   * in the session rather than as a startup parameter (which PgBouncer refuses by default); a
   * connection that failed is discarded, not handed out again.
   */
  private async onConnection(text: string, values: unknown[]): Promise<pg.QueryResult> {
    const client = await this.pool.connect();
    // A connection lost mid-statement fails the statement and is also emitted: heard here, as pool.query does.
    const lost = () => undefined;
    client.on("error", lost);
    try {
      if (!this.prepared.has(client)) {
        await client.query(`SET statement_timeout = ${this.statementTimeout}`);
        this.prepared.add(client);
      }
      const result = await client.query(text, values);
      client.removeListener("error", lost);
      client.release();
      return result;
    } catch (error) {
      client.removeListener("error", lost);
      client.release(isConnectionFailure(error) ? (error as Error) : undefined);
      throw error;
    }
  }
}
