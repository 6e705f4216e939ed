import * as z from "zod/mini";
import { MANDATORY_LISTS } from "../catalog/model.ts";

/*
 * Oversight (Art. 12-15, 21.8, 24): data audits, the annual ranking of databases and the
 * compliance report. What these answer is defined here as schemas, and the types are inferred
 * from them, so the API's description cannot drift from the reports themselves.
 */

const instant = z.iso.datetime({ offset: true });
const count = z.number().check(z.int(), z.minimum(0));
const percent = z.number().check(z.describe("Percent, 0-100, one decimal"));
const agencyCode = z.string().check(z.regex(/^[A-Z][A-Z0-9]{1,15}$/, "must be an agency code"));
const datasetId = z.string().check(z.minLength(3), z.maxLength(200));

/** An ISO 8601 duration (`P90D`, `PT12H`); years count 365 days and months 30. */
export const isoDuration = z
  .string()
  .check(
    z.regex(
      /^P(?!$)(\d+Y)?(\d+M)?(\d+W)?(\d+D)?(T(?=\d)(\d+H)?(\d+M)?(\d+S)?)?$/,
      "must be an ISO 8601 duration, e.g. P90D",
    ),
  );

/** Milliseconds in an ISO 8601 duration; years count 365 days and months 30. */
export function durationMs(duration: string): number {
  const match = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/.exec(duration);
  if (!match) throw new Error(`not an ISO 8601 duration: ${duration}`);
  const [years, months, weeks, days, hours, minutes, seconds] = match.slice(1).map((part) => Number(part ?? 0)) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const dayCount = years * 365 + months * 30 + weeks * 7 + days;
  return ((dayCount * 24 + hours) * 60 + minutes) * 60_000 + seconds * 1000;
}

/** Rounds a share to a percentage with one decimal; an empty whole is complete (100). */
export function percentOf(part: number, whole: number): number {
  return whole === 0 ? 100 : Math.round((part / whole) * 1000) / 10;
}

// ---------------------------------------------------------------------------------------------
// Audits (Art. 14)

/** The parameters of the daily audits, and of every audit a ranking counts: no one picks a lenient window. */
export const STANDARD_AUDIT = { staleAfter: "P365D", accessWindow: "P90D" } as const;

/** Body of `POST /v1/audits`: one dataset, an agency's datasets, or (supervisor, operator) all. */
export const auditInput = z.object({
  datasetId: z.optional(datasetId.check(z.describe("Audit this dataset only"))),
  agency: z.optional(agencyCode.check(z.describe("Audit every dataset this agency manages"))),
  staleAfter: z._default(
    isoDuration.check(
      z.describe("A record not changed for this long is stale; rankings count only audits with the default"),
    ),
    STANDARD_AUDIT.staleAfter,
  ),
  accessWindow: z._default(
    isoDuration.check(
      z.describe(
        "How far back access is examined: unused grants, denials, use after expiry; rankings count only audits with the default",
      ),
    ),
    STANDARD_AUDIT.accessWindow,
  ),
});
export type AuditInput = z.infer<typeof auditInput>;

/** Query parameters of `GET /v1/audits`. */
export const auditListQuery = z.object({
  datasetId: z.optional(datasetId.check(z.describe("Every audit of this dataset, newest first"))),
  agency: z.optional(agencyCode.check(z.describe("The latest audit of each of this agency's datasets"))),
});

export const AUDIT_CHECKS = ["completeness", "validity", "timeliness", "duplicates", "access"] as const;
export type AuditCheck = (typeof AUDIT_CHECKS)[number];
export const SEVERITIES = ["high", "medium", "low"] as const;

const keys = z.array(z.string()).check(z.describe("Data keys of offending records (a sample of at most 10)"));

