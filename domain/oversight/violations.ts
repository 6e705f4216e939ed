import * as z from "zod/mini";
import { ProblemError } from "../problem.ts";
import type { ComplianceReport } from "./model.ts";

/*
 * Violations and measures (Art. 20.3, 22.5): a finding (an audit's, a missed Art. 24 deadline, a
 * broken log chain, a pattern of refused exchanges, or a supervisor's own) becomes a case against
 * an agency, with the article concerned, evidence, a proposed measure and a due date, followed up
 * to its resolution. Every step is an entry of the case's trail, never changed once written.
 */

const instant = z.iso.datetime({ offset: true });
const agencyCode = z.string().check(z.regex(/^[A-Z][A-Z0-9]{1,15}$/, "must be an agency code"));
const identifier = z.string().check(z.minLength(3), z.maxLength(200));
const date = z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/, "must be a date, YYYY-MM-DD"));
/** Words a person writes: a summary, a measure, an answer, a reason. */
const text = (what: string) => z.string().check(z.minLength(1), z.maxLength(MAX_TEXT), z.describe(what));

/** Longest summary, measure, answer or reason (characters). */
export const MAX_TEXT = 2000;
/** Most evidence links a case holds. */
export const MAX_EVIDENCE = 20;
/** Most trail entries a case holds: a case is one item, well under DynamoDB's 400 KB. */
export const MAX_TRAIL = 40;

/** A decree article, as `13.1`, `24.3` or `7.2a`. */
export const articleCode = z
  .string()
  .check(z.regex(/^([1-9]|[1-2]\d)(\.[1-9]\d?)?[a-zđ]?$/, "must be an article of the decree, e.g. 13.1 or 24.3"));

export const VIOLATION_STATUSES = ["open", "answered", "resolved", "escalated"] as const;
export type ViolationStatus = (typeof VIOLATION_STATUSES)[number];
export const VIOLATION_SOURCES = ["audit", "compliance", "log-chain", "refused-access", "manual"] as const;
export type ViolationSource = (typeof VIOLATION_SOURCES)[number];
export const EVIDENCE_KINDS = ["audit", "transaction", "checkpoint", "url"] as const;
export const TRAIL_ACTIONS = ["opened", "answered", "resolved", "escalated", "due-date-changed"] as const;

export const evidenceLink = z.object({
  kind: z.enum(EVIDENCE_KINDS).check(z.describe("An audit id, a log transaction id, a checkpoint, or a URL")),
  ref: z.string().check(z.minLength(1), z.maxLength(2048)),
});

/** Body of `POST /v1/violations`. What a source needs is checked by the service, each missing field named. */
export const newViolationInput = z.object({
  source: z
    .enum(VIOLATION_SOURCES)
    .check(
      z.describe(
        "audit: from an audit's finding (auditId, finding); compliance: a missed Art. 24 deadline (datasetId); log-chain: a broken chain or checkpoint finding (shard, problem in summary); refused-access: a pattern of denied exchanges (systemId); manual: entered by a supervisor",
      ),
    ),
  agency: z.optional(agencyCode.check(z.describe("The agency concerned; derived from an audit or a dataset"))),
  datasetId: z.optional(identifier.check(z.describe("The dataset concerned; required for compliance"))),
  systemId: z.optional(identifier.check(z.describe("The system concerned; required for refused-access"))),
  article: z.optional(articleCode.check(z.describe("Article concerned; by default 14.2 (audit), 24.x (compliance)"))),
  summary: z.optional(text("What was found; by default the audit finding or why the dataset is late")),
  auditId: z.optional(identifier.check(z.describe("audit: the audit"))),
  finding: z.optional(z.number().check(z.int(), z.minimum(0), z.describe("audit: index of the finding in its report"))),
  shard: z.optional(z.number().check(z.int(), z.minimum(0), z.maximum(1023), z.describe("log-chain: the chain"))),
  sequence: z.optional(z.number().check(z.int(), z.minimum(0), z.describe("log-chain: the entry"))),
  evidence: z._default(z.array(evidenceLink).check(z.maxLength(MAX_EVIDENCE)), []),
  measure: text("The measure proposed to the agency"),
  dueDate: date.check(z.describe("By when the agency answers and acts (a date in Vietnam)")),
});
export type NewViolationInput = z.infer<typeof newViolationInput>;

