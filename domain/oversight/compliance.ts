import type { Dataset } from "../catalog/model.ts";
import { legalDate, STANDARDISATION_DEADLINES, standardisationOf } from "../dictionary/standardisation.ts";
import type { ComplianceReport } from "./model.ts";

/** Art. 24.3: mandatory connection and sharing through the platform by 31 Dec 2026. */
export const CONNECTION_DEADLINE = "2026-12-31";

export type DatasetCompliance = ComplianceReport["datasets"][number];

/**
 * Where one dataset stands on `today` (YYYY-MM-DD in Vietnam): standardised by its Art. 24 deadline, and
 * connected (its first allowed exchange through the platform, `connectedOn`) by the
 * connection deadline if it is on a mandatory list.
 */
export function complianceOf(dataset: Dataset, connectedOn: string | undefined, today: string): DatasetCompliance {
  const standardisation = standardisationOf(dataset, today);
  const deadline = dataset.mandatory === "none" ? undefined : CONNECTION_DEADLINE;
  const connection: DatasetCompliance["connection"] = connectedOn
    ? deadline && connectedOn > deadline
      ? "connected-late"
      : "connected"
    : !deadline
      ? "not-required"
      : today > deadline
        ? "overdue"
        : "pending";
  return {
    datasetId: dataset.id,
    managingAgency: dataset.managingAgency,
    mandatory: dataset.mandatory,
    standardisation: standardisation.status,
    standardisationDeadline: standardisation.deadline,
    ...(standardisation.standardisedOn ? { standardisedOn: standardisation.standardisedOn } : {}),
    connection,
    ...(deadline ? { connectionDeadline: deadline } : {}),
    ...(connectedOn ? { connectedOn } : {}),
    late:
      standardisation.status === "overdue" ||
      standardisation.status === "standardised-late" ||
      connection === "overdue" ||
      connection === "connected-late",
  };
}

/** Why a dataset is late, in words. */
export function lateReasons(entry: DatasetCompliance): string[] {
  const reasons: string[] = [];
  if (entry.standardisation === "overdue")
    reasons.push(`not standardised; the deadline was ${entry.standardisationDeadline} (Art. 24)`);
  if (entry.standardisation === "standardised-late")
    reasons.push(`standardised on ${entry.standardisedOn}, after the deadline of ${entry.standardisationDeadline}`);
  if (entry.connection === "overdue")
    reasons.push(`not connected through the platform; the deadline was ${entry.connectionDeadline} (Art. 24.3)`);
  if (entry.connection === "connected-late")
    reasons.push(`connected on ${entry.connectedOn}, after the deadline of ${entry.connectionDeadline}`);
  return reasons;
}

/** The compliance report (Art. 12.2c, 21.8, 24) of the given datasets, summarised per agency. */
export function complianceReport(
  datasets: readonly Dataset[],
  connections: ReadonlyMap<string, string>,
  now: Date,
): ComplianceReport {
  const today = legalDate(now);
  const entries = datasets.map((dataset) => complianceOf(dataset, connections.get(dataset.id), today));
  const byAgency = new Map<string, DatasetCompliance[]>();
  for (const entry of entries)
    byAgency.set(entry.managingAgency, [...(byAgency.get(entry.managingAgency) ?? []), entry]);
  return {
    asOf: now.toISOString(),
    deadlines: {
      standardisationAppendixI: STANDARDISATION_DEADLINES["appendix-i"],
      standardisationOther: STANDARDISATION_DEADLINES.other,
      connection: CONNECTION_DEADLINE,
    },
    agencies: [...byAgency.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([agency, list]) => ({
        agency,
        datasets: list.length,
        standardised: list.filter((entry) => entry.standardisation.startsWith("standardised")).length,
        connected: list.filter((entry) => entry.connection.startsWith("connected")).length,
        onTrack: list.filter((entry) => !entry.late).length,
        late: list
          .filter((entry) => entry.late)
          .map((entry) => ({ datasetId: entry.datasetId, reasons: lateReasons(entry) })),
      })),
    datasets: entries,
  };
}