export const auditReport = z.object({
  records: count.check(z.describe("Live records examined")),
  held: z.boolean().check(z.describe("Whether the integrated database holds the dataset's records (7.2c)")),
  completeness: z.object({
    requiredFields: z.array(z.string()),
    recordsComplete: count,
    rate: percent.check(z.describe("Records with every required field present")),
    fields: z.array(
      z.object({ field: z.string(), required: z.boolean(), present: count, missing: count, rate: percent }),
    ),
    sample: z.array(z.object({ key: z.string(), missing: z.array(z.string()) })),
  }),
  validity: z.object({
    schema: z.optional(z.object({ id: z.string(), version: z.string() })),
    checked: count,
    invalid: count,
    rate: percent.check(z.describe("Records that conform to the dictionary schema")),
    byRule: z.array(z.object({ path: z.string(), rule: z.string(), count })),
    sample: z.array(z.object({ key: z.string(), path: z.string(), rule: z.string(), message: z.string() })),
  }),
  timeliness: z.object({
    updateFrequency: z.optional(z.string()),
    newestUpdate: z.optional(instant),
    oldestUpdate: z.optional(instant),
    newestAgeDays: z.optional(z.number()),
    oldestAgeDays: z.optional(z.number()),
    lastBatch: z.optional(instant.check(z.describe("The provider's latest accepted batch within the access window"))),
    overdue: z
      .boolean()
      .check(z.describe("Neither a record's change nor a batch is as recent as the declared update frequency")),
    staleAfter: z.string(),
    staleRecords: count.check(z.describe("Records whose last change is older than staleAfter")),
    rate: percent.check(z.describe("Records changed within staleAfter")),
    sample: keys,
  }),
  duplicates: z.object({
    keyGroups: count.check(z.describe("Data keys that differ only in case, spacing, punctuation or leading zeros")),
    keyRecords: count,
    nearIdenticalGroups: count.check(z.describe("Records whose non-key fields are the same, under different keys")),
    nearIdenticalRecords: count,
    rate: percent.check(z.describe("Records that duplicate no earlier one")),
    sample: z.array(z.object({ kind: z.enum(["data-key", "near-identical"]), keys: z.array(z.string()) })),
  }),
  access: z.object({
    from: instant,
    to: instant,
    permissions: count.check(z.describe("Permissions not revoked")),
    expiredCount: count.check(z.describe("Permissions past their validity but not revoked")),
    expired: z
      .array(z.object({ permissionId: z.string(), consumerSystem: z.string(), validUntil: instant }))
      .check(z.describe("The first 50 of them")),
    unusedCount: count.check(z.describe("Permissions granted before the window and not used in it")),
    unused: z
      .array(z.object({ permissionId: z.string(), consumerSystem: z.string() }))
      .check(z.describe("The first 50 of them")),
    exchanges: count.check(z.describe("Consumers' attempts (the provider's own batches are not counted)")),
    allowed: count,
    denied: count,
    failed: count,
    denialRate: percent,
    deniedByType: z.array(z.object({ problemType: z.string(), count })),
    expiredUse: z.array(z.object({ consumerSystem: z.string(), attempts: count, lastAttempt: instant })),
  }),
  findings: z.array(
    z.object({
      check: z.enum(AUDIT_CHECKS),
      severity: z.enum(SEVERITIES),
      summary: z.string(),
      keys: z.optional(z.array(z.string())),
    }),
  ),
  scores: z.object({
    completeness: z.optional(percent),
    validity: z.optional(percent),
    timeliness: z.optional(percent),
    uniqueness: z.optional(percent),
    access: percent,
    overall: percent.check(z.describe("Mean of the scores above")),
  }),
});
export type AuditReport = z.infer<typeof auditReport>;
export type AuditFinding = AuditReport["findings"][number];

export const AUDIT_STATES = ["queued", "running", "completed", "failed"] as const;

export const audit = z.object({
  auditId: z.string(),
  datasetId: z.string(),
  managingAgency: z.string(),
  trigger: z.enum(["on-demand", "scheduled"]),
  requestedBy: z.string(),
  state: z.enum(AUDIT_STATES),
  parameters: z.object({ staleAfter: z.string(), accessWindow: z.string() }),
  createdAt: instant,
  startedAt: z.optional(instant),
  completedAt: z.optional(instant),
  error: z.optional(z.string()),
  report: z.optional(auditReport),
});
export type Audit = z.infer<typeof audit>;

