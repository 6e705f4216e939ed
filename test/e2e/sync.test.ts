import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { generateIdentity } from "../../client/identity-files.ts";
import { type Citizen, syntheticPopulation } from "../../demo/population.ts";
import { eventually } from "../runtime/helpers.ts";
import { citizensDataset, createWorld, publishCitizenSchema, runId, type World } from "./world.ts";

const run = runId();
const people: Citizen[] = syntheticPopulation(6, 21);
const person = (index: number) => people[index] as Citizen;
let world: World;
let dataset: string;

interface BatchStatus {
  batchId: string;
  state: string;
  received: number;
  rejected: number;
  collapsed: number;
  applied: number;
  unchanged: number;
  tombstoned: number;
  pending: number;
  submittedAt: string;
  rejections: Array<{ index: number; key?: string; errors: Array<{ path: string; rule: string }> }>;
}

const provider = () => world.client(world.provider);
const submit = (body: object) => provider().send<BatchStatus>("POST", `/v1/sync/${dataset}/batches`, { body });
/** The batch once its workers have applied every chunk. */
const completed = (batchId: string) =>
  eventually(async () => {
    const status = await provider().call<BatchStatus>("GET", `/v1/sync/batches/${batchId}`);
    return status.state === "completed" ? status : undefined;
  }, 120);
const record = (key: string) =>
  world
    .client(world.consumer)
    .send<{ record: Record<string, unknown> }>("GET", `/v1/exchange/${dataset}/records/${key}`);

beforeAll(async () => {
  world = await createWorld({ run });
  const schema = await publishCitizenSchema(world, run);
  dataset = `${world.provider.systemId}.REGISTER`;
  await provider().publishDataset(
    citizensDataset(dataset, world.provider.systemId, {
      methods: ["integrated", "sync"],
      schema: { id: schema.id, version: "1.0.0" },
    }),
  );
  const request = await world.client(world.consumer).requestAccess({
    datasetId: dataset,
    fields: ["personalId", "fullName", "province"],
    purpose: "Verify residence for household registration",
    purposeClass: "public-service",
    methods: ["integrated"],
    validUntil: new Date(Date.now() + 86_400_000).toISOString(),
    legalBasis: "Decree, Art. 4.1 and 7.2c",
  });
  await provider().decide(request.id, { decision: "approve", reason: "Within its functions" });
});

