import { randomUUID } from "node:crypto";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { DynamoIntegratedStore } from "../../adapters/dynamodb/integrated-store.ts";
import type { BatchStatus } from "../../client/dscp-client.ts";
import { generateIdentity, type IdentityFile } from "../../client/identity-files.ts";
import { type DemoConsumer, startDemoConsumer } from "../../demo/consumer.ts";
import { type Citizen, syntheticPopulation } from "../../demo/population.ts";
import type { InboxMessage } from "../../domain/delivery/model.ts";
import type { Permission } from "../../domain/permissions/model.ts";
import { eventually } from "../runtime/helpers.ts";
import { target } from "./target.ts";
import { citizensDataset, createWorld, publishCitizenSchema, runId, type World } from "./world.ts";

const { apiUrl, audience } = target();
const run = runId();
const people: Citizen[] = syntheticPopulation(15, 33);
const person = (index: number) => people[index] as Citizen;
const permitted = ["personalId", "fullName", "province"];
let world: World;
let consumerNode: DemoConsumer;
/** A second system of the consumer's agency that takes its deliveries through its inbox. */
let archive: IdentityFile;
let archivePermission: Permission | undefined;
let dataset: string;

const provider = () => world.client(world.provider);
const submit = async (body: object) => {
  const batchId = `delivery-${randomUUID()}`;
  const response = await provider().send<BatchStatus>("POST", `/v1/sync/${dataset}/batches`, {
    body: { batchId, ...body },
  });
  expect(response.status).toBe(202);
  return batchId;
};
/** The batch once applied and with no delivery left pending. */
const settled = (batchId: string, until: (batch: BatchStatus) => boolean = () => true) =>
  eventually(async () => {
    const batch = await provider().getBatch(batchId);
    return batch.state === "completed" && batch.deliveries.pending === 0 && until(batch) ? batch : undefined;
  }, 240);
const grant = async (consumerSystem: string, methods: Array<"sync" | "integrated">) => {
  const request = await world.client(world.consumer).requestAccess({
    datasetId: dataset,
    consumerSystem,
    fields: permitted,
    purpose: "Keep the provincial resident register in step",
    purposeClass: "state-management",
    methods,
    validUntil: new Date(Date.now() + 86_400_000).toISOString(),
    legalBasis: "Decree, Art. 7.2b",
  });
  return (await provider().decide(request.id, { decision: "approve", reason: "Within its functions" })).permission;
};

beforeAll(async () => {
  consumerNode = await startDemoConsumer({
    jwksUrl: `${apiUrl}v1/platform/keys`,
    platformIssuer: audience,
    systemId: `C${run}.PORTAL`,
    path: "/deliveries",
  });
  world = await createWorld({ run, consumerEndpoint: consumerNode.url });
  archive = await generateIdentity(`${world.consumerAgency}.ARCHIVE`);
  await world.admin.registerSystem(world.consumerAgency, {
    id: archive.systemId,
    name: "Provincial archive",
    capabilities: ["consumer"],
    keys: [{ kid: archive.kid, jwk: archive.publicJwk as never }],
  });
  const schema = await publishCitizenSchema(world, run);
  dataset = `${world.provider.systemId}.RESIDENTS`;
  await provider().publishDataset(
    citizensDataset(dataset, world.provider.systemId, {
      methods: ["integrated", "sync"],
      schema: { id: schema.id, version: "1.0.0" },
    }),
  );
  await grant(world.consumer.systemId, ["sync"]);
  const subscription = await world.client(world.consumer).subscribe({
    datasetId: dataset,
    delivery: "push",
    path: "/deliveries",
  });
  expect(subscription).toMatchObject({ id: `${dataset}@${world.consumer.systemId}`, fields: permitted });
  archivePermission = await grant(archive.systemId, ["sync", "integrated"]);
  await world.client(archive).subscribe({ datasetId: dataset, delivery: "inbox", fields: ["personalId", "province"] });
});

afterAll(async () => {
  await consumerNode?.stop();
});

