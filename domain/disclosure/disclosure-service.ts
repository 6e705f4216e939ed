import type { Dataset } from "../catalog/model.ts";
import { legalDate } from "../dictionary/standardisation.ts";
import { complianceReport } from "../oversight/compliance.ts";
import type { OversightStore } from "../oversight/model.ts";
import { NotFoundError, ValidationError } from "../problem.ts";
import { aggregateFigures, type FigureEntry, type Figures, SUPPRESSION_THRESHOLD } from "./figures.ts";
import type { ConnectedDatabases, PublicCompliance, PublicRanking } from "./model.ts";

/** Vietnam's offset from UTC: the decree's dates, years and months are Hanoi's. */
const VIETNAM_OFFSET_MS = 7 * 3_600_000;

/** What public disclosure reads; never anything it could write. */
export interface DisclosureDeps {
  readonly rankings: Pick<OversightStore, "rankingHead" | "rankedDatabases">;
  /** Every dataset of the catalog. */
  readonly datasets: () => Promise<Dataset[]>;
  readonly connections: (datasetIds: readonly string[]) => Promise<Map<string, string>>;
  /** Every log entry of a window, in any order, read a page at a time. */
  readonly entries: (window: { from: string; to: string }) => AsyncIterable<FigureEntry>;
  readonly now?: () => Date;
}

export type PageRequest = { limit: number; cursor?: string };

/** The figures of a period, with its bounds. */
export type PeriodFigures = Figures & {
  readonly period: string;
  readonly from: string;
  readonly to: string;
  readonly complete: boolean;
  readonly threshold: number;
};

/**
 * Public disclosure (Art. 13.1a, 13.4, 15.6, 22.6): the official ranking, the compliance report,
 * the connected databases and aggregate exchange figures, for anyone, with no personal data.
 */
export class DisclosureService {
  constructor(private readonly deps: DisclosureDeps) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  /** A year's official ranking once published; one computing, failed or never made is not public. */
  async ranking(
    year: number,
  ): Promise<Omit<PublicRanking, "items" | "nextCursor"> & { databases: PublicRanking["items"] }> {
    const head = await this.deps.rankings.rankingHead(year);
    if (head?.state !== "published" || !head.publishedAt) {
      throw new NotFoundError(`no published ranking of ${year}`);
    }
    const databases = await this.deps.rankings.rankedDatabases(year);
    return {
      year: head.year,
      kind: "official",
      indices: head.indices,
      publishedAt: head.publishedAt,
      window: head.window,
      summary: head.summary,
      databases: databases
        .map((database) => ({
          datasetId: database.datasetId,
          title: database.title,
          managingAgency: database.managingAgency,
          mandatory: database.mandatory,
          score: database.score,
          class: database.class,
          reasons: database.reasons,
          criteria: database.criteria.map(({ criterion, title, weight, score, evidence }) => ({
            criterion,
            title,
            weight,
            score,
            evidence,
          })),
        }))
        .sort((a, b) => a.datasetId.localeCompare(b.datasetId)),
    };
  }

  /** The compliance report (Art. 12.2c, 21.8, 24) of every agency, or of one. */
  async compliance(
    agency?: string,
  ): Promise<Omit<PublicCompliance, "items" | "nextCursor"> & { agencies: PublicCompliance["items"] }> {
    const datasets = (await this.deps.datasets()).filter(
      (dataset) => agency === undefined || dataset.managingAgency === agency,
    );
    const connections = await this.deps.connections(datasets.map((dataset) => dataset.id));
    const connectedOn = new Map([...connections].map(([datasetId, at]) => [datasetId, legalDate(at)]));
    const report = complianceReport(datasets, connectedOn, this.now());
    return {
      asOf: report.asOf,
      deadlines: report.deadlines,
      agencies: report.agencies.map((entry) => ({
        ...entry,
        databases: report.datasets.filter((dataset) => dataset.managingAgency === entry.agency),
      })),
    };
  }

  /** The databases connected through the platform, with the date of their first exchange, oldest first. */
  async connections(): Promise<
    Omit<ConnectedDatabases, "items" | "nextCursor"> & { all: ConnectedDatabases["items"] }
  > {
    const datasets = await this.deps.datasets();
    const connections = await this.deps.connections(datasets.map((dataset) => dataset.id));
    const all = datasets
      .flatMap((dataset) => {
        const at = connections.get(dataset.id);
        if (!at) return [];
        return [
          {
            datasetId: dataset.id,
            title: dataset.title,
            managingAgency: dataset.managingAgency,
            mandatory: dataset.mandatory,
            connectedOn: legalDate(at),
            connectedAt: at,
          },
        ];
      })
      .sort((a, b) => a.connectedAt.localeCompare(b.connectedAt) || a.datasetId.localeCompare(b.datasetId));
    return { connected: all.length, databases: datasets.length, all };
  }

  /**
   * Exchange figures of a year or month (Vietnam's), per managing agency and dataset, small
   * cells suppressed. Reads the period's entries once, a page at a time, at most
   * 100,000 of them (see {@link aggregateFigures}).
   */
  async figures(period: string | undefined): Promise<PeriodFigures> {
    const now = this.now();
    const named = period ?? legalDate(now).slice(0, 7);
    const [year, month] = named.split("-").map(Number) as [number, number | undefined];
    const start = Date.UTC(year, month === undefined ? 0 : month - 1, 1) - VIETNAM_OFFSET_MS;
    const end = (month === undefined ? Date.UTC(year + 1, 0, 1) : Date.UTC(year, month, 1)) - VIETNAM_OFFSET_MS;
    if (year < 2025 || start > now.getTime()) {
      throw new ValidationError(`no figures for ${named}: a period from 2025 to now`, [
        { name: "period", reason: "must be a year or month from 2025 to now" },
      ]);
    }
    const from = new Date(start).toISOString();
    const to = new Date(Math.min(end, now.getTime()) - 1).toISOString();
    const datasets = await this.deps.datasets();
    const owners = new Map(datasets.map((dataset) => [dataset.id, dataset.managingAgency]));
    const figures = await aggregateFigures(this.deps.entries({ from, to }), owners);
    return { period: named, from, to, complete: end <= now.getTime(), threshold: SUPPRESSION_THRESHOLD, ...figures };
  }
}

/** One page of a list held whole: the cursor is the offset where the next page starts. */
export function pageOf<T>(items: readonly T[], page: PageRequest): { items: T[]; nextCursor?: string } {
  const start = page.cursor === undefined ? 0 : Number.parseInt(Buffer.from(page.cursor, "base64url").toString(), 10);
  if (
    !Number.isInteger(start) ||
    start < 0 ||
    String(start) !== Buffer.from(page.cursor ?? "MA", "base64url").toString()
  ) {
    throw new ValidationError("the cursor is not one this API returned", [{ name: "cursor", reason: "malformed" }]);
  }
  const next = start + page.limit;
  return {
    items: items.slice(start, next),
    ...(next < items.length ? { nextCursor: Buffer.from(String(next)).toString("base64url") } : {}),
  };
}
