import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { DynamoIntegratedStore } from "../../adapters/dynamodb/integrated-store.ts";
import { runCli } from "../../cli/dscp.ts";
import { saveIdentity } from "../../client/identity-files.ts";
import { type Citizen, syntheticPopulation } from "../../demo/population.ts";
import { legalDate } from "../../domain/dictionary/standardisation.ts";
import { CONNECTION_DEADLINE } from "../../domain/oversight/compliance.ts";
import type { Audit, AuditsQueued, ComplianceReport, Ranking, RankingIndices } from "../../domain/oversight/model.ts";
import { eventually, temporaryDir } from "../runtime/helpers.ts";
import { target } from "./target.ts";
import { citizensDataset, createWorld, publishCitizenSchema, runId, type World } from "./world.ts";

/*
 * A seeded scenario with known defects (issue 7): a clean register; a civil-status register with
 * records missing required fields, stale records, a duplicate key in another spelling, a record
 * repeating another's content, and a consumer still using its expired permission; and an
 * Appendix I database that was never standardised, past its Art. 24 deadline.
 */

const { apiUrl, audience, outputs } = target();
const run = runId();
const people: Citizen[] = syntheticPopulation(40, 314);
const folder = temporaryDir("oversight-e2e");
const started = new Date();
const year = Number(legalDate(started).slice(0, 4));
/** After 2026 the defective dataset, standardised and connected today, is late too (Art. 24). */
const pastDeadlines = legalDate(started) > CONNECTION_DEADLINE;
let world: World;
let clean: string;
let defective: string;
let late: string;
let permissionId: string;
let audits: Map<string, Audit>;

const seeded = {
  incomplete: ["990000000001", "990000000002", "990000000003"],
  stale: ["990000000011", "990000000012"],
  keySpelling: "", // a second spelling of an existing key, set below
  sameContent: "990000000021",
};

