import { randomUUID } from "node:crypto";
import type { Dataset } from "../catalog/model.ts";
import { legalDate } from "../dictionary/standardisation.ts";
import { isOverseer } from "../identity/authorization.ts";
import { ConflictError, ForbiddenError, type InvalidParam, NotFoundError, ValidationError } from "../problem.ts";
import type { Caller } from "../registry/model.ts";
import { complianceOf, lateReasons } from "./compliance.ts";
import type { Audit } from "./model.ts";
import {
  applyStep,
  isCalendarDate,
  MAX_EVIDENCE,
  MAX_TEXT,
  type NewViolationInput,
  type ViolationCase,
  type ViolationCaseView,
  type ViolationStatus,
  type ViolationStep,
  type ViolationStore,
  viewOf,
} from "./violations.ts";

/** What the register reads besides its own cases. */
export interface ViolationDeps {
  readonly store: ViolationStore;
  readonly audit: (auditId: string) => Promise<Audit | undefined>;
  readonly dataset: (datasetId: string) => Promise<Dataset | undefined>;
  /** When each dataset was first connected (its first allowed exchange). */
  readonly connections: (datasetIds: readonly string[]) => Promise<Map<string, string>>;
  readonly agencyExists: (code: string) => Promise<boolean>;
  readonly now?: () => Date;
}

/** How often a step is tried again when another writer moved the case first. */
const ATTEMPTS = 5;

/** What a case is opened with, once its source is resolved. */
type Opening = Pick<ViolationCase, "agency" | "article" | "summary" | "source"> &
  Partial<Pick<ViolationCase, "datasetId" | "systemId">>;

/**
 * The register of violations (Art. 20.3, 22.5). The supervisor and the operator open, resolve and
 * escalate cases; the agency concerned reads and answers its own; to anyone else a case does not
 * exist (404).
 */
export class ViolationService {
  constructor(private readonly deps: ViolationDeps) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  private today(): string {
    return legalDate(this.now());
  }

  /** Opens a case from a finding, each missing or wrong field named. */
  async open(caller: Caller, input: NewViolationInput): Promise<ViolationCaseView> {
    if (!isOverseer(caller)) {
      throw new ForbiddenError(
        "only the supervisor (Ministry of Public Security) and the operator open violation cases",
      );
    }
    const invalid: InvalidParam[] = [];
    if (!isCalendarDate(input.dueDate)) invalid.push({ name: "dueDate", reason: "is not a date of the calendar" });
    else if (input.dueDate < this.today()) invalid.push({ name: "dueDate", reason: "is in the past" });
    const opening = await this.openingOf(input, invalid);
    if (input.agency !== undefined && opening && input.agency !== opening.agency) {
      invalid.push({ name: "agency", reason: `the finding concerns ${opening.agency}` });
    } else if (input.agency !== undefined && !(await this.deps.agencyExists(input.agency))) {
      invalid.push({ name: "agency", reason: "no such agency" });
    }
    if (!opening || invalid.length > 0) {
      throw new ValidationError(`violation case: ${invalid.length} invalid field(s)`, invalid);
    }
    const at = this.now().toISOString();
    const evidence = [...input.evidence];
    // The audit is linked as evidence too, when the links given leave room for it.
    const auditId = opening.source.auditId;
    if (
      auditId &&
      evidence.length < MAX_EVIDENCE &&
      !evidence.some((link) => link.kind === "audit" && link.ref === auditId)
    ) {
      evidence.unshift({ kind: "audit", ref: auditId });
    }
    const violation: ViolationCase = {
      caseId: `VIO-${randomUUID()}`,
      ...opening,
      evidence,
      measure: input.measure,
      dueDate: input.dueDate,
      status: "open",
      openedBy: caller.systemId,
      openedAt: at,
      updatedAt: at,
      revision: 1,
      trail: [
        { at, by: caller.systemId, action: "opened", status: "open", text: opening.summary, dueDate: input.dueDate },
      ],
    };
    await this.deps.store.createViolation(violation);
    return viewOf(violation, this.today());
  }

