import type { ExchangeEntry } from "../exchange/model.ts";

/*
 * Aggregate exchange figures for public disclosure (Art. 13.1a): per managing agency and per
 * dataset, counts by outcome and latency, and nothing about who consumed. A cell counting
 * fewer exchanges than the threshold is suppressed (shown as "suppressed", never as zero), and
 * a second cell is suppressed beside it wherever the one could be worked out from a total.
 */

/** What the figures read of a log entry: no consumer, no transaction, no end user. */
export type FigureEntry = Pick<ExchangeEntry, "datasetId" | "outcome" | "latencyMs">;

/** The smallest count of exchanges a published cell may show (1 to threshold - 1 are suppressed). */
export const SUPPRESSION_THRESHOLD = 10;
/** At most this many entries are read for one period; beyond, `truncated` says so. */
export const MAX_FIGURE_ENTRIES = 100_000;

export const SUPPRESSED = "suppressed" as const;
export type Cell = number | typeof SUPPRESSED;

export interface FigureRow {
  readonly level: "agency" | "dataset";
  /** The managing (provider) agency. */
  readonly agency: string;
  /** For a dataset's row. */
  readonly datasetId?: string;
  readonly exchanges: Cell;
  readonly allowed: Cell;
  readonly denied: Cell;
  readonly failed: Cell;
  /** Latency of the cell's exchanges, in milliseconds; suppressed with the cell. */
  readonly latencyP50Ms: Cell;
  readonly latencyP95Ms: Cell;
}

export interface Figures {
  readonly entriesRead: number;
  /** Entries naming no dataset of the catalog (refused calls naming made-up datasets), counted here only. */
  readonly unattributed: number;
  /** More entries fell in the period than were read: the figures cover the first {@link MAX_FIGURE_ENTRIES}. */
  readonly truncated: boolean;
  /** Agencies first, each followed by its datasets. */
  readonly rows: readonly FigureRow[];
}

interface Tally {
  exchanges: number;
  allowed: number;
  denied: number;
  failed: number;
  latencies: number[];
}

/**
 * Tallies the entries of a period by the catalog's datasets and their managing agencies,
 * holding one tally (and the latencies, at most {@link MAX_FIGURE_ENTRIES} in all) per cell,
 * never the entries; then suppresses the small cells.
 */
export async function aggregateFigures(
  entries: AsyncIterable<FigureEntry>,
  managingAgency: ReadonlyMap<string, string>,
  options: { threshold?: number; maxEntries?: number } = {},
): Promise<Figures> {
  const threshold = options.threshold ?? SUPPRESSION_THRESHOLD;
  const maxEntries = options.maxEntries ?? MAX_FIGURE_ENTRIES;
  const agencies = new Map<string, Tally>();
  const datasets = new Map<string, Tally>();
  let read = 0;
  let unattributed = 0;
  let truncated = false;
  for await (const entry of entries) {
    if (read >= maxEntries) {
      truncated = true;
      break;
    }
    read++;
    const agency = managingAgency.get(entry.datasetId);
    if (agency === undefined) {
      unattributed++;
      continue;
    }
    for (const tally of [keyed(agencies, agency), keyed(datasets, entry.datasetId)]) {
      tally.exchanges++;
      tally[entry.outcome]++;
      tally.latencies.push(entry.latencyMs);
    }
  }
  const rows: FigureRow[] = [];
  for (const agency of [...agencies.keys()].sort()) {
    const own = [...datasets.entries()]
      .filter(([datasetId]) => managingAgency.get(datasetId) === agency)
      .sort(([a], [b]) => a.localeCompare(b));
    rows.push(rowOf({ level: "agency", agency }, agencies.get(agency) as Tally, threshold));
    const datasetRows = own.map(([datasetId, tally]) =>
      rowOf({ level: "dataset", agency, datasetId }, tally, threshold),
    );
    rows.push(
      ...suppressComplement(
        datasetRows,
        own.map(([, tally]) => tally.exchanges),
      ),
    );
  }
  return { entriesRead: read, unattributed, truncated, rows };
}

function keyed(map: Map<string, Tally>, key: string): Tally {
  let found = map.get(key);
  if (!found) {
    found = { exchanges: 0, allowed: 0, denied: 0, failed: 0, latencies: [] };
    map.set(key, found);
  }
  return found;
}

/** Whether a count must be hidden: 1 to threshold - 1 (a true zero reveals no one). */
export function isSmall(count: number, threshold: number): boolean {
  return count > 0 && count < threshold;
}

/**
 * One cell's row: suppressed whole when it counts fewer exchanges than the threshold; else each
 * outcome under the threshold suppressed, and if that leaves one suppressed outcome (which the
 * total minus the others would give away) the smallest other non-zero outcome too.
 */
export function rowOf(
  where: Pick<FigureRow, "level" | "agency" | "datasetId">,
  tally: Omit<Tally, "latencies"> & { latencies: number[] },
  threshold: number,
): FigureRow {
  if (tally.exchanges < threshold) return suppressedRow(where);
  const outcomes = suppressOutcomes({ allowed: tally.allowed, denied: tally.denied, failed: tally.failed }, threshold);
  const sorted = [...tally.latencies].sort((a, b) => a - b);
  return {
    ...where,
    exchanges: tally.exchanges,
    ...outcomes,
    latencyP50Ms: percentile(sorted, 0.5),
    latencyP95Ms: percentile(sorted, 0.95),
  };
}

function suppressedRow(where: Pick<FigureRow, "level" | "agency" | "datasetId">): FigureRow {
  return {
    ...where,
    exchanges: SUPPRESSED,
    allowed: SUPPRESSED,
    denied: SUPPRESSED,
    failed: SUPPRESSED,
    latencyP50Ms: SUPPRESSED,
    latencyP95Ms: SUPPRESSED,
  };
}

type Outcomes = { allowed: number; denied: number; failed: number };

/** The outcome counts as published: small ones suppressed, and never one alone. */
export function suppressOutcomes(counts: Outcomes, threshold: number): Record<keyof Outcomes, Cell> {
  const names = ["allowed", "denied", "failed"] as const;
  const hidden = new Set(names.filter((name) => isSmall(counts[name], threshold)));
  if (hidden.size === 1) {
    const next = names.filter((name) => !hidden.has(name) && counts[name] > 0).sort((a, b) => counts[a] - counts[b])[0];
    if (next) hidden.add(next);
  }
  return {
    allowed: hidden.has("allowed") ? SUPPRESSED : counts.allowed,
    denied: hidden.has("denied") ? SUPPRESSED : counts.denied,
    failed: hidden.has("failed") ? SUPPRESSED : counts.failed,
  };
}

/**
 * An agency's dataset rows as published: if exactly one is suppressed, the agency's total less
 * the others would give it away, so the smallest other row is suppressed too.
 */
export function suppressComplement(rows: readonly FigureRow[], exchanges: readonly number[]): FigureRow[] {
  const result = [...rows];
  const hidden = result.filter((row) => row.exchanges === SUPPRESSED).length;
  if (hidden !== 1) return result;
  let smallest = -1;
  for (const [index, row] of result.entries()) {
    if (row.exchanges === SUPPRESSED) continue;
    if (smallest === -1 || (exchanges[index] ?? 0) < (exchanges[smallest] ?? 0)) smallest = index;
  }
  const row = result[smallest];
  if (row) result[smallest] = suppressedRow(row);
  return result;
}

/** The nearest-rank percentile of sorted values. */
function percentile(sorted: readonly number[], share: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)] ?? 0;
}