/** Writes records straight into the integrated store, as data that arrived before the platform checked it would be. */
async function seedDirectly(
  datasetId: string,
  records: ReadonlyArray<{ record: Record<string, unknown>; at: string }>,
) {
  const endpoint = inject("dynamodbEndpoint");
  const client = new DynamoDBClient(
    endpoint ? { endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {},
  );
  const store = new DynamoIntegratedStore(client, String(outputs.IntegratedTableName));
  for (const [index, { record, at }] of records.entries()) {
    await store.apply({
      datasetId,
      key: String(record.personalId),
      operation: { op: "upsert", record } as never,
      batchId: `seed-${run}`,
      index,
      fullSync: false,
      at,
    });
  }
}

async function synced(provider: ReturnType<World["client"]>, datasetId: string, records: readonly Citizen[]) {
  const batchId = `oversight-${randomUUID()}`;
  await provider.call("POST", `/v1/sync/${datasetId}/batches`, {
    body: { batchId, operations: records.map((record) => ({ op: "upsert", record })) },
  });
  await eventually(async () => ((await provider.getBatch(batchId)).state === "completed" ? true : undefined), 240);
}

beforeAll(async () => {
  world = await createWorld({ run });
  const schema = await publishCitizenSchema(world, run);
  const provider = world.client(world.provider);
  const standardised = { schema: { id: schema.id, version: "1.0.0" } };
  clean = `${world.provider.systemId}.REGISTER`;
  defective = `${world.provider.systemId}.CIVIL`;
  late = `${world.provider.systemId}.LAND`;
  await provider.publishDataset(
    citizensDataset(clean, world.provider.systemId, { methods: ["integrated"], ...standardised }),
  );
  // Only the operator puts a dataset on a mandatory list (Art. 8).
  await world.admin.publishDataset(
    citizensDataset(defective, world.provider.systemId, {
      methods: ["integrated"],
      mandatory: "appendix-ii",
      updateFrequency: "P1D",
      ...standardised,
    }),
  );
  // Appendix I, never standardised: its deadline was 31 Dec 2025 (Art. 24.1).
  await world.admin.publishDataset(citizensDataset(late, world.provider.systemId, { mandatory: "appendix-i" }));

  await synced(provider, clean, people.slice(0, 20));
  await synced(provider, defective, people.slice(20));

  const original = people[20] as Citizen;
  seeded.keySpelling = `${original.personalId.slice(0, 4)}-${original.personalId.slice(4)}`;
  const now = new Date().toISOString();
  const twoYearsAgo = new Date(Date.now() - 2 * 365 * 86_400_000).toISOString();
  const base = people[21] as Citizen;
  const { fullName: _fullName, ...withoutName } = base;
  const { gender: _gender, ...withoutGender } = base;
  await seedDirectly(defective, [
    { record: { ...withoutName, personalId: seeded.incomplete[0] }, at: now },
    { record: { ...base, personalId: seeded.incomplete[1], province: "" }, at: now },
    { record: { ...withoutGender, personalId: seeded.incomplete[2], birthDate: null }, at: now },
    ...seeded.stale.map((personalId, index) => ({
      record: { ...(people[30 + index] as Citizen), personalId, fullName: `Lê Văn Cũ ${index}` },
      at: twoYearsAgo,
    })),
    { record: { ...original, personalId: seeded.keySpelling, fullName: `${original.fullName} Bis` }, at: now },
    // The same person as people[25] under another key, spelled in capitals.
    {
      record: {
        ...(people[25] as Citizen),
        personalId: seeded.sameContent,
        fullName: (people[25] as Citizen).fullName.toUpperCase(),
      },
      at: now,
    },
  ]);

  // The consumer's permission expires a few seconds from now; it queries once before, once after.
  const consumer = world.client(world.consumer);
  const request = await consumer.requestAccess({
    datasetId: defective,
    fields: ["personalId", "fullName"],
    purpose: "Check civil status for the portal's applications",
    purposeClass: "public-service",
    methods: ["integrated"],
    validUntil: new Date(Date.now() + 15_000).toISOString(),
    legalBasis: "Decree, Art. 7.2c",
  });
  const decision = await provider.decide(request.id, { decision: "approve", reason: "Within the portal's functions" });
  permissionId = String((decision as { permission?: { id: string } }).permission?.id);
  await consumer.queryRecords(defective, { filters: {}, limit: 5 });
  await new Promise((resolve) => setTimeout(resolve, Date.parse(request.validUntil) + 1_000 - Date.now()));
  const refused = await consumer.send("POST", `/v1/exchange/${defective}/query`, { body: { filters: {}, limit: 5 } });
  expect(refused.status).toBe(403);

  // The supervisor audits every dataset of the provider's agency.
  const supervisor = world.client(world.supervisor);
  const queued = await supervisor.call<AuditsQueued>("POST", "/v1/audits", { body: { agency: world.providerAgency } });
  expect(queued.audits.map((audit) => audit.datasetId).sort()).toEqual([clean, defective, late].sort());
  audits = new Map();
  for (const { auditId, datasetId } of queued.audits) {
    const done = await eventually(async () => {
      const audit = await supervisor.call<Audit>("GET", `/v1/audits/${auditId}`);
      return audit.state === "queued" || audit.state === "running" ? undefined : audit;
    }, 240);
    audits.set(datasetId, done);
  }
}, 300_000);

describe("data audits (Art. 14) on the seeded defects", () => {
  it("finds the records missing required fields, naming each field and the records", () => {
    const report = audits.get(defective)?.report;

    expect(audits.get(defective)?.state).toBe("completed");
    expect(report?.records).toBe(20 + 7);
    expect(report?.completeness.recordsComplete).toBe(27 - 3);
    expect(report?.completeness.fields).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ field: "fullName", required: true, missing: 1 }),
        expect.objectContaining({ field: "province", required: true, missing: 1 }),
        expect.objectContaining({ field: "birthDate", required: true, missing: 1 }),
        expect.objectContaining({ field: "gender", required: true, missing: 1 }),
      ]),
    );
    const finding = report?.findings.find((entry) => entry.check === "completeness");
    expect(finding?.keys?.sort()).toEqual([...seeded.incomplete].sort());
    // The key in another spelling also breaks the personalId pattern.
    expect(report?.validity.invalid).toBe(4);
    expect(report?.findings.find((entry) => entry.check === "validity")?.keys?.sort()).toEqual(
      [...seeded.incomplete, seeded.keySpelling].sort(),
    );
  });

  it("finds the stale records, against the staleness threshold, by key", () => {
    const timeliness = audits.get(defective)?.report?.timeliness;

    expect(timeliness).toMatchObject({ staleAfter: "P365D", staleRecords: 2, overdue: false, updateFrequency: "P1D" });
    expect(timeliness?.sample.sort()).toEqual([...seeded.stale].sort());
    expect(timeliness?.oldestAgeDays).toBeGreaterThanOrEqual(729);
  });

  it("finds the duplicate key in another spelling and the record repeating another's content", () => {
    const duplicates = audits.get(defective)?.report?.duplicates;

    expect(duplicates).toMatchObject({ keyGroups: 1, keyRecords: 1, nearIdenticalGroups: 1, nearIdenticalRecords: 1 });
    expect(duplicates?.sample).toEqual(
      expect.arrayContaining([
        { kind: "data-key", keys: expect.arrayContaining([(people[20] as Citizen).personalId, seeded.keySpelling]) },
        {
          kind: "near-identical",
          keys: expect.arrayContaining([(people[25] as Citizen).personalId, seeded.sameContent]),
        },
      ]),
    );
  });

  it("finds the consumer using its expired permission, and the permission left unrevoked", () => {
    const access = audits.get(defective)?.report?.access;
    const findings = audits.get(defective)?.report?.findings.filter((entry) => entry.check === "access") ?? [];

    expect(access?.expiredUse).toEqual([
      { consumerSystem: world.consumer.systemId, attempts: 1, lastAttempt: expect.any(String) },
    ]);
    expect(access?.expired).toEqual([
      { permissionId, consumerSystem: world.consumer.systemId, validUntil: expect.any(String) },
    ]);
    expect(access?.denied).toBe(1);
    expect(access?.allowed).toBeGreaterThanOrEqual(1);
    expect(findings.map((entry) => entry.severity)).toContain("high");
    expect(findings.map((entry) => entry.summary).join("\n")).toContain(world.consumer.systemId);
  });

  it("finds nothing serious in the clean register, and audits the unheld database's access only", () => {
    const cleanReport = audits.get(clean)?.report;
    const lateReport = audits.get(late)?.report;

    expect(cleanReport?.scores).toMatchObject({ completeness: 100, validity: 100, uniqueness: 100, timeliness: 100 });
    expect(cleanReport?.findings.filter((entry) => entry.severity === "high")).toEqual([]);
    expect(lateReport).toMatchObject({ held: false, records: 0 });
  });

  it("lets the provider read its own audits and refuses another agency", async () => {
    const auditId = String(audits.get(defective)?.auditId);
    const own = await world.client(world.provider).send<Audit>("GET", `/v1/audits/${auditId}`);
    const other = await world.client(world.consumer).send("GET", `/v1/audits/${auditId}`);
    const latest = await world
      .client(world.provider)
      .call<{ items: Audit[] }>("GET", "/v1/audits", { query: { datasetId: defective } });
    const foreignRequest = await world
      .client(world.consumer)
      .send("POST", "/v1/audits", { body: { datasetId: defective } });

    expect(own.status).toBe(200);
    expect(other.status).toBe(404);
    expect(latest.items[0]?.auditId).toBe(auditId);
    expect(foreignRequest.status).toBe(403);
  });
});