  /** The case's agency, article and summary from its source; undefined (with `invalid` filled) when they cannot be. */
  private async openingOf(input: NewViolationInput, invalid: InvalidParam[]): Promise<Opening | undefined> {
    const need = (name: keyof NewViolationInput) => {
      if (input[name] === undefined) invalid.push({ name, reason: `is required for a ${input.source} case` });
      return input[name] !== undefined;
    };
    const ids = {
      ...(input.datasetId ? { datasetId: input.datasetId } : {}),
      ...(input.systemId ? { systemId: input.systemId } : {}),
    };
    switch (input.source) {
      case "audit": {
        if (![need("auditId"), need("finding")].every(Boolean)) return undefined;
        const audit = await this.deps.audit(input.auditId as string);
        if (!audit) {
          invalid.push({ name: "auditId", reason: "no such audit" });
          return undefined;
        }
        const finding = audit.report?.findings[input.finding as number];
        if (!finding) {
          invalid.push(
            audit.report
              ? { name: "finding", reason: `the audit has ${audit.report.findings.length} finding(s), from 0` }
              : { name: "auditId", reason: `the audit is ${audit.state}: it has no findings yet` },
          );
          return undefined;
        }
        return {
          ...ids,
          agency: audit.managingAgency,
          datasetId: audit.datasetId,
          article: input.article ?? "14.2",
          summary:
            input.summary ??
            clip(`${finding.severity} ${finding.check} finding of audit ${audit.auditId}: ${finding.summary}`),
          source: { kind: "audit", auditId: audit.auditId, finding: input.finding as number },
        };
      }
      case "compliance": {
        if (!need("datasetId")) return undefined;
        const dataset = await this.deps.dataset(input.datasetId as string);
        if (!dataset) {
          invalid.push({ name: "datasetId", reason: "no such dataset" });
          return undefined;
        }
        const connectedAt = (await this.deps.connections([dataset.id])).get(dataset.id);
        const entry = complianceOf(dataset, connectedAt ? legalDate(connectedAt) : undefined, this.today());
        if (!entry.late) {
          invalid.push({ name: "datasetId", reason: "is not late against its Art. 24 deadlines" });
          return undefined;
        }
        const connectionLate = entry.connection === "overdue" || entry.connection === "connected-late";
        return {
          ...ids,
          agency: dataset.managingAgency,
          datasetId: dataset.id,
          article: input.article ?? (connectionLate ? "24.3" : "24.1"),
          summary: input.summary ?? clip(`${dataset.id}: ${lateReasons(entry).join("; ")}`),
          source: { kind: "compliance" },
        };
      }
      case "log-chain": {
        if (![need("agency"), need("shard"), need("summary")].every(Boolean)) return undefined;
        return {
          ...ids,
          agency: input.agency as string,
          article: input.article ?? "13.1",
          summary: input.summary as string,
          source: {
            kind: "log-chain",
            shard: input.shard as number,
            ...(input.sequence !== undefined ? { sequence: input.sequence } : {}),
          },
        };
      }
      case "refused-access":
      case "manual": {
        const required = [need("agency"), need("article"), need("summary")];
        if (input.source === "refused-access") required.push(need("systemId"));
        if (!required.every(Boolean)) return undefined;
        return {
          ...ids,
          agency: input.agency as string,
          article: input.article as string,
          summary: input.summary as string,
          source: { kind: input.source },
        };
      }
    }
  }

  /** A case its caller may see: every case for the supervisor and the operator, its own for an agency. */
  private async visible(caller: Caller, caseId: string): Promise<ViolationCase> {
    const found = await this.deps.store.getViolation(caseId);
    if (!found || (!isOverseer(caller) && found.agency !== caller.agencyCode)) {
      throw new NotFoundError(`no violation case ${caseId} that ${caller.systemId} may read`);
    }
    return found;
  }

