import { describe, expect, it } from "vitest";
import type { Dataset } from "../../../domain/catalog/model.ts";
import type { Audit, ComplianceReport } from "../../../domain/oversight/model.ts";
import { ViolationService } from "../../../domain/oversight/violation-service.ts";
import {
  applyStep,
  isCalendarDate,
  isOverdue,
  MAX_TRAIL,
  newViolationInput,
  type ViolationCase,
  type ViolationStore,
  withOverdueCases,
} from "../../../domain/oversight/violations.ts";
import { ValidationError } from "../../../domain/problem.ts";
import type { Caller } from "../../../domain/registry/model.ts";
import { parseInput } from "../../../domain/validation.ts";

const NOW = new Date("2026-11-27T12:00:00.000Z");
const caller = (systemId: string, roles: Caller["roles"] = []): Caller => ({
  systemId,
  agencyCode: systemId.split(".")[0] as string,
  roles,
  capabilities: ["consumer"],
  kid: "k",
});
const supervisor = caller("MPS.INSPECTION", ["supervisor"]);
const agency = caller("HCM.PORTAL");
const otherAgency = caller("DN.PORTAL");

function openCase(overrides: Partial<ViolationCase> = {}): ViolationCase {
  return {
    caseId: "VIO-1",
    agency: "HCM",
    article: "13.1",
    source: { kind: "manual" },
    summary: "s",
    evidence: [],
    measure: "m",
    dueDate: "2026-12-31",
    status: "open",
    openedBy: "MPS.INSPECTION",
    openedAt: NOW.toISOString(),
    updatedAt: NOW.toISOString(),
    revision: 1,
    trail: [{ at: NOW.toISOString(), by: "MPS.INSPECTION", action: "opened", status: "open", text: "s" }],
    ...overrides,
  };
}

class MemoryViolations implements ViolationStore {
  readonly cases = new Map<string, ViolationCase>();
  async createViolation(violation: ViolationCase) {
    this.cases.set(violation.caseId, violation);
  }
  async getViolation(caseId: string) {
    return this.cases.get(caseId);
  }
  async putViolation(violation: ViolationCase, expected: number) {
    if (this.cases.get(violation.caseId)?.revision !== expected) return false;
    this.cases.set(violation.caseId, violation);
    return true;
  }
  async violations(filter: { agency?: string; status?: string; overdue?: { on: string; is: boolean } }) {
    return {
      items: [...this.cases.values()].filter(
        (item) =>
          (!filter.agency || item.agency === filter.agency) &&
          (!filter.status || item.status === filter.status) &&
          (!filter.overdue || isOverdue(item, filter.overdue.on) === filter.overdue.is),
      ),
    };
  }
}

const audit: Audit = {
  auditId: "AUD-1",
  datasetId: "HCM.LAND.PARCELS",
  managingAgency: "HCM",
  trigger: "on-demand",
  requestedBy: "MPS.INSPECTION",
  state: "completed",
  parameters: { staleAfter: "P365D", accessWindow: "P90D" },
  createdAt: NOW.toISOString(),
  report: { findings: [{ check: "validity", severity: "medium", summary: "no schema" }] } as never,
};

function service(store = new MemoryViolations(), datasets: Dataset[] = []) {
  return new ViolationService({
    store,
    audit: async (auditId) => (auditId === audit.auditId ? audit : undefined),
    dataset: async (id) => datasets.find((dataset) => dataset.id === id),
    connections: async () => new Map(),
    agencyExists: async (code) => ["HCM", "DN", "NDC"].includes(code),
    now: () => NOW,
  });
}

async function refusal(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  return error as { status?: number; slug?: string; message: string; invalidParams?: { name: string }[] };
}