export const answerInput = z.object({ answer: text("The agency's answer: what it did or will do") });
export const resolveInput = z.object({ reason: text("Why the case is resolved") });
export const escalateInput = z.object({
  reason: text("Why the case is escalated"),
  dueDate: z.optional(date.check(z.describe("A new due date, recorded as its own trail entry"))),
});

/** Query of `GET /v1/violations`. */
export const violationListQuery = z.object({
  agency: z.optional(agencyCode.check(z.describe("One agency's cases (supervisor, operator); an agency sees its own"))),
  status: z.optional(z.enum(VIOLATION_STATUSES)),
  overdue: z.optional(
    z
      .enum(["true", "false"])
      .check(z.describe("true: only cases past their due date and not resolved; false: only the others")),
  ),
});

export const trailEntry = z.object({
  at: instant,
  by: z.string().check(z.describe("The system that acted")),
  action: z.enum(TRAIL_ACTIONS),
  status: z.enum(VIOLATION_STATUSES).check(z.describe("The case's status after this step")),
  text: z.optional(z.string().check(z.describe("The summary, answer or reason"))),
  dueDate: z.optional(z.string().check(z.describe("The due date set by this step"))),
});
export type TrailEntry = z.infer<typeof trailEntry>;

export const violationCase = z.object({
  caseId: z.string(),
  agency: z.string(),
  datasetId: z.optional(z.string()),
  systemId: z.optional(z.string()),
  article: z.string(),
  source: z.object({
    kind: z.enum(VIOLATION_SOURCES),
    auditId: z.optional(z.string()),
    finding: z.optional(z.number()),
    shard: z.optional(z.number()),
    sequence: z.optional(z.number()),
  }),
  summary: z.string(),
  evidence: z.array(evidenceLink),
  measure: z.string(),
  dueDate: z.string(),
  status: z.enum(VIOLATION_STATUSES),
  overdue: z.boolean().check(z.describe("Past its due date (in Vietnam) and not resolved")),
  openedBy: z.string(),
  openedAt: instant,
  updatedAt: instant,
  revision: z.number().check(z.describe("Moves on with each step; steps are written only on the revision read")),
  trail: z.array(trailEntry).check(z.describe("Every step, oldest first; an entry is never changed")),
});
/** A case as answered. */
export type ViolationCaseView = z.infer<typeof violationCase>;
/** A case as stored: whether it is overdue depends on the day it is read. */
export type ViolationCase = Omit<ViolationCaseView, "overdue">;

/** Where cases are kept (the integrated table in the platform). */
export interface ViolationStore {
  createViolation(violation: ViolationCase): Promise<void>;
  getViolation(caseId: string): Promise<ViolationCase | undefined>;
  /** Replaces a case if its stored revision is still `expected`; false if another writer moved it. */
  putViolation(violation: ViolationCase, expected: number): Promise<boolean>;
  /** A page of cases, of one agency or all, filtered; newest first within an agency. */
  violations(
    filter: { agency?: string; status?: ViolationStatus; overdue?: { on: string; is: boolean } },
    page: { limit: number; cursor?: string },
  ): Promise<{ items: ViolationCase[]; nextCursor?: string }>;
}

/** A step refused in the case's current status: a 409 naming it. */
export class TransitionRefusedError extends ProblemError {
  constructor(caseId: string, status: ViolationStatus, step: string) {
    super(
      409,
      "violation-transition-refused",
      "Transition refused",
      `case ${caseId} is ${status}: it cannot be ${step}`,
      [{ name: "status", reason: `is ${status}` }],
    );
  }
}

/** A case whose trail is full: open a follow-up case. */
export class TrailFullError extends ProblemError {
  constructor(caseId: string) {
    super(
      409,
      "violation-trail-full",
      "Trail full",
      `case ${caseId} holds ${MAX_TRAIL} steps, the most a case holds: resolve it and open a follow-up case`,
    );
  }
}