describe("sync batches into the integrated database (Art. 7.2c)", () => {
  const first = `first-${randomUUID()}`;
  const firstBody = () => ({
    batchId: first,
    operations: [
      { op: "upsert", record: person(0) },
      { op: "upsert", record: { ...person(1), birthDate: "1990-02-30", gender: "x" } },
      { op: "upsert", record: person(2) },
      { op: "upsert", record: { ...person(3), personalId: "12" } },
      { op: "upsert", record: person(4) },
      { op: "remove", key: person(5).personalId },
      { op: "upsert", record: { ...person(2), fullName: "Trần Thị Bình" } },
    ],
  });

  it("applies the valid records and reports each invalid one by index, path and rule", async () => {
    const response = await submit(firstBody());
    const status = await completed(first);

    expect(response.status).toBe(202);
    expect(status).toMatchObject({ received: 7, rejected: 3, collapsed: 1, applied: 3, pending: 0 });
    expect(status.rejections.map((rejection) => rejection.index)).toEqual([1, 3, 5]);
    expect(status.rejections[0]?.errors.map((error) => `${error.path}:${error.rule}`).sort()).toEqual([
      "birthDate:format",
      "gender:enum",
    ]);
    expect(status.rejections[1]).toMatchObject({ key: "12", errors: [{ path: "personalId", rule: "pattern" }] });
    expect(status.rejections[2]?.errors[0]).toMatchObject({ path: "op" });
  });

  it("serves the applied records to a permitted consumer, permitted fields only, the later of two upserts winning", async () => {
    const found = await record(person(2).personalId);
    const rejected = await record(person(1).personalId);
    const page = await world
      .client(world.consumer)
      .call<{ items: Array<{ personalId: string }> }>("POST", `/v1/exchange/${dataset}/query`, {
        body: { filters: { province: person(0).province } },
      });

    expect(found.status).toBe(200);
    expect(found.body.record).toEqual({
      personalId: person(2).personalId,
      fullName: "Trần Thị Bình",
      province: person(2).province,
    });
    expect(rejected.status).toBe(404);
    expect(page.items.map((item) => item.personalId)).toContain(person(0).personalId);
  });

  it("changes nothing when the same batch is sent again, and refuses other content under its id", async () => {
    const before = await completed(first);
    const again = await submit(firstBody());
    const other = await submit({ ...firstBody(), operations: [{ op: "upsert", record: person(5) }] });

    expect(again.status).toBe(200);
    expect(again.body).toMatchObject({ batchId: first, submittedAt: before.submittedAt, applied: 3 });
    expect(other.status).toBe(409);
    expect((await completed(first)).applied).toBe(3);
  });

  it("keeps an identical record's version, versions a changed one, and deletes on request", async () => {
    const batchId = `second-${randomUUID()}`;
    await submit({
      batchId,
      operations: [
        { op: "upsert", record: person(0) },
        { op: "upsert", record: { ...person(4), fullName: "Phạm Văn An" } },
        { op: "delete", key: person(2).personalId },
      ],
    });
    const status = await completed(batchId);

    expect(status).toMatchObject({ applied: 3, unchanged: 1, rejected: 0 });
    expect((await record(person(4).personalId)).body.record.fullName).toBe("Phạm Văn An");
    expect((await record(person(2).personalId)).status).toBe(404);
  });

  it("deletes, in a full sync, every record the batch does not carry", async () => {
    const batchId = `full-${randomUUID()}`;
    await submit({ batchId, mode: "full", operations: [{ op: "upsert", record: person(4) }] });
    const status = await completed(batchId);

    expect(status).toMatchObject({ applied: 1, tombstoned: 1 });
    expect((await record(person(0).personalId)).status).toBe(404);
    expect((await record(person(4).personalId)).status).toBe(200);
  });

  it("takes batches from the dataset's provider only, and shows them to its agency and the supervisor", async () => {
    const byConsumer = await world.client(world.consumer).send("POST", `/v1/sync/${dataset}/batches`, {
      body: { batchId: `x-${randomUUID()}`, operations: [{ op: "upsert", record: person(0) }] },
    });
    const owner = { query: { provider: world.provider.systemId } };
    const seenByConsumer = await world.client(world.consumer).send("GET", `/v1/sync/batches/${first}`, owner);
    const seenBySupervisor = await world.client(world.supervisor).send("GET", `/v1/sync/batches/${first}`, owner);

    expect(byConsumer.status).toBe(403);
    expect(seenByConsumer.status).toBe(404);
    expect(seenBySupervisor.status).toBe(200);
  });

  it("keeps batch ids to their provider: another provider takes the same id, and learns nothing of the first", async () => {
    const other = await generateIdentity(`${world.consumerAgency}.REGISTRY`);
    await world.admin.registerSystem(world.consumerAgency, {
      id: other.systemId,
      name: "Provincial register",
      capabilities: ["provider"],
      keys: [{ kid: other.kid, jwk: other.publicJwk as never }],
    });
    const schema = await provider().call<{ schema: { id: string } }>("GET", `/v1/catalog/datasets/${dataset}`);
    const theirs = `${other.systemId}.RESIDENTS`;
    await world.client(other).publishDataset(
      citizensDataset(theirs, other.systemId, {
        methods: ["integrated"],
        schema: { id: schema.schema.id, version: "1.0.0" },
      }),
    );
    const owner = { query: { provider: world.provider.systemId } };

    const taken = await world.client(other).send<BatchStatus>("POST", `/v1/sync/${theirs}/batches`, {
      body: { batchId: first, operations: [{ op: "upsert", record: person(0) }] },
    });
    const existing = await world.client(other).send("GET", `/v1/sync/batches/${first}`, owner);
    const missing = await world.client(other).send("GET", `/v1/sync/batches/never-${randomUUID()}`, owner);

    expect(taken.status).toBe(202);
    expect((await world.client(other).getBatch(first)).datasetId).toBe(theirs);
    expect((await provider().getBatch(first)).datasetId).toBe(dataset);
    expect([existing.status, missing.status]).toEqual([404, 404]);
    expect((existing.body as { type: string }).type).toBe((missing.body as { type: string }).type);
  });

  it("lists the first 200 rejections and keeps every one in a report file", async () => {
    const operations = Array.from({ length: 260 }, (_, index) => ({
      op: "upsert",
      record: { ...person(index % 6), personalId: `bad${index}` },
    }));
    const response = await submit({ batchId: `report-${randomUUID()}`, operations });
    const status = await provider().call<BatchStatus & { rejectionReportUrl?: string }>(
      "GET",
      `/v1/sync/batches/${response.body.batchId}`,
    );
    const report = await fetch(String(status.rejectionReportUrl));
    const lines = (await report.text())
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { index: number });

    expect(status).toMatchObject({ state: "completed", rejected: 260, applied: 0 });
    expect(status.rejections).toHaveLength(200);
    expect(report.status).toBe(200);
    expect(lines.map((line) => line.index)).toEqual(operations.map((_, index) => index));
    expect(lines[259]).toMatchObject({ errors: [expect.objectContaining({ path: "personalId" })] });
  });

  it("logs every submission in the exchange log, taken or refused", async () => {
    const entries = await eventually(async () => {
      const page = await provider().listLogEntries({ view: "provider", datasetId: dataset, limit: 100 });
      const batches = page.items.filter((entry) => entry.operation === "sync-batch");
      return batches.some((entry) => entry.outcome === "denied") && batches.length >= 6 ? batches : undefined;
    });

    expect(entries.every((entry) => entry.method === "integrated" && entry.consumerSystem === "NDC.INTEGRATED")).toBe(
      true,
    );
    expect(entries).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          submittedBy: world.provider.systemId,
          status: 202,
          recordCount: 3,
          invalidRecords: 3,
        }),
        expect.objectContaining({ submittedBy: world.provider.systemId, status: 200, outcome: "allowed" }),
        expect.objectContaining({ submittedBy: world.provider.systemId, status: 409, outcome: "denied" }),
        expect.objectContaining({ submittedBy: world.consumer.systemId, status: 403, outcome: "denied" }),
      ]),
    );
  });

  it("logs the end user and case the submitting system's token named (through the request authoriser)", async () => {
    const response = await provider().send<BatchStatus>("POST", `/v1/sync/${dataset}/batches`, {
      body: { batchId: `user-${randomUUID()}`, operations: [{ op: "upsert", record: person(2) }] },
      onBehalfOf: { endUser: "Phạm Minh Tuấn (data steward)", caseRef: "SYNC-2026-11" },
    });
    const entry = await eventually(async () => {
      const page = await provider().listLogEntries({ view: "provider", datasetId: dataset, limit: 100 });
      return page.items.find((item) => item.transactionId === response.transactionId);
    });

    expect(response.status).toBe(202);
    expect(entry).toMatchObject({
      operation: "sync-batch",
      endUser: "Phạm Minh Tuấn (data steward)",
      caseRef: "SYNC-2026-11",
    });
  });
});

