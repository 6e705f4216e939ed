import * as z from "zod/mini";
import type { CatalogStore, Dataset, MandatoryList } from "../catalog/model.ts";
import { isOverseer } from "../identity/authorization.ts";
import { allPages } from "../paging.ts";
import { ForbiddenError } from "../problem.ts";
import type { Caller } from "../registry/model.ts";

/** Art. 24: Appendix I databases standardised by 31 Dec 2025, every other one by 31 Dec 2026. */
export const STANDARDISATION_DEADLINES: Readonly<Record<"appendix-i" | "other", string>> = {
  "appendix-i": "2025-12-31",
  other: "2026-12-31",
};

/** Vietnam's offset from UTC (no daylight saving): the decree's deadlines are dates in Hanoi. */
const VIETNAM_OFFSET_MS = 7 * 3_600_000;

/** The calendar date (YYYY-MM-DD) in Vietnam at an instant: what a legal deadline is judged by. */
export function legalDate(instant: Date | string): string {
  return new Date(new Date(instant).getTime() + VIETNAM_OFFSET_MS).toISOString().slice(0, 10);
}

/** The first instant of a calendar year in Vietnam. */
export function legalYearStart(year: number): Date {
  return new Date(Date.UTC(year, 0, 1) - VIETNAM_OFFSET_MS);
}

export type StandardisationStatus = "standardised" | "standardised-late" | "pending" | "overdue";

export interface DatasetStandardisation {
  readonly datasetId: string;
  readonly managingAgency: string;
  readonly mandatory: MandatoryList;
  readonly status: StandardisationStatus;
  readonly deadline: string;
  readonly schema?: { readonly id: string; readonly version: string };
  readonly standardisedOn?: string;
  /** Days to the deadline (negative: past it); only while not standardised. */
  readonly daysLeft?: number;
}

export interface AgencyStandardisation {
  readonly agency: string;
  readonly datasets: number;
  readonly standardised: number;
  readonly standardisedLate: number;
  readonly pending: number;
  readonly overdue: number;
  /** Datasets overdue or standardised after their deadline, by id. */
  readonly late: readonly string[];
}

export interface StandardisationReport {
  readonly asOf: string;
  readonly deadlines: typeof STANDARDISATION_DEADLINES;
  readonly agencies: readonly AgencyStandardisation[];
  readonly datasets: readonly DatasetStandardisation[];
}

/** Where one dataset stands against its Art. 24 deadline on `today` (YYYY-MM-DD, in Vietnam). */
export function standardisationOf(dataset: Dataset, today: string): DatasetStandardisation {
  const deadline = STANDARDISATION_DEADLINES[dataset.mandatory === "appendix-i" ? "appendix-i" : "other"];
  const base = {
    datasetId: dataset.id,
    managingAgency: dataset.managingAgency,
    mandatory: dataset.mandatory,
    deadline,
  };
  if (dataset.schema && dataset.standardisedAt) {
    const on = legalDate(dataset.standardisedAt);
    return {
      ...base,
      status: on <= deadline ? "standardised" : "standardised-late",
      schema: dataset.schema,
      standardisedOn: on,
    };
  }
  const daysLeft = Math.round((Date.parse(`${deadline}T00:00:00Z`) - Date.parse(`${today}T00:00:00Z`)) / 86_400_000);
  return { ...base, status: today > deadline ? "overdue" : "pending", daysLeft };
}

/**
 * Standardisation status (Art. 24) of every dataset in the catalog, or of one agency's, with a
 * summary per agency. The supervisor and the operator see every agency; an agency its own.
 */
export async function standardisationReport(
  caller: Caller,
  catalog: Pick<CatalogStore, "listDatasets">,
  options: { agency?: string; now?: Date },
): Promise<StandardisationReport> {
  const agency = options.agency ?? (isOverseer(caller) ? undefined : caller.agencyCode);
  if (agency !== caller.agencyCode && !isOverseer(caller)) {
    throw new ForbiddenError(`${caller.systemId} reads the standardisation status of ${caller.agencyCode} only`);
  }
  const now = options.now ?? new Date();
  const today = legalDate(now);
  const datasets: DatasetStandardisation[] = [];
  for await (const dataset of allPages((page) => catalog.listDatasets(agency ? { agency } : {}, page), 100)) {
    datasets.push(standardisationOf(dataset, today));
  }
  const byAgency = new Map<string, DatasetStandardisation[]>();
  for (const entry of datasets)
    byAgency.set(entry.managingAgency, [...(byAgency.get(entry.managingAgency) ?? []), entry]);
  const count = (list: DatasetStandardisation[], status: StandardisationStatus) =>
    list.filter((entry) => entry.status === status).length;
  return {
    asOf: now.toISOString(),
    deadlines: STANDARDISATION_DEADLINES,
    agencies: [...byAgency.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([code, list]) => ({
        agency: code,
        datasets: list.length,
        standardised: count(list, "standardised"),
        standardisedLate: count(list, "standardised-late"),
        pending: count(list, "pending"),
        overdue: count(list, "overdue"),
        late: list
          .filter((entry) => entry.status === "overdue" || entry.status === "standardised-late")
          .map((entry) => entry.datasetId),
      })),
    datasets,
  };
}

/** Query parameters of `GET /v1/standardisation`. */
export const standardisationQuery = z.object({
  agency: z.optional(z.string().check(z.regex(/^[A-Z][A-Z0-9]{1,15}$/, "must be an agency code"))),
});