/** What `POST /v1/audits` answers: the audits it queued. */
export const auditsQueued = z.object({
  audits: z.array(z.object({ auditId: z.string(), datasetId: z.string(), state: z.enum(AUDIT_STATES) })),
});
export type AuditsQueued = z.infer<typeof auditsQueued>;

// ---------------------------------------------------------------------------------------------
// Ranking (Art. 15)

/** The criteria of Art. 15.2, by the decree's own letters. */
export const CRITERIA = ["a", "b", "c", "d", "đ", "e", "g", "h"] as const;
export type Criterion = (typeof CRITERIA)[number];
export const CLASSES = ["A", "B", "C"] as const;
export type RankingClass = (typeof CLASSES)[number];

const threshold = z.object({ score: percent, criterion: percent });

/**
 * The ranking indices (Art. 15.6): weights of the criteria and thresholds of the classes. Each
 * version is kept as published; a ranking names the version it applied.
 */
export const rankingIndices = z.object({
  version: z.string(),
  published: z.string(),
  description: z.string(),
  weights: z.record(z.enum(CRITERIA), z.number()).check(z.describe("Weight of each criterion; they sum to 100")),
  classes: z
    .object({ A: threshold, B: threshold })
    .check(z.describe("A: at least `score` overall and no criterion under `criterion`; B likewise; C otherwise")),
  lateIsC: z.boolean().check(z.describe("Lateness against Art. 24 makes a database C whatever its score")),
  targets: z
    .object({
      internalExchanges: count.check(z.describe("(b) allowed exchanges by the managing agency's own systems")),
      thirdPartyAgencies: count.check(z.describe("(b) other agencies using the database")),
      publicServiceShare: percent.check(z.describe("(c) share of exchanges serving public services")),
      consumerSystems: count.check(z.describe("(c) distinct consumer systems reusing the data")),
      availability: percent.check(z.describe("(e) allowed / (allowed + failed): full marks at or above, none at 90")),
      p95LatencyMs: count.check(z.describe("(e) 95th percentile latency: full marks at or below, none at 4x")),
      recordsDelivered: count.check(z.describe("(h) records delivered to consumers in the year, log scale")),
    })
    .check(z.describe("What full marks take")),
});
export type RankingIndices = z.infer<typeof rankingIndices>;

/** Query of `GET /v1/rankings/{year}/self-evaluation`. */
export const selfEvaluationQuery = z.object({
  agency: z.optional(
    z
      .string()
      .check(
        z.maxLength(40),
        z.describe("Whose self-evaluation (supervisor, operator): by default the caller's agency"),
      ),
  ),
});

export const rankingInput = z.object({
  indices: z.optional(z.string().check(z.describe("Version of the ranking indices to apply (default: the latest)"))),
});

export const criterionScore = z.object({
  criterion: z.enum(CRITERIA),
  title: z.string(),
  weight: z.number(),
  score: percent,
  evidence: z.array(z.string()).check(z.describe("What was measured, in words an agency can check")),
});

export const rankedDatabase = z.object({
  datasetId: z.string(),
  title: z.string(),
  managingAgency: z.string(),
  mandatory: z.enum(MANDATORY_LISTS),
  score: percent.check(z.describe("Weighted sum of the criteria")),
  class: z.enum(CLASSES),
  reasons: z.array(z.string()).check(z.describe("Why this class and not the one above")),
  criteria: z.array(criterionScore),
});
export type RankedDatabase = z.infer<typeof rankedDatabase>;

export const ranking = z.object({
  year: z.number().check(z.int()),
  kind: z
    .enum(["official", "self-evaluation"])
    .check(
      z.describe(
        "official: the supervisor's ranking of every database (Art. 15); self-evaluation: an agency's own evaluation of its databases (15.7), which never replaces the official one",
      ),
    ),
  agency: z.optional(z.string().check(z.describe("For a self-evaluation: the agency that evaluated its databases"))),
  indices: z.string().check(z.describe("Version of the ranking indices applied")),
  state: z.enum(["computing", "published", "failed"]),
  requestedBy: z.string(),
  requestedAt: instant,
  publishedAt: z.optional(instant),
  error: z.optional(z.string()),
  window: z.object({ from: instant, to: instant }),
  summary: z.object({ databases: count, A: count, B: count, C: count }),
  databases: z.array(rankedDatabase),
});
export type Ranking = z.infer<typeof ranking>;
/** A ranking as requested, before its databases are scored. */
export const rankingHead = z.omit(ranking, { databases: true });
/**
 * What a ranking's head holds as stored: everything but its databases and its kind (a
 * self-evaluation names its agency), and a revision for conditional writes.
 */
