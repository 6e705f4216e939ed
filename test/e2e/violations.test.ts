import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { DynamoViolationStore } from "../../adapters/dynamodb/violation-store.ts";
import { oversightRoutes } from "../../api/oversight.ts";
import { violationRoutes } from "../../api/violations.ts";
import { runCli } from "../../cli/dscp.ts";
import { saveIdentity } from "../../client/identity-files.ts";
import { legalDate } from "../../domain/dictionary/standardisation.ts";
import type { Audit, AuditsQueued, ComplianceReport } from "../../domain/oversight/model.ts";
import type { ViolationCase, ViolationCaseView } from "../../domain/oversight/violations.ts";
import type { ProblemDetails } from "../../domain/problem.ts";
import { eventually, temporaryDir } from "../runtime/helpers.ts";
import { target } from "./target.ts";
import { citizensDataset, createWorld, runId, type World } from "./world.ts";

/*
 * Violations and measures (Art. 20.3, 22.5): an audit of a database that names no schema and has
 * received nothing finds it wanting; the supervisor opens a case from the finding, the agency
 * answers, the supervisor resolves, and the trail holds the three steps.
 */

const { apiUrl, audience, outputs } = target();
const run = runId();
const folder = temporaryDir("violations-e2e");
const inAMonth = legalDate(new Date(Date.now() + 30 * 86_400_000));
let world: World;
let datasetId: string;
let audit: Audit;
let opened: ViolationCaseView;

beforeAll(async () => {
  world = await createWorld({ run });
  datasetId = `${world.provider.systemId}.LAND`;
  await world
    .client(world.provider)
    .publishDataset(
      citizensDataset(datasetId, world.provider.systemId, { methods: ["integrated"], updateFrequency: "P1D" }),
    );
  const supervisor = world.client(world.supervisor);
  const queued: AuditsQueued = await supervisor.invoke(oversightRoutes.requestAudits, { body: { datasetId } });
  const auditId = queued.audits[0]?.auditId ?? "";
  audit = await eventually(async () => {
    const found: Audit = await supervisor.invoke(oversightRoutes.getAudit, { path: { auditId } });
    return found.state === "queued" || found.state === "running" ? undefined : found;
  }, 240);
}, 300_000);

describe("a violation case from an audit finding", () => {
  it("is opened by the supervisor from the finding, against the dataset's agency", async () => {
    const finding = audit.report?.findings.findIndex((entry) => entry.summary.includes("names no dictionary schema"));
    expect(finding).toBeGreaterThanOrEqual(0);

    const response = await world.client(world.supervisor).sendRoute(violationRoutes.openViolation, {
      body: {
        source: "audit",
        auditId: audit.auditId,
        finding,
        measure: "Publish the dataset's schema in the Common Data Dictionary (Art. 19)",
        dueDate: inAMonth,
        evidence: [{ kind: "url", ref: "https://portal.example.gov.vn/audits" }],
      },
    });
    opened = response.body as ViolationCaseView;

    expect(response.status).toBe(201);
    expect(opened).toMatchObject({
      agency: world.providerAgency,
      datasetId,
      article: "14.2",
      status: "open",
      overdue: false,
      source: { kind: "audit", auditId: audit.auditId, finding },
      openedBy: world.supervisor.systemId,
    });
    expect(opened.evidence.map((link) => link.kind)).toEqual(["audit", "url"]);
  });

  it("does not exist for another agency, to read or to answer", async () => {
    const other = world.client(world.consumer);
    const read = await other.sendRoute(violationRoutes.getViolation, { path: { caseId: opened.caseId } });
    const answered = await other.sendRoute(violationRoutes.answerViolation, {
      path: { caseId: opened.caseId },
      body: { answer: "Not ours" },
    });
    const listed: { items: ViolationCaseView[] } = await other.invoke(violationRoutes.listViolations, {});

    expect(read.status).toBe(404);
    expect(answered.status).toBe(404);
    expect(listed.items.map((item) => item.caseId)).not.toContain(opened.caseId);
  });

  it("is answered by the agency, resolved by the supervisor, and the trail shows all three steps", async () => {
    const answered: ViolationCaseView = await world.client(world.provider).invoke(violationRoutes.answerViolation, {
      path: { caseId: opened.caseId },
      body: { answer: "Schema MPS.LAND 1.0.0 is being drafted; published by next month" },
    });
    expect(answered.status).toBe("answered");

    const resolved: ViolationCaseView = await world.client(world.supervisor).invoke(violationRoutes.resolveViolation, {
      path: { caseId: opened.caseId },
      body: { reason: "The schema is published and the dataset names it" },
    });
    const seen: ViolationCaseView = await world
      .client(world.provider)
      .invoke(violationRoutes.getViolation, { path: { caseId: opened.caseId } });

    expect(resolved.status).toBe("resolved");
    expect(seen.trail.map((entry) => [entry.action, entry.by, entry.status])).toEqual([
      ["opened", world.supervisor.systemId, "open"],
      ["answered", world.provider.systemId, "answered"],
      ["resolved", world.supervisor.systemId, "resolved"],
    ]);
    expect(seen.trail[1]?.text).toContain("being drafted");
  });

  it("refuses to answer a resolved case with a 409 naming its status", async () => {
    const response = await world.client(world.provider).sendRoute(violationRoutes.answerViolation, {
      path: { caseId: opened.caseId },
      body: { answer: "Once more" },
    });

    expect(response.status).toBe(409);
    expect((response.body as ProblemDetails).detail).toContain("resolved");
  });

  it("prints the case and its trail through the CLI", async () => {
    const keysDir = join(folder, "keys");
    saveIdentity(keysDir, world.provider);
    let out = "";
    const code = await runCli(["violations", "show", opened.caseId, "--as", world.provider.systemId], {
      stdout: (text) => {
        out += text;
      },
      stderr: () => undefined,
      env: { DSCP_API_URL: apiUrl, DSCP_AUDIENCE: audience, DSCP_KEYS_DIR: keysDir },
      cwd: folder,
    });

    expect(code).toBe(0);
    expect(out).toContain(opened.caseId);
    expect(out).toMatch(/answered\s+.*being drafted/);
  });
});

