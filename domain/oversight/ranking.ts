import type { Dataset } from "../catalog/model.ts";
import type { ExchangeEntry } from "../exchange/model.ts";
import { type DatasetCompliance as ComplianceOf, complianceOf, lateReasons } from "./compliance.ts";
import type { Audit, Criterion, RankedDatabase, RankingClass, RankingIndices } from "./model.ts";

/** Every version of the ranking indices, as published: never edit one, add the next. */
export const RANKING_INDICES: Readonly<Record<string, RankingIndices>> = {
  "2026.1": {
    version: "2026.1",
    published: "2026-11-27",
    description:
      "First indices: connection and quality weigh most; usage and value are scored against national targets for 2026.",
    weights: { a: 20, b: 10, c: 10, d: 15, đ: 15, e: 10, g: 10, h: 10 },
    classes: { A: { score: 85, criterion: 50 }, B: { score: 60, criterion: 20 } },
    lateIsC: true,
    targets: {
      internalExchanges: 1000,
      thirdPartyAgencies: 3,
      publicServiceShare: 50,
      consumerSystems: 5,
      availability: 99.5,
      p95LatencyMs: 1000,
      recordsDelivered: 1_000_000,
    },
  },
};

export const CRITERION_TITLES: Readonly<Record<Criterion, string>> = {
  a: "Mandatory data connected and shared on time",
  b: "Internal usage and sharing with authorised third parties",
  c: "Public services using the data; automation and reuse",
  d: "Data quality (completeness, accuracy, timeliness, standardisation)",
  đ: "Compliance with standards, security and data protection",
  e: "Operational efficiency, monitoring and alerting",
  g: "Data audit results",
  h: "Value of the data exploited",
};

/** Latency buckets (ms) of the usage histogram: a year of latencies in eleven counters. */
const LATENCY_BUCKETS = [10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, Number.POSITIVE_INFINITY];

/** What the log says about one database over the year, tallied without keeping entries. */
export interface Usage {
  allowed: number;
  denied: number;
  failed: number;
  internal: number;
  external: number;
  publicService: number;
  records: number;
  readonly agencies: Set<string>;
  readonly consumers: Set<string>;
  readonly latency: number[];
}

function emptyUsage(): Usage {
  return {
    allowed: 0,
    denied: 0,
    failed: 0,
    internal: 0,
    external: 0,
    publicService: 0,
    records: 0,
    agencies: new Set(),
    consumers: new Set(),
    latency: LATENCY_BUCKETS.map(() => 0),
  };
}

/**
 * Tallies a window of the exchange log per database. A provider's own batch submissions are
 * not use of its data and are left out.
 */
export async function tallyUsage(
  entries: AsyncIterable<ExchangeEntry>,
  managingAgency: ReadonlyMap<string, string>,
): Promise<Map<string, Usage>> {
  const usage = new Map<string, Usage>();
  for await (const entry of entries) {
    const owner = managingAgency.get(entry.datasetId);
    if (!owner || entry.operation === "sync-batch") continue;
    let tally = usage.get(entry.datasetId);
    if (!tally) {
      tally = emptyUsage();
      usage.set(entry.datasetId, tally);
    }
    if (entry.outcome === "denied") {
      tally.denied++;
      continue;
    }
    const bucket = LATENCY_BUCKETS.findIndex((bound) => entry.latencyMs <= bound);
    tally.latency[bucket] = (tally.latency[bucket] ?? 0) + 1;
    if (entry.outcome === "failed") {
      tally.failed++;
      continue;
    }
    tally.allowed++;
    tally.records += entry.recordCount;
    tally.consumers.add(entry.consumerSystem);
    if (entry.purposeClass === "public-service") tally.publicService++;
    if (entry.consumerAgency === owner) tally.internal++;
    else {
      tally.external++;
      tally.agencies.add(entry.consumerAgency);
    }
  }
  return usage;
}

/** The upper bound of the bucket holding the 95th percentile. */
function p95Of(latency: readonly number[]): number | undefined {
  const total = latency.reduce((sum, bucket) => sum + bucket, 0);
  if (total === 0) return undefined;
  let seen = 0;
  for (const [index, bucket] of latency.entries()) {
    seen += bucket;
    if (seen >= total * 0.95) return LATENCY_BUCKETS[index];
  }
  return undefined;
}

