import { randomUUID } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";
import { beforeAll, describe, expect, it } from "vitest";
import { runCli } from "../../cli/dscp.ts";
import { type Citizen, syntheticPopulation } from "../../demo/population.ts";
import type { MetricsSummary } from "../../domain/exchange-log/metrics.ts";
import type { ExportJob } from "../../domain/export/model.ts";
import { verifyPackage } from "../../domain/export/verify.ts";
import { eventually, temporaryDir } from "../runtime/helpers.ts";
import { target } from "./target.ts";
import { citizensDataset, createWorld, publishCitizenSchema, runId, type World } from "./world.ts";

const { apiUrl, audience } = target();
const run = runId();
const people: Citizen[] = syntheticPopulation(30, 77);
const permitted = ["personalId", "fullName", "province"];
const folder = temporaryDir("export-e2e");
let world: World;
let dataset: string;

type ExportStatus = ExportJob & { download?: { url: string; expiresAt: string } };
const consumer = () => world.client(world.consumer);
const written = (exportId: string, as = consumer()) =>
  eventually(async () => {
    const job = await as.call<ExportStatus>("GET", `/v1/exports/${exportId}`);
    return job.state === "running" ? undefined : job;
  }, 240);
async function download(job: ExportStatus, name: string): Promise<string> {
  const response = await fetch(String(job.download?.url));
  expect(response.status).toBe(200);
  const path = join(folder, name);
  writeFileSync(path, Buffer.from(await response.arrayBuffer()));
  return path;
}
async function* bytesOf(path: string) {
  yield readFileSync(path);
}

beforeAll(async () => {
  world = await createWorld({ run });
  const schema = await publishCitizenSchema(world, run);
  const provider = world.client(world.provider);
  dataset = `${world.provider.systemId}.ARCHIVE`;
  await provider.publishDataset(
    citizensDataset(dataset, world.provider.systemId, {
      methods: ["integrated", "export"],
      schema: { id: schema.id, version: "1.0.0" },
    }),
  );
  const batchId = `export-${randomUUID()}`;
  await provider.call("POST", `/v1/sync/${dataset}/batches`, {
    body: { batchId, operations: people.map((record) => ({ op: "upsert", record })) },
  });
  await eventually(async () => {
    const batch = await provider.getBatch(batchId);
    return batch.state === "completed" ? batch : undefined;
  }, 120);
  const request = await consumer().requestAccess({
    datasetId: dataset,
    fields: permitted,
    purpose: "Hand the register to the provincial archive on media",
    purposeClass: "state-management",
    methods: ["export"],
    validUntil: new Date(Date.now() + 86_400_000).toISOString(),
    legalBasis: "Decree, Art. 7.2d",
  });
  await provider.decide(request.id, { decision: "approve", reason: "Within the archive's functions" });
});

