import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DynamoViolationStore } from "../../../adapters/dynamodb/violation-store.ts";
import { ViolationService } from "../../../domain/oversight/violation-service.ts";
import { newViolationInput } from "../../../domain/oversight/violations.ts";
import type { Caller } from "../../../domain/registry/model.ts";
import { parseInput } from "../../../domain/validation.ts";
import { type DynaliteTable, integratedTable } from "../dynalite-table.ts";

/* Violation cases in the integrated table, against dynalite: no step is lost when steps race. */

let dynamo: DynaliteTable | undefined;
let store: DynamoViolationStore;
let violations: ViolationService;
const NOW = new Date("2026-11-27T12:00:00.000Z");
const supervisor: Caller = {
  systemId: "MPS.INSPECTION",
  agencyCode: "MPS",
  roles: ["supervisor"],
  capabilities: [],
  kid: "k",
};
const portal = (index: number): Caller => ({
  systemId: `HCM.PORTAL${index}`,
  agencyCode: "HCM",
  roles: [],
  capabilities: ["consumer"],
  kid: "k",
});

const manual = (agency: string, dueDate = "2026-12-31") =>
  parseInput(
    newViolationInput,
    { source: "manual", agency, article: "10.3", summary: "found", measure: "fix it", dueDate },
    "case",
  );

beforeAll(async () => {
  dynamo = await integratedTable();
  store = new DynamoViolationStore(dynamo.client, dynamo.table);
  violations = new ViolationService({
    store,
    audit: async () => undefined,
    dataset: async () => undefined,
    connections: async () => new Map(),
    agencyExists: async () => true,
    now: () => NOW,
  });
});

afterAll(async () => {
  await dynamo?.stop();
});

describe("DynamoViolationStore", () => {
  it("keeps every answer of systems answering one case at the same moment, each once", async () => {
    const { caseId } = await violations.open(supervisor, manual("HCM"));
    const answers = Array.from({ length: 4 }, (_, index) => `answer ${index}`);

    await Promise.all(answers.map((answer, index) => violations.answer(portal(index), caseId, answer)));

    const stored = await violations.get(supervisor, caseId);
    expect(stored.trail).toHaveLength(1 + answers.length);
    expect(stored.revision).toBe(1 + answers.length);
    expect(
      stored.trail
        .slice(1)
        .map((entry) => entry.text)
        .sort(),
    ).toEqual(answers);
  });

  it("refuses a write on a revision another writer moved on", async () => {
    const { caseId } = await violations.open(supervisor, manual("HCM"));
    const current = await store.getViolation(caseId);
    if (!current) throw new Error("the case was not stored");
    const moved = { ...current, revision: 2, status: "answered" as const };
    expect(await store.putViolation(moved, 1)).toBe(true);
    expect(await store.putViolation({ ...current, revision: 2, status: "resolved" }, 1)).toBe(false);
    expect((await store.getViolation(caseId))?.status).toBe("answered");
  });

  it("lists an agency's cases, by status and overdue, and every agency's", async () => {
    const overdue = await violations.open(supervisor, manual("DN", "2026-11-27"));
    await violations.open(supervisor, manual("DN"));
    const lateDay = new ViolationService({
      store,
      audit: async () => undefined,
      dataset: async () => undefined,
      connections: async () => new Map(),
      agencyExists: async () => true,
      now: () => new Date("2026-11-29T00:00:00.000Z"),
    });

    expect((await store.violations({ agency: "DN" }, { limit: 25 })).items).toHaveLength(2);
    expect((await lateDay.overdue("DN")).map((item) => item.caseId)).toEqual([overdue.caseId]);
    const notOverdue = await store.violations(
      { agency: "DN", overdue: { on: "2026-11-29", is: false } },
      { limit: 25 },
    );
    expect(notOverdue.items.map((item) => item.dueDate)).toEqual(["2026-12-31"]);
    expect((await store.violations({ agency: "HCM", status: "open" }, { limit: 25 })).items).toHaveLength(0);
    const all = await store.violations({}, { limit: 100 });
    expect(new Set(all.items.map((item) => item.agency))).toEqual(new Set(["DN", "HCM"]));
  });
});