describe("violation case transitions", () => {
  it("answers an open case, keeping the entries before it as they were", () => {
    const before = openCase();
    const after = applyStep(before, { action: "answered", text: "fixed" }, "HCM.PORTAL", "2026-11-28T00:00:00.000Z");
    expect(after.status).toBe("answered");
    expect(after.revision).toBe(2);
    expect(after.trail[0]).toBe(before.trail[0]);
    expect(after.trail[1]).toMatchObject({ action: "answered", by: "HCM.PORTAL", text: "fixed", status: "answered" });
  });

  it("refuses any step on a resolved case with a 409 naming its status", () => {
    const resolved = openCase({ status: "resolved" });
    for (const action of ["answered", "resolved", "escalated"] as const) {
      const attempt = () => applyStep(resolved, { action, text: "x" }, "MPS.INSPECTION", NOW.toISOString());
      expect(attempt).toThrow(/is resolved/);
      try {
        attempt();
      } catch (error) {
        expect((error as { status: number }).status).toBe(409);
      }
    }
  });

  it("lets an escalated case be answered and resolved, but not escalated again", () => {
    const escalated = openCase({ status: "escalated" });
    expect(applyStep(escalated, { action: "answered", text: "a" }, "HCM.PORTAL", NOW.toISOString()).status).toBe(
      "answered",
    );
    expect(applyStep(escalated, { action: "resolved", text: "r" }, "MPS.X", NOW.toISOString()).status).toBe("resolved");
    expect(() => applyStep(escalated, { action: "escalated", text: "e" }, "MPS.X", NOW.toISOString())).toThrow(
      /is escalated/,
    );
  });

  it("records a new due date set by an escalation as its own trail entry", () => {
    const after = applyStep(
      openCase(),
      { action: "escalated", text: "no answer", dueDate: "2027-01-31" },
      "MPS.X",
      NOW.toISOString(),
    );
    expect(after.dueDate).toBe("2027-01-31");
    expect(after.trail.map((entry) => entry.action)).toEqual(["opened", "escalated", "due-date-changed"]);
  });

  it("refuses a step once the trail is full", () => {
    const full = openCase({ trail: Array.from({ length: MAX_TRAIL }, () => openCase().trail[0] as never) });
    expect(() => applyStep(full, { action: "answered", text: "a" }, "HCM.PORTAL", NOW.toISOString())).toThrow(/holds/);
  });

  it("counts a case overdue once its due date has passed, unless resolved", () => {
    expect(isOverdue({ status: "open", dueDate: "2026-11-26" }, "2026-11-27")).toBe(true);
    expect(isOverdue({ status: "escalated", dueDate: "2026-11-26" }, "2026-11-27")).toBe(true);
    expect(isOverdue({ status: "open", dueDate: "2026-11-27" }, "2026-11-27")).toBe(false);
    expect(isOverdue({ status: "resolved", dueDate: "2026-11-26" }, "2026-11-27")).toBe(false);
  });

  it("knows a calendar date from a well-formed impossible one", () => {
    expect(isCalendarDate("2028-02-29")).toBe(true);
    expect(isCalendarDate("2026-02-30")).toBe(false);
  });
});

describe("violation case validation", () => {
  it("names every invalid field of a body", () => {
    const body = { source: "rumour", article: "13", measure: "", dueDate: "31/12/2026", evidence: [{ kind: "x" }] };
    let names: string[] = [];
    try {
      parseInput(newViolationInput, body, "violation case");
    } catch (error) {
      names = ((error as ValidationError).invalidParams ?? []).map((param) => param.name);
    }
    expect(names).toEqual(
      expect.arrayContaining(["source", "measure", "dueDate", "evidence/0/kind", "evidence/0/ref"]),
    );
  });

  it("accepts article codes as the decree numbers them and refuses others", () => {
    for (const article of ["13.1", "24.3", "7.2a", "20"]) {
      expect(() => parseInput(newViolationInput.shape.article, article, "a")).not.toThrow();
    }
    for (const article of ["13.", "99.1", "art 13", "0.1"]) {
      expect(() => parseInput(newViolationInput.shape.article, article, "a")).toThrow(ValidationError);
    }
  });

  it("names what a manual case lacks, and a due date in the past", async () => {
    const input = parseInput(newViolationInput, { source: "manual", measure: "m", dueDate: "2026-11-01" }, "v");
    const error = await refusal(service().open(supervisor, input));
    expect(error.status).toBe(400);
    expect(error.invalidParams?.map((param) => param.name).sort()).toEqual(["agency", "article", "dueDate", "summary"]);
  });

  it("opens a case from an audit's finding, taking its agency, dataset and summary", async () => {
    const input = parseInput(
      newViolationInput,
      { source: "audit", auditId: "AUD-1", finding: 0, measure: "publish a schema", dueDate: "2026-12-31" },
      "v",
    );
    const opened = await service().open(supervisor, input);
    expect(opened).toMatchObject({
      agency: "HCM",
      datasetId: "HCM.LAND.PARCELS",
      article: "14.2",
      status: "open",
      overdue: false,
      evidence: [{ kind: "audit", ref: "AUD-1" }],
      source: { kind: "audit", auditId: "AUD-1", finding: 0 },
    });
    expect(opened.summary).toContain("no schema");
  });

  it("keeps every evidence link given, linking the audit only when there is room", async () => {
    const links = Array.from({ length: 20 }, (_, index) => ({ kind: "transaction", ref: `TX-${index}` }));
    const input = parseInput(
      newViolationInput,
      { source: "audit", auditId: "AUD-1", finding: 0, measure: "m", dueDate: "2026-12-31", evidence: links },
      "v",
    );
    expect((await service().open(supervisor, input)).evidence).toEqual(links);
  });

  it("refuses a finding index the audit does not have, and an agency other than the audit's", async () => {
    const input = parseInput(
      newViolationInput,
      { source: "audit", auditId: "AUD-1", finding: 3, agency: "DN", measure: "m", dueDate: "2026-12-31" },
      "v",
    );
    const error = await refusal(service().open(supervisor, input));
    expect(error.invalidParams?.map((param) => param.name)).toEqual(["finding"]);
    const wrongAgency = await refusal(service().open(supervisor, { ...input, finding: 0 }));
    expect(wrongAgency.invalidParams?.map((param) => param.name)).toEqual(["agency"]);
  });

  it("refuses a compliance case for a dataset that is not late", async () => {
    const onTime = { id: "HCM.X.Y", managingAgency: "HCM", mandatory: "none", createdAt: NOW.toISOString() } as Dataset;
    const input = parseInput(
      newViolationInput,
      { source: "compliance", datasetId: "HCM.X.Y", measure: "m", dueDate: "2026-12-31" },
      "v",
    );
    const error = await refusal(service(new MemoryViolations(), [onTime]).open(supervisor, input));
    expect(error.invalidParams?.map((param) => param.name)).toEqual(["datasetId"]);
  });
});