const clamp = (value: number) => Math.max(0, Math.min(100, Math.round(value * 10) / 10));
const share = (value: number, target: number) => clamp((value / target) * 100);

export interface DatabaseEvidence {
  readonly dataset: Dataset;
  /** First allowed exchange through the platform (YYYY-MM-DD). */
  readonly connectedOn?: string;
  readonly usage?: Usage;
  /** The latest completed audit of the year. */
  readonly audit?: Audit;
}

/** Scores one database on every criterion, classifies it, and says why. */
export function rankDatabase(evidence: DatabaseEvidence, indices: RankingIndices, asOf: string): RankedDatabase {
  const { dataset, audit } = evidence;
  const usage = evidence.usage ?? emptyUsage();
  const compliance = complianceOf(dataset, evidence.connectedOn, asOf);
  const report = audit?.report;
  const { targets } = indices;
  const scores: Record<Criterion, { score: number; evidence: string[] }> = {
    a: connectionScore(compliance),
    b: (() => {
      const internal = share(usage.internal, targets.internalExchanges);
      const external = share(usage.agencies.size, targets.thirdPartyAgencies);
      return {
        score: clamp((internal + external) / 2),
        evidence: [
          `${usage.internal} allowed exchanges by ${dataset.managingAgency}'s own systems (target ${targets.internalExchanges})`,
          `${usage.external} by ${usage.agencies.size} other agencies (target ${targets.thirdPartyAgencies} agencies)`,
        ],
      };
    })(),
    c: (() => {
      const publicShare = usage.allowed === 0 ? 0 : (usage.publicService / usage.allowed) * 100;
      return {
        score: clamp(
          (share(publicShare, targets.publicServiceShare) + share(usage.consumers.size, targets.consumerSystems)) / 2,
        ),
        evidence: [
          `${Math.round(publicShare * 10) / 10}% of ${usage.allowed} allowed exchanges served public services (target ${targets.publicServiceShare}%)`,
          `reused by ${usage.consumers.size} consumer systems through the platform's automated methods (target ${targets.consumerSystems})`,
        ],
      };
    })(),
    d: (() => {
      const standardised = compliance.standardisation.startsWith("standardised") ? 100 : 0;
      if (!report) {
        return {
          score: clamp(standardised / 4),
          evidence: [`no completed audit in the year`, `standardisation: ${compliance.standardisation}`],
        };
      }
      const parts = [report.scores.completeness, report.scores.validity, report.scores.timeliness, standardised].filter(
        (part): part is number => part !== undefined,
      );
      return {
        score: clamp(parts.reduce((sum, part) => sum + part, 0) / parts.length),
        evidence: [
          `audit ${audit?.auditId} of ${audit?.completedAt?.slice(0, 10)}: ${report.records} records`,
          `completeness ${report.scores.completeness ?? "n/a"}%, validity ${report.scores.validity ?? "n/a"}%, timeliness ${report.scores.timeliness ?? "n/a"}%`,
          `standardisation: ${compliance.standardisation}`,
        ],
      };
    })(),
    đ: (() => {
      const standardisation = { standardised: 100, "standardised-late": 60, pending: 50, overdue: 0 }[
        compliance.standardisation
      ];
      const access = report?.scores.access ?? 50;
      return {
        score: clamp((standardisation + access) / 2),
        evidence: [
          `standardisation ${compliance.standardisation} (deadline ${compliance.standardisationDeadline}): ${standardisation}`,
          report
            ? `access control in the audit: ${access} (${report.access.expired.length} expired permissions not revoked, ${report.access.expiredUse.length} consumers using expired ones, ${report.access.unused.length} unused)`
            : "access control not audited this year: 50",
        ],
      };
    })(),
    e: (() => {
      const served = usage.allowed + usage.failed;
      if (served === 0) return { score: 0, evidence: ["no exchange served in the year: nothing to measure"] };
      const availability = (usage.allowed / served) * 100;
      const p95 = p95Of(usage.latency) ?? 0;
      const availabilityScore = clamp(((availability - 90) / (targets.availability - 90)) * 100);
      const latencyScore =
        p95 <= targets.p95LatencyMs
          ? 100
          : clamp(((4 * targets.p95LatencyMs - p95) / (3 * targets.p95LatencyMs)) * 100);
      return {
        score: clamp(availabilityScore * 0.6 + latencyScore * 0.4),
        evidence: [
          `availability ${Math.round(availability * 100) / 100}% (${usage.failed} failed of ${served}; target ${targets.availability}%)`,
          `95th percentile latency ≤ ${p95} ms (target ${targets.p95LatencyMs} ms)`,
          "every exchange is logged and monitored, with alarms, by the platform",
        ],
      };
    })(),
    g: (() => {
      if (!report) return { score: 0, evidence: ["no completed audit in the year"] };
      const bySeverity = (severity: string) =>
        report.findings.filter((finding) => finding.severity === severity).length;
      const [high, medium, low] = [bySeverity("high"), bySeverity("medium"), bySeverity("low")];
      return {
        score: clamp(100 - 20 * high - 8 * medium - 2 * low),
        evidence: [`audit ${audit?.auditId}: ${high} high, ${medium} medium and ${low} low findings`],
      };
    })(),
    h: {
      score: clamp((Math.log10(1 + usage.records) / Math.log10(1 + targets.recordsDelivered)) * 100),
      evidence: [`${usage.records} records delivered to consumers (target ${targets.recordsDelivered}, log scale)`],
    },
  };

  const criteria = (Object.keys(indices.weights) as Criterion[]).map((criterion) => ({
    criterion,
    title: CRITERION_TITLES[criterion],
    weight: indices.weights[criterion],
    score: scores[criterion].score,
    evidence: scores[criterion].evidence,
  }));
  const totalWeight = criteria.reduce((sum, entry) => sum + entry.weight, 0);
  const score = clamp(criteria.reduce((sum, entry) => sum + entry.weight * entry.score, 0) / totalWeight);
  const { rankClass, reasons } = classify(score, criteria, indices, compliance);
  return {
    datasetId: dataset.id,
    title: dataset.title,
    managingAgency: dataset.managingAgency,
    mandatory: dataset.mandatory,
    score,
    class: rankClass,
    reasons,
    criteria,
  };
}