describe("subscriptions (Art. 7.2b)", () => {
  it("refuses a consumer whose permission does not allow sync, naming why", async () => {
    const other = `${world.provider.systemId}.OTHER`;
    await provider().publishDataset(citizensDataset(other, world.provider.systemId, { methods: ["sync", "request"] }));
    const request = await world.client(world.consumer).requestAccess({
      datasetId: other,
      fields: permitted,
      purpose: "Verify residence on request only",
      purposeClass: "public-service",
      methods: ["request"],
      validUntil: new Date(Date.now() + 86_400_000).toISOString(),
      legalBasis: "Decree, Art. 7.2a",
    });
    await provider().decide(request.id, { decision: "approve", reason: "On request" });

    const refused = await world
      .client(world.consumer)
      .send("POST", "/v1/subscriptions", { body: { datasetId: other, delivery: "inbox" } });
    const wider = await world
      .client(archive)
      .send("POST", "/v1/subscriptions", { body: { datasetId: dataset, delivery: "inbox", fields: ["birthDate"] } });
    const noEndpoint = await world
      .client(archive)
      .send("POST", "/v1/subscriptions", { body: { datasetId: dataset, delivery: "push" } });
    const forAnother = await world.client(world.consumer).send("POST", "/v1/subscriptions", {
      body: { datasetId: dataset, delivery: "inbox", consumerSystem: archive.systemId },
    });

    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ type: expect.stringContaining("access:method-not-permitted") });
    expect(wider.status).toBe(403);
    expect(wider.body).toMatchObject({
      type: expect.stringContaining("access:field-not-permitted"),
      invalidParams: [{ name: "birthDate" }],
    });
    expect(noEndpoint.status).toBe(422);
    expect(noEndpoint.body).toMatchObject({ type: expect.stringContaining("subscription:no-endpoint") });
    expect(forAnother.status).toBe(403);
  });

  it("lists a dataset's subscriptions to its provider, and a system's own to it", async () => {
    const byProvider = await provider().listSubscriptions({ datasetId: dataset });
    const own = await world.client(archive).listSubscriptions();

    expect(byProvider.items.map((item) => item.consumerSystem).sort()).toEqual(
      [archive.systemId, world.consumer.systemId].sort(),
    );
    expect(own.items).toEqual([
      expect.objectContaining({ datasetId: dataset, delivery: "inbox", fields: ["personalId", "province"] }),
    ]);
  });
});

describe("delivery to a consumer's endpoint that fails for a while", () => {
  it("delivers every record version exactly once, permitted fields only, signed by the platform", async () => {
    consumerNode.behave({ failNext: 2, status: 503 });
    const first = await submit({ operations: people.slice(0, 5).map((record) => ({ op: "upsert", record })) });
    const firstDone = await settled(first);
    // A full sync carrying three of the five, one changed: the other two are deleted.
    const second = await submit({
      mode: "full",
      operations: [
        { op: "upsert", record: person(0) },
        { op: "upsert", record: { ...person(1), fullName: "Lê Văn Tám" } },
        { op: "upsert", record: person(2) },
      ],
    });
    const secondDone = await settled(second);

    expect(firstDone.deliveries).toEqual({ expected: 10, delivered: 10, failed: 0, refused: 0, pending: 0 });
    expect(secondDone).toMatchObject({ tombstoned: 2, unchanged: 2 });
    expect(secondDone.deliveries).toMatchObject({ expected: 6, delivered: 6, pending: 0 });
    const failedAttempts = consumerNode.pushes.filter((push) => push.status === 503);
    expect(failedAttempts.length).toBe(2);
    expect(consumerNode.pushes.every((push) => push.verified)).toBe(true);
    // Each version applied once: 5 created, 1 updated, 2 deleted.
    expect([...consumerNode.applied.values()].every((count) => count === 1)).toBe(true);
    expect([...consumerNode.applied.keys()].sort()).toEqual(
      [
        ...people.slice(0, 5).map((citizen) => `${dataset}:${citizen.personalId}:v1`),
        `${dataset}:${person(1).personalId}:v2`,
        `${dataset}:${person(3).personalId}:v2`,
        `${dataset}:${person(4).personalId}:v2`,
      ].sort(),
    );
    expect(consumerNode.records.get(person(1).personalId)).toEqual({
      version: 2,
      record: { personalId: person(1).personalId, fullName: "Lê Văn Tám", province: person(1).province },
    });
    expect(consumerNode.records.has(person(3).personalId)).toBe(false);
    for (const push of consumerNode.pushes) {
      for (const record of push.records) {
        for (const field of Object.keys(record.record ?? {})) expect(permitted).toContain(field);
      }
    }
  });

  it("logs every attempt, failed and delivered, with the delivery and its attempt", async () => {
    const entries = await eventually(async () => {
      const page = await world.client(world.consumer).listLogEntries({ datasetId: dataset, limit: 100 });
      const deliveries = page.items.filter((entry) => entry.operation === "sync-delivery");
      return deliveries.filter((entry) => entry.consumerSystem === world.consumer.systemId).length >=
        consumerNode.pushes.length
        ? deliveries
        : undefined;
    }, 120);
    const pushed = entries.filter((entry) => entry.consumerSystem === world.consumer.systemId);

    expect(pushed.filter((entry) => entry.outcome === "failed")).toHaveLength(2);
    expect(pushed.find((entry) => entry.outcome === "failed")).toMatchObject({
      status: 503,
      method: "sync",
      attempt: expect.any(Number),
      deliveryId: expect.any(String),
      recordCount: 0,
    });
    expect(pushed.filter((entry) => entry.outcome === "allowed").length).toBeGreaterThanOrEqual(2);
    expect(pushed).toContainEqual(
      expect.objectContaining({
        outcome: "allowed",
        providerSystem: world.provider.systemId,
        fieldsReturned: permitted.slice().sort(),
        recordCount: 5,
        permissionId: expect.any(String),
      }),
    );
  });
});

