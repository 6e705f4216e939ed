import * as z from "zod/mini";
import type { ExchangeEntry } from "../exchange/model.ts";
import { pageLimit } from "../paging.ts";
import { ValidationError } from "../problem.ts";
import type { ChainedEntry } from "./chain.ts";
import type { VerifiableChain } from "./checkpointing.ts";

const instant = z.iso.datetime({ offset: true });

/** Query parameters of `GET /v1/logs`. */
export const logQuery = z.object({
  view: z.optional(
    z
      .enum(["consumer", "provider", "all"])
      .check(
        z.describe(
          "Whose entries: the caller's agency as consumer (default), as provider, or (operator, supervisor) all",
        ),
      ),
  ),
  from: z.optional(instant.check(z.describe("Entries at or after this time (ISO 8601)"))),
  to: z.optional(instant.check(z.describe("Entries before this time (ISO 8601)"))),
  datasetId: z.optional(z.string().check(z.maxLength(200))),
  outcome: z.optional(z.enum(["allowed", "denied", "failed"])),
});
export type LogQueryParameters = z.infer<typeof logQuery>;

/** Earliest and latest instants a log query can name, as the log's time keys spell them. */
const EARLIEST = "0000-01-01T00:00:00.000Z";
const LATEST = "9999-12-31T23:59:59.999Z";

/**
 * A query's time window as the log's time keys spell instants (UTC, milliseconds, `Z`), which
 * they are compared with as text: `2026-11-30T07:00:00+07:00` is `2026-11-30T00:00:00.000Z`, and
 * `…T00:00:00Z` does not sort after entries of that very second. A window that ends before it
 * starts is refused, naming both bounds (a key condition DynamoDB would refuse).
 */
export function timeWindow<W extends { readonly from?: string; readonly to?: string }>(window: W): W {
  const utc = (instant: string) => {
    const text = new Date(instant).toISOString();
    // Years beyond 0000-9999 are spelled with a sign (`-000001-…`, `+010000-…`).
    if (text.startsWith("-")) return EARLIEST;
    return text.startsWith("+") ? LATEST : text;
  };
  const from = window.from === undefined ? undefined : utc(window.from);
  const to = window.to === undefined ? undefined : utc(window.to);
  if (from !== undefined && to !== undefined && from > to) {
    throw new ValidationError("the time window ends before it starts", [
      { name: "from", reason: "must not be after to" },
      { name: "to", reason: "must not be before from" },
    ]);
  }
  return { ...window, ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
}

/** Query parameters of `GET /v1/logs/checkpoints`: the cursor is the number of the last checkpoint listed. */
export const checkpointPageQuery = z.object({
  limit: pageLimit,
  cursor: z.optional(
    z
      .string()
      .check(
        z.regex(/^[1-9][0-9]{0,11}$/, "must be the nextCursor of the previous page"),
        z.describe("The `nextCursor` of the previous page: the number of the oldest checkpoint it listed"),
      ),
  ),
});

/** Whose entries a log query may see (Art. 13): a consumer its calls, a provider its datasets', the supervisor all. */
export type LogScope = { kind: "all" } | { kind: "consumer"; agency: string } | { kind: "provider"; agency: string };

/** A scoped read of the log: a time window (UTC, as `timeWindow` spells it), optional filters, a page. */
export interface LogQuery {
  readonly from?: string;
  readonly to?: string;
  readonly datasetId?: string;
  readonly outcome?: string;
  readonly limit: number;
  readonly cursor?: string;
}

/**
 * Where the exchange log is kept (DynamoDB in the platform): each shard a hash chain, appended
 * to in order exactly once, read in sequence for checkpoints and verification, and by scope for
 * the log's readers; beside it, when each dataset was first shared (its connection, Art. 24.3).
 */
export interface ExchangeLogStore extends VerifiableChain {
  /**
   * Appends entries to one shard's chain, in order, exactly once (entries already appended, as a
   * retried batch has them, are skipped); returns the entries it chained.
   */
  append(shard: number, entries: readonly ExchangeEntry[]): Promise<ChainedEntry[]>;
  /** Entries a scope may see, newest first, within a time range. */
  query(scope: LogScope, query: LogQuery): Promise<{ items: ChainedEntry[]; nextCursor?: string }>;
  /** Records when a dataset was first shared; an earlier time replaces a later one, never the reverse. */
  markConnected(datasetId: string, at: string): Promise<void>;
  /** When each of the datasets was first shared through the platform, for those that were. */
  connections(datasetIds: readonly string[]): Promise<Map<string, string>>;
}