describe("the annual ranking (Art. 15)", () => {
  let ranking: Ranking;
  let indices: RankingIndices;

  beforeAll(async () => {
    const supervisor = world.client(world.supervisor);
    const started = await supervisor.send<Ranking>("POST", `/v1/rankings/${year}`, { body: {} });
    expect(started.status).toBe(202);
    ranking = await eventually(async () => {
      const current = await supervisor.call<Ranking>("GET", `/v1/rankings/${year}`);
      return current.state === "computing" ? undefined : current;
    }, 480);
    const published = await supervisor.call<{ indices: RankingIndices[] }>("GET", "/v1/rankings/indices");
    indices = published.indices.find((candidate) => candidate.version === ranking.indices) as RankingIndices;
  }, 300_000);

  it("classifies every database as its published indices say, with each criterion's evidence", () => {
    expect(ranking.state).toBe("published");
    const ours = ranking.databases.filter((database) => database.managingAgency === world.providerAgency);
    expect(ours.map((database) => database.datasetId).sort()).toEqual([clean, defective, late].sort());
    for (const database of ranking.databases) {
      const weighted =
        database.criteria.reduce((sum, entry) => sum + entry.weight * entry.score, 0) /
        database.criteria.reduce((sum, entry) => sum + entry.weight, 0);
      const lowest = Math.min(...database.criteria.map((entry) => entry.score));
      const expected = database.reasons.some((reason) => reason.startsWith("late"))
        ? "C"
        : database.score >= indices.classes.A.score && lowest >= indices.classes.A.criterion
          ? "A"
          : database.score >= indices.classes.B.score && lowest >= indices.classes.B.criterion
            ? "B"
            : "C";

      expect(database.criteria.map((entry) => entry.criterion)).toEqual(["a", "b", "c", "d", "đ", "e", "g", "h"]);
      expect(database.score).toBeCloseTo(weighted, 0);
      expect(database.class, database.datasetId).toBe(expected);
      expect(database.criteria.every((entry) => entry.evidence.length > 0)).toBe(true);
    }
  });

  it("puts the late Appendix I database in C, saying why, and scores the defects below the clean register", () => {
    const byId = new Map(ranking.databases.map((database) => [database.datasetId, database]));
    const criterion = (datasetId: string, letter: string) =>
      byId.get(datasetId)?.criteria.find((entry) => entry.criterion === letter)?.score ?? -1;

    expect(byId.get(late)?.class).toBe("C");
    expect(byId.get(late)?.reasons.join(" ")).toContain("deadline was 2025-12-31");
    expect(criterion(defective, "g")).toBeLessThan(criterion(clean, "g"));
    expect(criterion(defective, "d")).toBeLessThan(criterion(clean, "d"));
    expect(criterion(defective, "a")).toBe(pastDeadlines ? 50 : 100);
    expect(byId.get(defective)?.criteria.find((entry) => entry.criterion === "a")?.evidence[0]).toContain("connected");
  });

  it("shows an agency its own databases only", async () => {
    const own = await world.client(world.provider).call<Ranking>("GET", `/v1/rankings/${year}`);
    const refused = await world.client(world.provider).send("POST", `/v1/rankings/${year}`, { body: {} });

    expect(new Set(own.databases.map((database) => database.managingAgency))).toEqual(new Set([world.providerAgency]));
    expect(refused.status).toBe(403);
  });

  it("prints the ranking as a table, and writes it as CSV and as an SVG chart", async () => {
    const keysDir = join(folder, "keys");
    saveIdentity(keysDir, world.supervisor);
    let out = "";
    const code = await runCli(
      ["ranking", String(year), "--as", world.supervisor.systemId, "--csv", "ranking.csv", "--chart", "ranking.svg"],
      {
        stdout: (text) => {
          out += text;
        },
        stderr: () => undefined,
        env: { DSCP_API_URL: apiUrl, DSCP_AUDIENCE: audience, DSCP_KEYS_DIR: keysDir },
        cwd: folder,
      },
    );
    const csv = readFileSync(join(folder, "ranking.csv"), "utf8");
    const svg = readFileSync(join(folder, "ranking.svg"), "utf8");

    expect(code).toBe(0);
    expect(out).toContain(`${late} is C: late (Art. 24)`);
    expect(csv.split("\r\n")[0]).toBe("datasetId,managingAgency,class,score,a,b,c,d,đ,e,g,h");
    expect(csv).toMatch(new RegExp(`${late.replaceAll(".", "\\.")},${world.providerAgency},C,`));
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    expect(svg).toContain(`${late}: `);

    let audits = "";
    const listed = await runCli(["audits", "--agency", world.providerAgency, "--as", world.supervisor.systemId], {
      stdout: (text) => {
        audits += text;
      },
      stderr: () => undefined,
      env: { DSCP_API_URL: apiUrl, DSCP_AUDIENCE: audience, DSCP_KEYS_DIR: keysDir },
      cwd: folder,
    });
    const cleanRow = audits.split("\n").find((line) => line.includes(` ${clean} `)) ?? "";
    expect(listed).toBe(0);
    // The table shows each audit's figures: records, then the overall score and the others.
    expect(cleanRow.split(/\s+/).slice(2, 6)).toEqual(["completed", expect.any(String), "20", expect.any(String)]);
  });
});