/** A step on a case. */
export type ViolationStep =
  | { readonly action: "answered"; readonly text: string }
  | { readonly action: "resolved"; readonly text: string }
  | { readonly action: "escalated"; readonly text: string; readonly dueDate?: string };

/** The statuses each step may start from: a resolved case is closed; an escalated one may still be answered. */
const ALLOWED_FROM: Readonly<Record<ViolationStep["action"], readonly ViolationStatus[]>> = {
  answered: ["open", "answered", "escalated"],
  resolved: ["open", "answered", "escalated"],
  escalated: ["open", "answered"],
};
const STATUS_AFTER: Readonly<Record<ViolationStep["action"], ViolationStatus>> = {
  answered: "answered",
  resolved: "resolved",
  escalated: "escalated",
};
const STEP_WORDS: Readonly<Record<ViolationStep["action"], string>> = {
  answered: "answered",
  resolved: "resolved",
  escalated: "escalated",
};

/**
 * The case after a step by `by` at `at`: its status moved, its trail one entry longer (two when an
 * escalation sets a new due date), the entries before kept as they were.
 */
export function applyStep(violation: ViolationCase, step: ViolationStep, by: string, at: string): ViolationCase {
  if (!ALLOWED_FROM[step.action].includes(violation.status)) {
    throw new TransitionRefusedError(violation.caseId, violation.status, STEP_WORDS[step.action]);
  }
  const status = STATUS_AFTER[step.action];
  const entries: TrailEntry[] = [{ at, by, action: step.action, status, text: step.text }];
  const dueDate = step.action === "escalated" && step.dueDate !== undefined ? step.dueDate : undefined;
  if (dueDate !== undefined && dueDate !== violation.dueDate) {
    entries.push({ at, by, action: "due-date-changed", status, dueDate });
  }
  if (violation.trail.length + entries.length > MAX_TRAIL) throw new TrailFullError(violation.caseId);
  return {
    ...violation,
    status,
    ...(dueDate !== undefined ? { dueDate } : {}),
    updatedAt: at,
    revision: violation.revision + 1,
    trail: [...violation.trail, ...entries],
  };
}

/** Whether a case is past its due date on `today` (YYYY-MM-DD in Vietnam) and not resolved. */
export function isOverdue(violation: Pick<ViolationCase, "status" | "dueDate">, today: string): boolean {
  return violation.status !== "resolved" && violation.dueDate < today;
}

/** A case as answered on `today`. */
export function viewOf(violation: ViolationCase, today: string): ViolationCaseView {
  return { ...violation, overdue: isOverdue(violation, today) };
}

/** Whether a YYYY-MM-DD string names a day of the calendar (not 2026-02-30). */
export function isCalendarDate(value: string): boolean {
  const parsed = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === value;
}

export type OverdueCase = NonNullable<ComplianceReport["agencies"][number]["overdueCases"]>[number];

/**
 * The compliance report with each agency's overdue cases (count and list) added; an agency with
 * overdue cases but no database in the report gets an entry of its own.
 */
export function withOverdueCases(report: ComplianceReport, overdue: readonly ViolationCase[]): ComplianceReport {
  const byAgency = new Map<string, OverdueCase[]>();
  for (const violation of overdue) {
    byAgency.set(violation.agency, [
      ...(byAgency.get(violation.agency) ?? []),
      {
        caseId: violation.caseId,
        article: violation.article,
        status: violation.status,
        dueDate: violation.dueDate,
        ...(violation.datasetId ? { datasetId: violation.datasetId } : {}),
        summary: violation.summary,
      },
    ]);
  }
  const listed = new Set(report.agencies.map((entry) => entry.agency));
  const missing = [...byAgency.keys()]
    .filter((agency) => !listed.has(agency))
    .map((agency) => ({ agency, datasets: 0, standardised: 0, connected: 0, onTrack: 0, late: [] }));
  return {
    ...report,
    agencies: [...report.agencies, ...missing]
      .sort((a, b) => a.agency.localeCompare(b.agency))
      .map((entry) => {
        const cases = byAgency.get(entry.agency) ?? [];
        return { ...entry, overdueViolations: cases.length, overdueCases: cases };
      }),
  };
}