function connectionScore(compliance: ComplianceOf): { score: number; evidence: string[] } {
  switch (compliance.connection) {
    case "connected":
      return { score: 100, evidence: [`connected through the platform on ${compliance.connectedOn}`] };
    case "connected-late":
      return {
        score: 50,
        evidence: [`connected on ${compliance.connectedOn}, after the deadline ${compliance.connectionDeadline}`],
      };
    case "overdue":
      return { score: 0, evidence: [`not connected; the deadline was ${compliance.connectionDeadline}`] };
    // Not late yet: half marks, so a database is not put in C for a deadline still ahead.
    case "pending":
      return { score: 50, evidence: [`not connected yet; the deadline is ${compliance.connectionDeadline}`] };
    default:
      return { score: 0, evidence: ["not connected through the platform (not on a mandatory list)"] };
  }
}

/** The class the indices give a score and its criteria, with the reasons it is not higher. */
export function classify(
  score: number,
  criteria: ReadonlyArray<{ criterion: Criterion; score: number }>,
  indices: RankingIndices,
  compliance?: ComplianceOf,
): { rankClass: RankingClass; reasons: string[] } {
  const reasons: string[] = [];
  const late = compliance && indices.lateIsC ? lateReasons(compliance) : [];
  if (late.length > 0) return { rankClass: "C", reasons: late.map((reason) => `late (Art. 24): ${reason}`) };
  for (const rankClass of ["A", "B"] as const) {
    const threshold = indices.classes[rankClass];
    const weak = criteria.filter((entry) => entry.score < threshold.criterion);
    if (score >= threshold.score && weak.length === 0) return { rankClass, reasons };
    if (score < threshold.score) reasons.push(`score ${score} is under ${threshold.score}, needed for ${rankClass}`);
    for (const entry of weak)
      reasons.push(
        `criterion ${entry.criterion} scores ${entry.score}, under ${threshold.criterion}, needed for ${rankClass}`,
      );
  }
  return { rankClass: "C", reasons };
}