describe("ranking indices issued through the platform, and agencies' self-evaluations (Art. 15.6, 15.7)", () => {
  const version = `${year}.${100 + Math.floor(Math.random() * 9000)}`;
  let stricter: RankingIndices;
  let previous: Ranking;

  beforeAll(async () => {
    const supervisor = world.client(world.supervisor);
    // Last year's ranking, under the indices of the day, before a new version is published.
    previous = await rankAndWait(year - 1, { indices: "2026.1" });
    const { published, ...base } = (
      await supervisor.call<{ indices: RankingIndices[] }>("GET", "/v1/rankings/indices")
    ).indices.find((item) => item.version === "2026.1") as RankingIndices;
    const created = await supervisor.send<RankingIndices>("POST", "/v1/rankings/indices", {
      body: {
        ...base,
        version,
        description: "Test: classes out of reach, so every database is C",
        classes: { A: { score: 100, criterion: 100 }, B: { score: 99.9, criterion: 99 } },
      },
    });
    expect(created.status).toBe(201);
    stricter = created.body;
  }, 300_000);

  async function rankAndWait(rankedYear: number, body: object): Promise<Ranking> {
    const supervisor = world.client(world.supervisor);
    const started = await supervisor.send("POST", `/v1/rankings/${rankedYear}`, { body });
    expect(started.status).toBe(202);
    return eventually(async () => {
      const current = await supervisor.call<Ranking>("GET", `/v1/rankings/${rankedYear}`);
      return current.state === "computing" ? undefined : current;
    }, 480);
  }

  it("publishes a version dated by the platform, lists it as the latest, and never replaces it", async () => {
    const supervisor = world.client(world.supervisor);
    const catalog = await supervisor.call<{ latest: string; indices: RankingIndices[] }>("GET", "/v1/rankings/indices");
    const again = await supervisor.send("POST", "/v1/rankings/indices", {
      body: { ...stricter, published: undefined },
    });

    expect(stricter.version).toBe(version);
    expect(stricter.published).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(catalog.indices.map((item) => item.version)).toContain(version);
    expect(catalog.latest).toBe(version);
    expect(again.status).toBe(409);
  });

  it("refuses indices that do not hold together, naming each field, and anyone but the supervisor", async () => {
    const { published: _published, ...body } = stricter;
    const invalid = await world
      .client(world.supervisor)
      .send<{ invalidParams: Array<{ name: string }> }>("POST", "/v1/rankings/indices", {
        body: {
          ...body,
          version: `${year}.9999`,
          weights: { ...body.weights, a: 50 },
          classes: { A: { score: 50, criterion: 10 }, B: { score: 60, criterion: 10 } },
        },
      });
    const byOperator = await world.admin.send("POST", "/v1/rankings/indices", {
      body: { ...body, version: `${year}.9998` },
    });
    const byAgency = await world.client(world.provider).send("POST", "/v1/rankings/indices", {
      body: { ...body, version: `${year}.9997` },
    });

    expect(invalid.status).toBe(400);
    expect(invalid.body.invalidParams.map((param) => param.name)).toEqual(["weights", "classes.A.score"]);
    expect(byOperator.status).toBe(403);
    expect(byAgency.status).toBe(403);
  });

  it("ranks under the new version, every class as its thresholds say, and the earlier ranking still names its own", async () => {
    const ranking = await rankAndWait(year, { indices: version });
    const earlier = await world.client(world.supervisor).call<Ranking>("GET", `/v1/rankings/${year - 1}`);

    expect(ranking).toMatchObject({ state: "published", indices: version, kind: "official" });
    expect(ranking.databases.length).toBeGreaterThan(0);
    for (const database of ranking.databases) expect(database.class, database.datasetId).toBe("C");
    expect(previous.indices).toBe("2026.1");
    expect(earlier).toMatchObject({ year: year - 1, indices: "2026.1", state: "published" });
  });

  it("lets an agency evaluate its own databases apart from the official ranking, marked as such", async () => {
    const provider = world.client(world.provider);
    const official = await world.client(world.supervisor).call<Ranking>("GET", `/v1/rankings/${year}`);
    const started = await provider.send<Ranking>("POST", `/v1/rankings/${year}/self-evaluation`, {
      body: { indices: "2026.1" },
    });
    const evaluation = await eventually(async () => {
      const current = await provider.call<Ranking>("GET", `/v1/rankings/${year}/self-evaluation`);
      return current.state === "computing" ? undefined : current;
    }, 480);
    const afterwards = await world.client(world.supervisor).call<Ranking>("GET", `/v1/rankings/${year}`);
    const bySupervisor = await world
      .client(world.supervisor)
      .send<Ranking>("GET", `/v1/rankings/${year}/self-evaluation`, { query: { agency: world.providerAgency } });
    const byOther = await world.client(world.consumer).send("GET", `/v1/rankings/${year}/self-evaluation`, {
      query: { agency: world.providerAgency },
    });

    expect(started.status).toBe(202);
    expect(evaluation).toMatchObject({
      kind: "self-evaluation",
      agency: world.providerAgency,
      indices: "2026.1",
      state: "published",
    });
    expect(new Set(evaluation.databases.map((database) => database.managingAgency))).toEqual(
      new Set([world.providerAgency]),
    );
    expect(afterwards).toEqual(official);
    expect(bySupervisor.status).toBe(200);
    expect(bySupervisor.body.agency).toBe(world.providerAgency);
    expect(byOther.status).toBe(403);
  });

  it("evaluates from the CLI too, printed as a self-evaluation", async () => {
    const keysDir = join(folder, "keys-self");
    saveIdentity(keysDir, world.provider);
    let out = "";
    const code = await runCli(["ranking", "self-evaluate", String(year), "--as", world.provider.systemId], {
      stdout: (text) => {
        out += text;
      },
      stderr: () => undefined,
      env: { DSCP_API_URL: apiUrl, DSCP_AUDIENCE: audience, DSCP_KEYS_DIR: keysDir },
      cwd: folder,
    });

    expect(code).toBe(0);
    expect(out).toContain(`Self-evaluation of ${world.providerAgency}, ${year} (indices ${version})`);
  });
});