describe("uploaded batches (large NDJSON files)", () => {
  const RECORDS = 3000;

  it("refuses to process an upload whose file never arrived", async () => {
    const batchId = `empty-${randomUUID()}`;
    await provider().call("POST", `/v1/sync/${dataset}/uploads`, { body: { batchId } });
    const early = await provider().send("POST", `/v1/sync/batches/${batchId}/complete`);

    expect(early.status).toBe(422);
    expect(early.body).toMatchObject({ type: "urn:dscp:problem:sync:upload-missing" });
  });

  it("streams a file through the state machine: valid lines applied, each invalid one reported by line", async () => {
    const batchId = `upload-${randomUUID()}`;
    const opened = await provider().call<{ batch: { state: string }; upload: { url: string; method: string } }>(
      "POST",
      `/v1/sync/${dataset}/uploads`,
      { body: { batchId } },
    );
    const citizens = syntheticPopulation(RECORDS, 77);
    const lines = citizens.map((citizen) => JSON.stringify({ op: "upsert", record: citizen }));
    lines.splice(10, 0, "{not json");
    lines.splice(20, 0, JSON.stringify({ op: "upsert", record: { ...citizens[0], gender: "x" } }));
    lines.splice(30, 0, JSON.stringify({ record: citizens[1] }));
    const put = await fetch(opened.upload.url, {
      method: "PUT",
      headers: { "Content-Type": "application/x-ndjson" },
      body: `${lines.join("\n")}\n`,
    });
    const started = await provider().send<BatchStatus>("POST", `/v1/sync/batches/${batchId}/complete`);
    const again = await provider().send<BatchStatus>("POST", `/v1/sync/batches/${batchId}/complete`);
    const status = await eventually(async () => {
      const current = await provider().call<BatchStatus & { failure?: string }>("GET", `/v1/sync/batches/${batchId}`);
      if (current.state === "failed") throw new Error(`the batch failed: ${current.failure}`);
      return current.state === "completed" ? current : undefined;
    }, 600);

    expect(opened.batch.state).toBe("awaiting-upload");
    expect(put.status).toBe(200);
    expect(started.status).toBe(202);
    expect(again.status).toBe(202);
    expect(status).toMatchObject({ received: RECORDS + 3, rejected: 3, applied: RECORDS, pending: 0 });
    expect(status.rejections.map((rejection) => rejection.index)).toEqual([10, 20, 30]);
    expect(status.rejections[0]?.errors[0]).toMatchObject({ rule: "json" });
    expect(status.rejections[1]?.errors[0]).toMatchObject({ path: "gender", rule: "enum" });
    const logged = await eventually(async () => {
      const page = await provider().listLogEntries({ view: "provider", datasetId: dataset, limit: 100 });
      return page.items.find((entry) => entry.transactionId === started.transactionId);
    });
    expect(logged).toMatchObject({ operation: "sync-batch", status: 202, submittedBy: world.provider.systemId });
    const last = citizens[RECORDS - 1] as Citizen;
    expect((await record(last.personalId)).body.record).toEqual({
      personalId: last.personalId,
      fullName: last.fullName,
      province: last.province,
    });
  }, 300_000);

  it("takes a large file in parts (multipart upload), assembled from the parts' ETags", async () => {
    const batchId = `parts-${randomUUID()}`;
    // S3 wants every part but the last to be at least 5 MiB: the first is 5 MiB of refused lines.
    const filler = `${JSON.stringify({ op: "noop" })}\n`.repeat(Math.ceil((5 * 1_048_576) / 14));
    const tail = [person(0), person(1)].map((record) => JSON.stringify({ op: "upsert", record })).join("\n");
    const opened = await provider().call<{ upload: { parts: Array<{ partNumber: number; url: string }> } }>(
      "POST",
      `/v1/sync/${dataset}/uploads`,
      { body: { batchId, parts: 2 } },
    );
    const etags = [];
    for (const [index, body] of [filler, tail].entries()) {
      const part = opened.upload.parts[index] as { partNumber: number; url: string };
      const put = await fetch(part.url, { method: "PUT", body });
      etags.push({ partNumber: part.partNumber, etag: String(put.headers.get("etag")) });
    }
    const withoutParts = await provider().send("POST", `/v1/sync/batches/${batchId}/complete`);
    await provider().call("POST", `/v1/sync/batches/${batchId}/complete`, { body: { parts: etags } });
    const status = await eventually(async () => {
      const current = await provider().call<BatchStatus>("GET", `/v1/sync/batches/${batchId}`);
      return current.state === "completed" ? current : undefined;
    }, 600);

    expect(opened.upload.parts.map((part) => part.partNumber)).toEqual([1, 2]);
    expect(withoutParts.body).toMatchObject({ type: "urn:dscp:problem:sync:parts-missing" });
    const report = await (await fetch(String((status as { rejectionReportUrl?: string }).rejectionReportUrl))).text();

    expect(status).toMatchObject({ applied: 2, rejected: filler.length / 14, rejections: expect.any(Array) });
    expect(status.rejections).toHaveLength(200);
    // The full report went up in parts too: one line per refused line.
    expect(report.trim().split("\n")).toHaveLength(filler.length / 14);
  }, 300_000);
});