export type RankingHead = Omit<Ranking, "databases" | "kind"> & { readonly revision: number };

/** Where audits and rankings are kept (DynamoDB in the platform). */
export interface OversightStore {
  createAudit(audit: Audit): Promise<void>;
  getAudit(auditId: string): Promise<Audit | undefined>;
  /** Moves an audit on from `from`; false if it is no longer in that state (another worker took it). */
  updateAudit(auditId: string, from: Audit["state"], changes: Partial<Audit>): Promise<boolean>;
  /** A dataset's audits, newest first. */
  audits(datasetId: string, page: { limit: number; cursor?: string }): Promise<{ items: Audit[]; nextCursor?: string }>;
  /** A dataset's audit created at or after `since` and not finished yet (queued or running), if any. */
  unfinishedAudit(datasetId: string, since: string): Promise<Audit | undefined>;
  latestAudit(
    datasetId: string,
    state: Audit["state"],
    options?: { before?: string; parameters?: Audit["parameters"] },
  ): Promise<Audit | undefined>;
  /** A year's official ranking's head, or with `agency` that agency's self-evaluation's. */
  rankingHead(year: number, agency?: string): Promise<RankingHead | undefined>;
  /** Writes a ranking's head if its stored revision is still `expected`; false if another writer moved it. */
  putRankingHead(head: RankingHead, expected: number): Promise<boolean>;
  putRankedDatabases(year: number, databases: readonly RankedDatabase[], agency?: string): Promise<void>;
  rankedDatabases(year: number, agency?: string): Promise<RankedDatabase[]>;
  /** Stores a published version of the ranking indices; false if that version exists (never replaced). */
  putIndices(indices: RankingIndices): Promise<boolean>;
  /** Every version of the ranking indices published through the API. */
  storedIndices(): Promise<RankingIndices[]>;
}

// ---------------------------------------------------------------------------------------------
// Compliance (Art. 12.2c, 21.8, 24)

/** Query parameters of `GET /v1/compliance`. */
export const complianceQuery = z.object({
  agency: z.optional(agencyCode.check(z.describe("One agency (default: the caller's; all for the supervisor)"))),
});

export const CONNECTION_STATUSES = ["connected", "connected-late", "pending", "overdue", "not-required"] as const;

export const complianceReport = z.object({
  asOf: instant,
  deadlines: z.object({
    standardisationAppendixI: z.string(),
    standardisationOther: z.string(),
    connection: z.string(),
  }),
  agencies: z.array(
    z.object({
      agency: z.string(),
      datasets: count,
      standardised: count,
      connected: count,
      onTrack: count.check(z.describe("Datasets with nothing late")),
      late: z.array(z.object({ datasetId: z.string(), reasons: z.array(z.string()) })),
      overdueViolations: z.optional(count.check(z.describe("Violation cases past their due date and not resolved"))),
      overdueCases: z.optional(
        z.array(
          z.object({
            caseId: z.string(),
            article: z.string(),
            status: z.string(),
            dueDate: z.string(),
            datasetId: z.optional(z.string()),
            summary: z.string(),
          }),
        ),
      ),
    }),
  ),
  datasets: z.array(
    z.object({
      datasetId: z.string(),
      managingAgency: z.string(),
      mandatory: z.enum(MANDATORY_LISTS),
      standardisation: z.enum(["standardised", "standardised-late", "pending", "overdue"]),
      standardisationDeadline: z.string(),
      standardisedOn: z.optional(z.string()),
      connection: z.enum(CONNECTION_STATUSES),
      connectionDeadline: z.optional(z.string()),
      connectedOn: z.optional(z.string()),
      late: z.boolean(),
    }),
  ),
});
export type ComplianceReport = z.infer<typeof complianceReport>;