describe("the compliance report (Art. 12.2c, 21.8, 24)", () => {
  it("names the late database with its reason, and the defective one as connected on time", async () => {
    const report = await world
      .client(world.supervisor)
      .call<ComplianceReport>("GET", "/v1/compliance", { query: { agency: world.providerAgency } });
    const agency = report.agencies[0];
    const byId = new Map(report.datasets.map((entry) => [entry.datasetId, entry]));

    expect(report.agencies).toHaveLength(1);
    expect(agency).toMatchObject({ agency: world.providerAgency, datasets: 3, standardised: 2 });
    expect(agency?.late).toContainEqual({
      datasetId: late,
      reasons: expect.arrayContaining(["not standardised; the deadline was 2025-12-31 (Art. 24)"]),
    });
    if (!pastDeadlines) expect(agency?.late.map((entry) => entry.datasetId)).toEqual([late]);
    expect(byId.get(late)).toMatchObject({ standardisation: "overdue", late: true });
    expect(byId.get(defective)).toMatchObject({
      standardisation: pastDeadlines ? "standardised-late" : "standardised",
      connection: pastDeadlines ? "connected-late" : "connected",
    });
    // Connected during this run, by the date in Vietnam.
    expect([legalDate(started), legalDate(new Date())]).toContain(byId.get(defective)?.connectedOn);
  });

  it("is read by the agency for itself, not by another agency", async () => {
    const own = await world.client(world.provider).send("GET", "/v1/compliance");
    const other = await world
      .client(world.consumer)
      .send("GET", "/v1/compliance", { query: { agency: world.providerAgency } });

    expect(own.status).toBe(200);
    expect(other.status).toBe(403);
  });
});