describe("who may do what with a case", () => {
  async function opened(store: MemoryViolations) {
    const input = parseInput(
      newViolationInput,
      { source: "manual", agency: "HCM", article: "10.3", summary: "s", measure: "m", dueDate: "2026-12-31" },
      "v",
    );
    return service(store).open(supervisor, input);
  }

  it("lets only the supervisor and the operator open cases", async () => {
    const input = parseInput(
      newViolationInput,
      { source: "manual", agency: "HCM", article: "10.3", summary: "s", measure: "m", dueDate: "2026-12-31" },
      "v",
    );
    expect((await refusal(service().open(agency, input))).status).toBe(403);
  });

  it("hides a case from other agencies as absent, for reading and for every step", async () => {
    const store = new MemoryViolations();
    const { caseId } = await opened(store);
    const violations = service(store);
    for (const attempt of [
      violations.get(otherAgency, caseId),
      violations.answer(otherAgency, caseId, "a"),
      violations.resolve(otherAgency, caseId, "r"),
      violations.escalate(otherAgency, caseId, "e"),
    ]) {
      expect((await refusal(attempt)).status).toBe(404);
    }
    expect((await violations.get(agency, caseId)).caseId).toBe(caseId);
  });

  it("lets the agency answer but not resolve or escalate, and the supervisor resolve but not answer", async () => {
    const store = new MemoryViolations();
    const { caseId } = await opened(store);
    const violations = service(store);
    expect((await refusal(violations.resolve(agency, caseId, "r"))).status).toBe(403);
    expect((await refusal(violations.escalate(agency, caseId, "e"))).status).toBe(403);
    expect((await refusal(violations.answer(supervisor, caseId, "a"))).status).toBe(403);
    await violations.answer(agency, caseId, "done");
    const resolved = await violations.resolve(supervisor, caseId, "checked");
    expect(resolved.trail.map((entry) => `${entry.action} by ${entry.by}`)).toEqual([
      "opened by MPS.INSPECTION",
      "answered by HCM.PORTAL",
      "resolved by MPS.INSPECTION",
    ]);
  });

  it("lists an agency's own cases only, and refuses it another's", async () => {
    const store = new MemoryViolations();
    await opened(store);
    expect((await service(store).list(agency, {}, { limit: 25 })).items).toHaveLength(1);
    expect((await service(store).list(otherAgency, {}, { limit: 25 })).items).toHaveLength(0);
    expect((await refusal(service(store).list(otherAgency, { agency: "HCM" }, { limit: 25 }))).status).toBe(403);
  });
});

describe("overdue cases in the compliance report", () => {
  const report: ComplianceReport = {
    asOf: NOW.toISOString(),
    deadlines: { standardisationAppendixI: "2025-12-31", standardisationOther: "2026-12-31", connection: "2026-12-31" },
    agencies: [{ agency: "HCM", datasets: 1, standardised: 1, connected: 1, onTrack: 1, late: [] }],
    datasets: [],
  };

  it("adds each agency's overdue count and list, and an entry for an agency with cases but no database", () => {
    const merged = withOverdueCases(report, [openCase({ agency: "NDC", dueDate: "2026-11-01" })]);
    expect(merged.agencies.map((entry) => [entry.agency, entry.overdueViolations])).toEqual([
      ["HCM", 0],
      ["NDC", 1],
    ]);
    expect(merged.agencies[1]?.overdueCases?.[0]).toMatchObject({ caseId: "VIO-1", dueDate: "2026-11-01" });
    expect(merged.datasets).toBe(report.datasets);
  });
});