describe("export packages (Art. 7.2d)", () => {
  let job: ExportStatus;
  let path: string;

  it("packages a permitted consumer's fields only, in a bag that verifies with the platform's published key", async () => {
    const started = await consumer().send<ExportStatus>("POST", "/v1/exports", { body: { datasetId: dataset } });
    job = await written(started.body.exportId);
    path = await download(job, "package.tar.gz");
    const verdict = await verifyPackage(bytesOf(path), (await world.client().platformKeys()).keys);
    const lines = gunzipSync(readFileSync(path)).toString("utf8");

    expect(started.status).toBe(202);
    expect(job).toMatchObject({
      state: "completed",
      fields: permitted,
      consumer: { system: world.consumer.systemId },
      archive: { records: 30, withheld: 0, files: 1 },
    });
    expect(verdict).toMatchObject({ valid: true, problems: [], bag: job.exportId });
    expect(verdict.manifest).toMatchObject({
      dataset: { id: dataset },
      fields: permitted,
      records: { exported: 30 },
      purpose: "Hand the register to the provincial archive on media",
      permissionId: expect.any(String),
    });
    expect(lines).toContain(
      JSON.stringify({
        personalId: people[0]?.personalId,
        fullName: people[0]?.fullName,
        province: people[0]?.province,
      }),
    );
    // The data holds the permitted fields only, and so does the schema packaged with it.
    const records = lines.match(/\{"personalId"[^\n]*\}/g) ?? [];
    expect(records).toHaveLength(30);
    expect(records.every((line) => Object.keys(JSON.parse(line)).every((field) => permitted.includes(field)))).toBe(
      true,
    );
  });

  it("fails verification, naming the file, after one byte is changed", async () => {
    const tar = gunzipSync(readFileSync(path));
    const at = tar.indexOf(String(people[5]?.personalId));
    tar[at + 3] = tar[at + 3] === 0x31 ? 0x32 : 0x31;
    writeFileSync(join(folder, "changed.tar.gz"), gzipSync(tar));

    const verdict = await verifyPackage(
      bytesOf(join(folder, "changed.tar.gz")),
      (await world.client().platformKeys()).keys,
    );

    expect(verdict.valid).toBe(false);
    expect(verdict.problems).toContainEqual({
      file: "data/records-000001.ndjson",
      problem: "its SHA-256 does not match manifest-sha256.txt",
    });
  });

  it("exports CSV of fewer fields, filtered, and dscp export verify checks it against the published key", async () => {
    const province = String(people[0]?.province);
    const started = await consumer().call<ExportStatus>("POST", "/v1/exports", {
      body: { datasetId: dataset, format: "csv", fields: ["personalId", "province"], filter: { province } },
    });
    const csv = await written(started.exportId);
    const csvPath = await download(csv, "package-csv.tar.gz");
    let stdout = "";
    const code = await runCli(["export", "verify", csvPath, "--api-url", apiUrl, "--audience", audience], {
      stdout: (text: string) => {
        stdout += text;
      },
      stderr: () => undefined,
    } as never);

    expect(csv.archive?.records).toBe(people.filter((person) => person.province === province).length);
    expect(code).toBe(0);
    expect(stdout).toContain(`valid: ${csv.exportId}`);
  });

  it("refuses a consumer whose permission does not allow export, and a field it does not cover", async () => {
    const notPermitted = await world
      .client(world.supervisor)
      .send("POST", "/v1/exports", { body: { datasetId: dataset } });
    const wider = await consumer().send("POST", "/v1/exports", {
      body: { datasetId: dataset, fields: ["personalId", "birthDate"] },
    });

    expect(notPermitted.status).toBe(403);
    expect(notPermitted.body).toMatchObject({ type: expect.stringContaining("access:no-permission") });
    expect(wider.status).toBe(403);
    expect(wider.body).toMatchObject({ invalidParams: [{ name: "birthDate" }] });
  });

  it("logs every export, refused or written, with what the package holds", async () => {
    const entries = await eventually(async () => {
      const page = await world.admin.listLogEntries({ datasetId: dataset, limit: 100 });
      const found = page.items.filter((entry) => entry.operation === "export");
      return found.length >= 4 ? found : undefined;
    }, 120);

    expect(entries).toContainEqual(
      expect.objectContaining({
        transactionId: job.transactionId,
        outcome: "allowed",
        method: "export",
        consumerSystem: world.consumer.systemId,
        recordCount: 30,
        fieldsReturned: permitted,
      }),
    );
    expect(entries.filter((entry) => entry.outcome === "denied").length).toBeGreaterThanOrEqual(2);
  });

  it("shows in the consumer's metrics: its exports, written and refused, with their records (GET /v1/metrics)", async () => {
    const province = String(people[0]?.province);
    const inProvince = people.filter((person) => person.province === province).length;
    const metrics = await eventually(async () => {
      const summary = await consumer().call<MetricsSummary>("GET", "/v1/metrics", { query: { datasetId: dataset } });
      return summary.entries >= 3 ? summary : undefined;
    }, 120);

    expect(metrics.byOperation).toEqual([
      {
        operation: "export",
        total: 3,
        allowed: 2,
        denied: 1,
        failed: 0,
        records: 30 + inProvince,
        bytes: expect.any(Number),
      },
    ]);
    expect(metrics).toMatchObject({ entries: 3, outcomes: { allowed: 2, denied: 1, failed: 0 }, truncated: false });
    expect(metrics.problems).toEqual([
      { problemType: expect.stringContaining("access:field-not-permitted"), count: 1 },
    ]);
  });
});
