import * as z from "zod/mini";
import type { ExchangeEntry } from "../exchange/model.ts";

/** Query parameters of `GET /v1/metrics`. */
export const metricsQuery = z.object({
  view: z.optional(
    z
      .enum(["consumer", "provider", "all"])
      .check(
        z.describe("Whose exchanges: the caller's agency as consumer, as provider, or (operator, supervisor) all"),
      ),
  ),
  from: z.optional(z.iso.datetime({ offset: true }).check(z.describe("Start of the window (default: 24 hours ago)"))),
  to: z.optional(z.iso.datetime({ offset: true }).check(z.describe("End of the window (default: now)"))),
  datasetId: z.optional(z.string().check(z.maxLength(200))),
});

/** At most this many entries are summarised per request; beyond, `truncated` says so. */
export const MAX_SUMMARISED = 100_000;

interface Tally {
  total: number;
  allowed: number;
  denied: number;
  failed: number;
  records: number;
  bytes: number;
}

export interface MetricsSummary {
  readonly from: string;
  readonly to: string;
  readonly entries: number;
  /** More entries fell in the window than were summarised: narrow it. */
  readonly truncated: boolean;
  readonly outcomes: { readonly allowed: number; readonly denied: number; readonly failed: number };
  /** Shares of all entries, in percent. */
  readonly errorRate: number;
  readonly denialRate: number;
  readonly latencyMs: { readonly p50: number; readonly p95: number; readonly p99: number; readonly max: number };
  readonly records: number;
  readonly bytes: number;
  readonly byOperation: ReadonlyArray<{ readonly operation: string } & Readonly<Tally>>;
  readonly byMethod: ReadonlyArray<{ readonly method: string } & Readonly<Tally>>;
  /** The 50 busiest datasets and consumers. */
  readonly byDataset: ReadonlyArray<{ readonly datasetId: string } & Readonly<Tally>>;
  readonly byConsumer: ReadonlyArray<{ readonly consumerSystem: string } & Readonly<Tally>>;
  /** Why attempts were refused or failed, by problem type. */
  readonly problems: ReadonlyArray<{ readonly problemType: string; readonly count: number }>;
}

/**
 * Summarises exchange-log entries (Art. 13) as the monitoring does on AWS: outcomes, error and
 * denial rates, latency percentiles, volume, and the same figures per operation, method, dataset
 * and consumer. Holds the latencies and one tally per key, never the entries.
 */
export async function summarise(
  entries: AsyncIterable<ExchangeEntry>,
  window: { from: string; to: string },
): Promise<MetricsSummary> {
  const total = tally();
  const latencies: number[] = [];
  const operations = new Map<string, Tally>();
  const methods = new Map<string, Tally>();
  const datasets = new Map<string, Tally>();
  const consumers = new Map<string, Tally>();
  const problems = new Map<string, number>();
  let truncated = false;
  for await (const entry of entries) {
    if (total.total >= MAX_SUMMARISED) {
      truncated = true;
      break;
    }
    for (const target of [
      total,
      keyed(operations, entry.operation),
      keyed(methods, entry.method),
      keyed(datasets, entry.datasetId),
      keyed(consumers, entry.consumerSystem),
    ]) {
      target.total++;
      target[entry.outcome]++;
      target.records += entry.recordCount;
      target.bytes += entry.bytes;
    }
    latencies.push(entry.latencyMs);
    if (entry.problemType) problems.set(entry.problemType, (problems.get(entry.problemType) ?? 0) + 1);
  }
  latencies.sort((a, b) => a - b);
  const percentile = (share: number) =>
    latencies.length === 0
      ? 0
      : (latencies[Math.min(latencies.length - 1, Math.ceil(share * latencies.length) - 1)] ?? 0);
  const rate = (count: number) => (total.total === 0 ? 0 : Math.round((10_000 * count) / total.total) / 100);
  const ranked = <K extends string>(map: Map<string, Tally>, name: K, limit = 50) =>
    [...map.entries()]
      .sort(([a, left], [b, right]) => right.total - left.total || a.localeCompare(b))
      .slice(0, limit)
      .map(([key, counts]) => ({ [name]: key, ...counts }) as { [P in K]: string } & Tally);
  return {
    ...window,
    entries: total.total,
    truncated,
    outcomes: { allowed: total.allowed, denied: total.denied, failed: total.failed },
    errorRate: rate(total.failed),
    denialRate: rate(total.denied),
    latencyMs: { p50: percentile(0.5), p95: percentile(0.95), p99: percentile(0.99), max: latencies.at(-1) ?? 0 },
    records: total.records,
    bytes: total.bytes,
    byOperation: ranked(operations, "operation"),
    byMethod: ranked(methods, "method"),
    byDataset: ranked(datasets, "datasetId"),
    byConsumer: ranked(consumers, "consumerSystem"),
    problems: [...problems.entries()]
      .sort(([a, left], [b, right]) => right - left || a.localeCompare(b))
      .map(([problemType, count]) => ({ problemType, count })),
  };
}

function tally(): Tally {
  return { total: 0, allowed: 0, denied: 0, failed: 0, records: 0, bytes: 0 };
}

function keyed(map: Map<string, Tally>, key: string): Tally {
  let found = map.get(key);
  if (!found) {
    found = tally();
    map.set(key, found);
  }
  return found;
}