  async get(caller: Caller, caseId: string): Promise<ViolationCaseView> {
    return viewOf(await this.visible(caller, caseId), this.today());
  }

  /** Cases in scope: an agency's own; any agency's, or all, for the supervisor and the operator. */
  async list(
    caller: Caller,
    query: { agency?: string; status?: ViolationStatus; overdue?: "true" | "false" },
    page: { limit: number; cursor?: string },
  ): Promise<{ items: ViolationCaseView[]; nextCursor?: string }> {
    const agency = query.agency ?? (isOverseer(caller) ? undefined : caller.agencyCode);
    if (agency !== caller.agencyCode && !isOverseer(caller)) {
      throw new ForbiddenError(`${caller.systemId} reads the cases of ${caller.agencyCode} only`);
    }
    const today = this.today();
    const found = await this.deps.store.violations(
      {
        ...(agency ? { agency } : {}),
        ...(query.status ? { status: query.status } : {}),
        ...(query.overdue ? { overdue: { on: today, is: query.overdue === "true" } } : {}),
      },
      page,
    );
    return { ...found, items: found.items.map((violation) => viewOf(violation, today)) };
  }

  /** Every case past its due date and not resolved, of one agency or all: what compliance shows. */
  async overdue(agency?: string): Promise<ViolationCase[]> {
    const cases: ViolationCase[] = [];
    let cursor: string | undefined;
    do {
      const found = await this.deps.store.violations(
        { ...(agency ? { agency } : {}), overdue: { on: this.today(), is: true } },
        { limit: 100, ...(cursor ? { cursor } : {}) },
      );
      cases.push(...found.items);
      cursor = found.nextCursor;
    } while (cursor);
    return cases;
  }

  /** The agency concerned answers (any of its systems), also once escalated. */
  answer(caller: Caller, caseId: string, answer: string): Promise<ViolationCaseView> {
    return this.step(caller, caseId, { action: "answered", text: answer }, (violation) => {
      if (violation.agency !== caller.agencyCode) {
        throw new ForbiddenError(`only ${violation.agency}, the agency concerned, answers case ${caseId}`);
      }
    });
  }

  resolve(caller: Caller, caseId: string, reason: string): Promise<ViolationCaseView> {
    return this.step(caller, caseId, { action: "resolved", text: reason }, overseerOnly(caller, "resolve"));
  }

  escalate(caller: Caller, caseId: string, reason: string, dueDate?: string): Promise<ViolationCaseView> {
    if (dueDate !== undefined && (!isCalendarDate(dueDate) || dueDate < this.today())) {
      throw new ValidationError("the new due date is not a day to come", [
        { name: "dueDate", reason: isCalendarDate(dueDate) ? "is in the past" : "is not a date of the calendar" },
      ]);
    }
    const step: ViolationStep = { action: "escalated", text: reason, ...(dueDate ? { dueDate } : {}) };
    return this.step(caller, caseId, step, overseerOnly(caller, "escalate"));
  }

  /**
   * Applies a step on the revision read; when another writer moved the case first, reads it again
   * and checks the step anew, so no trail entry is ever lost or written twice.
   */
  private async step(
    caller: Caller,
    caseId: string,
    step: ViolationStep,
    allowed: (violation: ViolationCase) => void,
  ): Promise<ViolationCaseView> {
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const current = await this.visible(caller, caseId);
      allowed(current);
      const next = applyStep(current, step, caller.systemId, this.now().toISOString());
      if (await this.deps.store.putViolation(next, current.revision)) return viewOf(next, this.today());
    }
    throw new ConflictError(`case ${caseId} kept changing while ${caller.systemId} wrote to it: try again`);
  }
}

function overseerOnly(caller: Caller, action: string) {
  return () => {
    if (!isOverseer(caller)) {
      throw new ForbiddenError(`only the supervisor (Ministry of Public Security) and the operator ${action} cases`);
    }
  };
}

function clip(text: string): string {
  return text.length <= MAX_TEXT ? text : `${text.slice(0, MAX_TEXT - 1)}…`;
}