describe("the inbox", () => {
  it("keeps each delivery, with the subscription's fields, until it is acknowledged", async () => {
    const all: InboxMessage[] = [];
    let cursor: string | undefined;
    do {
      const page = await world
        .client(archive)
        .readInbox({ datasetId: dataset, limit: 100, ...(cursor ? { cursor } : {}) });
      all.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    const keys = all.flatMap((message) => message.records.map((record) => record.idempotencyKey));

    expect(new Set(keys).size).toBe(8);
    expect(keys).toContain(`${dataset}:${person(1).personalId}:v2`);
    for (const message of all) {
      for (const record of message.records) {
        expect(Object.keys(record.record ?? {}).every((field) => ["personalId", "province"].includes(field))).toBe(
          true,
        );
      }
    }

    const acked = await world.client(archive).acknowledge(all.map((message) => message.receipt));
    const again = await world.client(archive).acknowledge([all[0]?.receipt ?? "none"]);
    const left = await world.client(archive).readInbox({ datasetId: dataset });

    expect(acked).toEqual({ acknowledged: all.length, unknown: [] });
    expect(again).toEqual({ acknowledged: 0, unknown: [all[0]?.receipt] });
    expect(left.items).toEqual([]);
  });

  it("refuses deliveries once the permission is revoked, and logs the refusal", async () => {
    await provider().revokePermission(String(archivePermission?.id), "The archive no longer needs the register");
    consumerNode.behave({});
    const batchId = await submit({ operations: [{ op: "upsert", record: person(6) }] });
    const done = await settled(batchId);
    const inbox = await world.client(archive).readInbox({ datasetId: dataset });
    const refusals = await eventually(async () => {
      const page = await world
        .client(world.consumer)
        .listLogEntries({ datasetId: dataset, outcome: "denied", limit: 100 });
      const found = page.items.filter((entry) => entry.operation === "sync-delivery" && entry.batchId === batchId);
      return found.length > 0 ? found : undefined;
    }, 120);

    expect(done.deliveries).toEqual({ expected: 2, delivered: 1, failed: 0, refused: 1, pending: 0 });
    expect(inbox.items).toEqual([]);
    expect(refusals[0]).toMatchObject({
      consumerSystem: archive.systemId,
      status: 403,
      problemType: expect.stringContaining("access:permission-revoked"),
    });
  });
});

describe("a consumer endpoint that keeps failing", () => {
  it("ends in the dead-letter queue after every attempt, and is delivered once redriven", async () => {
    consumerNode.behave({ down: true, status: 500 });
    const batchId = await submit({
      operations: [
        { op: "upsert", record: person(8) },
        { op: "upsert", record: person(9) },
      ],
    });
    const failed = await settled(batchId, (batch) => batch.deliveries.failed > 0);
    const listed = await provider().listBatchDeliveries(batchId, { state: "failed" });

    // The archive's permission was revoked above: its share is refused.
    expect(failed.deliveries).toEqual({ expected: 4, delivered: 0, failed: 2, refused: 2, pending: 0 });
    expect(listed.items).toEqual([
      expect.objectContaining({
        consumerSystem: world.consumer.systemId,
        state: "failed",
        attempts: 4,
        lastError: expect.stringContaining("500"),
      }),
    ]);

    consumerNode.behave({});
    const refusedRedrive = await world.client(world.consumer).send("POST", "/v1/deliveries/redrive", { body: {} });
    const redriven = await world.admin.redriveDeliveries({
      consumerSystem: world.consumer.systemId,
      datasetId: dataset,
    });
    const delivered = await settled(batchId, (batch) => batch.deliveries.failed === 0);

    expect(refusedRedrive.status).toBe(403);
    expect(redriven.redriven).toBeGreaterThanOrEqual(1);
    expect(redriven.messages).toContain(listed.items[0]?.messageId);
    expect(delivered.deliveries).toEqual({ expected: 4, delivered: 2, failed: 0, refused: 2, pending: 0 });
    expect(consumerNode.applied.get(`${dataset}:${person(8).personalId}:v1`)).toBe(1);
    expect(consumerNode.applied.get(`${dataset}:${person(9).personalId}:v1`)).toBe(1);
  });
});

describe("batches of one dataset applied at the same time", () => {
  it("lose no version: each version made is delivered once, and the batch submitted last stands", async () => {
    consumerNode.behave({});
    const keys = [person(10), person(11)];
    const names = ["Phạm Thị Hoa", "Võ Văn Nam"];
    const [first, second] = await Promise.all(
      names.map((fullName) =>
        submit({ operations: keys.map((record) => ({ op: "upsert", record: { ...record, fullName } })) }),
      ),
    );
    const done = await Promise.all([settled(String(first)), settled(String(second))]);
    // Whichever took the dataset's lease first, the one submitted later (higher sequence) stands.
    const last = Number(done[0]?.sequence) > Number(done[1]?.sequence) ? 0 : 1;

    expect(done.map((batch) => [batch.applied, batch.unchanged])).toEqual([
      [2, 0],
      [2, 0],
    ]);
    expect(done[last]?.superseded).toBe(0);
    for (const record of keys) {
      const held = consumerNode.records.get(record.personalId);
      expect(held?.record.fullName).toBe(names[last]);
      for (let version = 1; version <= Number(held?.version); version++) {
        expect(consumerNode.applied.get(`${dataset}:${record.personalId}:v${version}`)).toBe(1);
      }
    }
  });
});

describe("a batch sent again while it is applied, with a later batch on the same keys in between", () => {
  /** The integrated store itself, to hold the dataset's lease as a batch being applied does. */
  const integrated = () => {
    const endpoint = inject("dynamodbEndpoint");
    const client = new DynamoDBClient(
      endpoint
        ? { endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } }
        : {},
    );
    return new DynamoIntegratedStore(client, String(target().outputs.IntegratedTableName));
  };

  it("keeps the later batch's records, moves versions forward only, delivers each once and frees the dataset", async () => {
    consumerNode.behave({});
    const store = integrated();
    const keys = [person(12), person(13)];
    const earlier = `earlier-${randomUUID()}`;
    const later = `later-${randomUUID()}`;
    const batch = (batchId: string, fullName: string) =>
      provider().send<BatchStatus>("POST", `/v1/sync/${dataset}/batches`, {
        body: { batchId, operations: keys.map((record) => ({ op: "upsert", record: { ...record, fullName } })) },
      });
    // The later batch is being applied when the earlier one arrives: the earlier one waits for
    // the dataset's lease, still applying when its provider sends it again.
    expect(await store.lease(dataset, later, 600_000)).toBe(true);
    const first = await batch(earlier, "Đặng Thị Thu");
    const second = await batch(later, "Lý Văn Tâm");
    const resent = await batch(earlier, "Đặng Thị Thu");
    const done = await Promise.all([settled(earlier), settled(later)]);
    const next = await submit({ operations: [{ op: "upsert", record: person(14) }] });
    await settled(next);

    expect([first.status, second.status, resent.status]).toEqual([202, 202, 200]);
    expect(done.map((batch) => batch.state)).toEqual(["completed", "completed"]);
    for (const record of keys) {
      const stored = await store.get(dataset, record.personalId);
      const version = Number(stored?.version);
      expect(stored).toMatchObject({ sourceBatch: later, record: { fullName: "Lý Văn Tâm" } });
      expect(consumerNode.records.get(record.personalId)).toEqual({
        version,
        record: { personalId: record.personalId, fullName: "Lý Văn Tâm", province: record.province },
      });
      for (let each = 1; each <= version; each++) {
        expect(consumerNode.applied.get(`${dataset}:${record.personalId}:v${each}`)).toBe(1);
      }
      expect(consumerNode.applied.has(`${dataset}:${record.personalId}:v${version + 1}`)).toBe(false);
    }
    // Nothing holds the dataset once its batches are done.
    expect(await store.lease(dataset, `probe-${randomUUID()}`, 1)).toBe(true);
  }, 180_000);
});