describe("bad cases", () => {
  it("refuses a malformed case with a 400 naming every invalid field", async () => {
    const response = await world.client(world.supervisor).sendRoute(violationRoutes.openViolation, {
      body: { source: "rumour", agency: "lower", article: "13.", measure: "", dueDate: "next week" },
    });

    expect(response.status).toBe(400);
    expect((response.body as ProblemDetails).invalidParams?.map((param) => param.name).sort()).toEqual(
      ["agency", "article", "dueDate", "measure", "source"].sort(),
    );
  });

  it("names what a manual case lacks, and an agency that does not exist", async () => {
    const response = await world.client(world.supervisor).sendRoute(violationRoutes.openViolation, {
      body: { source: "manual", agency: `X${run}`, measure: "Fix it", dueDate: inAMonth },
    });

    expect(response.status).toBe(400);
    expect((response.body as ProblemDetails).invalidParams?.map((param) => param.name).sort()).toEqual([
      "agency",
      "article",
      "summary",
    ]);
  });

  it("lets no agency open a case", async () => {
    const response = await world.client(world.provider).sendRoute(violationRoutes.openViolation, {
      body: {
        source: "manual",
        agency: world.consumerAgency,
        article: "10.3",
        summary: "s",
        measure: "m",
        dueDate: inAMonth,
      },
    });

    expect(response.status).toBe(403);
  });
});

describe("overdue cases (Art. 20.3)", () => {
  it("show in the compliance report and the overdue listing", async () => {
    // A case opened weeks ago whose due date has passed, written as it was stored then.
    const endpoint = inject("dynamodbEndpoint");
    const client = new DynamoDBClient(
      endpoint
        ? { endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } }
        : {},
    );
    const openedAt = new Date(Date.now() - 40 * 86_400_000).toISOString();
    const overdue: ViolationCase = {
      caseId: `VIO-${run}-LATE`,
      agency: world.consumerAgency,
      article: "10.3",
      source: { kind: "refused-access" },
      systemId: world.consumer.systemId,
      summary: "Repeated queries outside the permitted fields",
      evidence: [],
      measure: "Restrict the portal's queries to its permitted fields",
      dueDate: legalDate(new Date(Date.now() - 10 * 86_400_000)),
      status: "open",
      openedBy: world.supervisor.systemId,
      openedAt,
      updatedAt: openedAt,
      revision: 1,
      trail: [{ at: openedAt, by: world.supervisor.systemId, action: "opened", status: "open", text: "s" }],
    };
    await new DynamoViolationStore(client, String(outputs.IntegratedTableName)).createViolation(overdue);

    const report: ComplianceReport = await world
      .client(world.supervisor)
      .invoke(oversightRoutes.getCompliance, { query: { agency: world.consumerAgency } });
    const own: ComplianceReport = await world.client(world.consumer).invoke(oversightRoutes.getCompliance, {});
    const listed: { items: ViolationCaseView[] } = await world
      .client(world.consumer)
      .invoke(violationRoutes.listViolations, { query: { overdue: "true" } });

    const entry = report.agencies.find((agency) => agency.agency === world.consumerAgency);
    expect(entry?.overdueViolations).toBe(1);
    expect(entry?.overdueCases?.map((item) => item.caseId)).toEqual([overdue.caseId]);
    expect(own.agencies.find((agency) => agency.agency === world.consumerAgency)?.overdueViolations).toBe(1);
    expect(listed.items.map((item) => [item.caseId, item.overdue])).toEqual([[overdue.caseId, true]]);
  });
});
