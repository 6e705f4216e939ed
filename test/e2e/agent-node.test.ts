import { createHash, randomUUID } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { importJWK, SignJWT } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseLocalConfig } from "../../agent/config.ts";
import { keygen, loadKeyFile, signingIdentity } from "../../agent/keys.ts";
import { type AgentNode, type AgentNodeDeps, startAgentNode } from "../../agent/node.ts";
import type { BatchStatus } from "../../client/dscp-client.ts";
import { generateIdentity, type IdentityFile } from "../../client/identity-files.ts";
import { type Citizen, syntheticPopulation } from "../../demo/population.ts";
import { listenLocally } from "../../demo/upstream.ts";
import type { AgentConfig } from "../../domain/agent/config.ts";
import { AGENT_RELEASE } from "../../domain/agent/release.ts";
import { eventually } from "../runtime/helpers.ts";
import { startPostgres, type TestPostgres } from "../unit/agent/postgres.ts";
import { target } from "./target.ts";
import { citizensDataset, createWorld, publishCitizenSchema, runId, type World } from "./world.ts";

/*
 * Issue 16's whole scenario on the local runtime, no mocks on the path: a provider's Agent Node in
 * front of a real PostgreSQL table (PGlite) and a consumer's Agent Node, both enrolled with keys
 * they made, both configured from the platform. An internal client calls the consumer node with
 * plain HTTP and gets only the permitted fields of the row; the exchange log names the end user;
 * forged and replayed calls to the provider node are refused; pushed deliveries land once each in
 * the consumer node's store, also when the node is killed mid-push and started again; a change of
 * configuration on the platform reaches the node; the operator's node list shows both.
 */

const { apiUrl, audience } = target();
const run = runId();
const people: Citizen[] = syntheticPopulation(8, 61);
const someone = people[3] as Citizen;
const API_KEY = `case-system-${randomUUID()}`;
const PUSH_PATH = "/dscp/deliveries";
const RECEIVED = "residents_received";
const folder = mkdtempSync(join(tmpdir(), "agent-node-e2e-"));

let world: World;
let postgres: TestPostgres;
let pool: ReturnType<TestPostgres["pool"]>;
let providerNode: AgentNode;
let consumerNode: AgentNode;
let providerId: string;
let consumerId: string;
let citizens: string;
let residents: string;
/** The provider node's endpoint as registered: a recorder in front of it, to replay a call. */
let recorder: { url: string; stop: () => Promise<void>; tokens: string[] };
/** Set when the first push reaches the consumer node, which is dying: its store is gone. */
let pushArrived: () => void = () => undefined;
const firstPush = new Promise<void>((resolve) => {
  pushArrived = resolve;
});
let consumerKeyFile: string;

const nodeFile = (systemId: string, keyFile: string, ports: { provider?: number; consumer?: number } = {}) =>
  parseLocalConfig({
    platform: { apiUrl, audience, systemId, keyFile },
    consumer: {
      port: ports.consumer ?? 0,
      clients: [{ name: "case-system", apiKeySha256: createHash("sha256").update(API_KEY).digest("hex") }],
    },
    provider: { host: "127.0.0.1", port: ports.provider ?? 0 },
    ops: { port: 0 },
    backends: { registry: postgres.backend(), local: postgres.backend() },
    logLevel: "silent",
  });
const fast: AgentNodeDeps = { heartbeatMs: 300, refreshMs: 3_000, backoff: { baseMs: 100, maxMs: 500 } };

async function enrolled(systemId: string): Promise<{ keyFile: string; identity: IdentityFile }> {
  const keyFile = join(folder, `${systemId}.key.json`);
  const { publicJwk } = await keygen({ keyFile, systemId });
  return { keyFile, identity: { ...signingIdentity(loadKeyFile(keyFile)), publicJwk } };
}

async function configured(node: AgentNode, revision: number): Promise<void> {
  await eventually(async () => ((node.central.current?.revision ?? 0) >= revision ? true : undefined), 60);
}

beforeAll(async () => {
  // Both nodes' pools (provider, consumer, the consumer started again), and this test's.
  postgres = await startPostgres(10);
  pool = postgres.pool();
  await pool.query(
    "CREATE TABLE residents (personal_id text PRIMARY KEY, full_name text NOT NULL, birth_date date, province text)",
  );
  for (const person of people) {
    await pool.query("INSERT INTO residents VALUES ($1, $2, $3, $4)", [
      person.personalId,
      person.fullName,
      person.birthDate,
      person.province,
    ]);
  }

  world = await createWorld({ run });
  providerId = `${world.providerAgency}.NODE`;
  consumerId = `${world.consumerAgency}.NODE`;
  const provider = await enrolled(providerId);
  const consumer = await enrolled(consumerId);
  consumerKeyFile = consumer.keyFile;
  providerNode = await startAgentNode(nodeFile(providerId, provider.keyFile), fast);
  consumerNode = await startAgentNode(nodeFile(consumerId, consumer.keyFile), {
    ...fast,
    // The first push finds the node dying: its store is gone before anything is applied.
    openDeliveryStore: async () => {
      pushArrived();
      throw new Error("the node is being killed");
    },
  });
  const tokens: string[] = [];
  recorder = {
    tokens,
    ...(await listenLocally(
      createServer((incoming, outgoing) => {
        tokens.push(String(incoming.headers.authorization ?? ""));
        const forward = httpRequest(
          `${providerNode.providerUrl}${incoming.url}`,
          { method: incoming.method, headers: incoming.headers },
          (answer) => {
            outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(outgoing);
          },
        );
        incoming.pipe(forward);
      }),
    )),
  };

  // Enrolment: the operator registers each node's own public key, and approves its endpoint.
  for (const [agency, node, endpoint, capability] of [
    [world.providerAgency, provider, recorder.url, "provider"],
    [world.consumerAgency, consumer, consumerNode.providerUrl, "consumer"],
  ] as const) {
    await world.admin.registerSystem(agency, {
      id: node.identity.systemId,
      name: `${node.identity.systemId} Agent Node`,
      capabilities: [capability],
      endpoint,
      keys: [{ kid: node.identity.kid, jwk: node.identity.publicJwk as never }],
    });
    await world.admin.approveEndpoint(node.identity.systemId, endpoint);
  }

  citizens = `${providerId}.CITIZENS`;
  await world.client(provider.identity).publishDataset(citizensDataset(citizens, providerId));
  const schema = await publishCitizenSchema(world, run);
  residents = `${world.provider.systemId}.RESIDENTS`;
  await world.client(world.provider).publishDataset(
    citizensDataset(residents, world.provider.systemId, {
      methods: ["integrated", "sync"],
      schema: { id: schema.id, version: "1.0.0" },
    }),
  );
  for (const [datasetId, grantor, methods] of [
    [citizens, provider.identity, ["request"]],
    [residents, world.provider, ["sync"]],
  ] as const) {
    const request = await world.client(consumer.identity).requestAccess({
      datasetId,
      fields: ["personalId", "fullName", "province"],
      purpose: "Household registration",
      purposeClass: "public-service",
      methods: [...methods],
      validUntil: new Date(Date.now() + 86_400_000).toISOString(),
      legalBasis: "Decree, Art. 4.1",
    });
    await world.client(grantor).decide(request.id, { decision: "approve", reason: "Within its functions" });
  }
  await world.client(consumer.identity).subscribe({ datasetId: residents, delivery: "push", path: PUSH_PATH });

  // Central configuration: what each node serves, calls and applies; backends by name only.
  await world.admin.setAgentConfig(providerId, {
    serves: [
      {
        datasetId: citizens,
        backend: "registry",
        sql: {
          table: "residents",
          keyColumn: "personal_id",
          fields: { personalId: "personal_id", fullName: "full_name", birthDate: "birth_date", province: "province" },
          filterable: ["province"],
        },
      },
    ],
  });
  await world.admin.setAgentConfig(consumerId, {
    calls: [citizens],
    subscriptions: [
      { subscriptionId: `${residents}@${consumerId}`, datasetId: residents, store: "local", table: RECEIVED },
    ],
  });
  await configured(providerNode, 1);
  await configured(consumerNode, 1);
}, 240_000);

afterAll(async () => {
  await consumerNode?.stop();
  await providerNode?.stop();
  await recorder?.stop();
  await postgres?.stop();
});

const viaConsumerNode = (path: string, init: RequestInit = {}) =>
  fetch(`${consumerNode.consumerUrl}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${API_KEY}`, ...(init.headers as Record<string, string>) },
  });

describe("an internal client through its Agent Node, to a provider's Agent Node in front of PostgreSQL", () => {
  it("gets only the permitted fields of the row, and the exchange log names the end user and case", async () => {
    const response = await viaConsumerNode(`/v1/exchange/${citizens}/records/${someone.personalId}`, {
      headers: { "X-DSCP-User": "nguyen.van.a@hcm.gov.vn", "X-DSCP-Case": "HS-2026-0042" },
    });
    const body = (await response.json()) as { record: Record<string, unknown> };
    const transactionId = String(response.headers.get("x-transaction-id"));

    expect(response.status).toBe(200);
    expect(body.record).toEqual({
      personalId: someone.personalId,
      fullName: someone.fullName,
      province: someone.province,
    });
    const entry = await eventually(async () => {
      const { items } = await world.admin.call<{ items: Array<Record<string, unknown>> }>("GET", "/v1/logs", {
        query: { view: "all", datasetId: citizens },
      });
      return items.find((item) => item.transactionId === transactionId);
    }, 60);
    expect(entry).toMatchObject({
      consumerSystem: consumerId,
      outcome: "allowed",
      endUser: "nguyen.van.a@hcm.gov.vn",
      caseRef: "HS-2026-0042",
    });
  });

  it("queries the table through both nodes by a permitted filter", async () => {
    const response = await viaConsumerNode(`/v1/exchange/${citizens}/query`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ filters: { province: someone.province }, limit: 50 }),
    });
    const page = (await response.json()) as { items: Array<Record<string, unknown>> };

    expect(response.status).toBe(200);
    expect(page.items.map((item) => item.personalId).sort()).toEqual(
      people
        .filter((person) => person.province === someone.province)
        .map((person) => person.personalId)
        .sort(),
    );
    for (const item of page.items) expect(Object.keys(item).sort()).toEqual(["fullName", "personalId", "province"]);
  });

  it("refuses a call without a known API key", async () => {
    const response = await fetch(`${consumerNode.consumerUrl}/v1/exchange/${citizens}/records/${someone.personalId}`, {
      headers: { Authorization: "Bearer not-a-client" },
    });
    expect(response.status).toBe(401);
  });
});

describe("the provider's Agent Node", () => {
  it("refuses a replayed platform call and a forged one, and counts them", async () => {
    const path = `/citizens/records/${someone.personalId}`;
    const replayed = await fetch(`${providerNode.providerUrl}${path}`, {
      headers: { Authorization: String(recorder.tokens.at(-1)) },
    });
    const forger = await generateIdentity("FORGED.PLATFORM", "ES256");
    const forged = await new SignJWT({ htm: "GET", htu: path })
      .setProtectedHeader({ alg: "ES256", kid: forger.kid })
      .setIssuer(audience)
      .setAudience(providerId)
      .setIssuedAt()
      .setExpirationTime("1m")
      .setJti(randomUUID())
      .sign(await importJWK(forger.privateJwk, "ES256"));
    const forgedAnswer = await fetch(`${providerNode.providerUrl}${path}`, {
      headers: { Authorization: `Bearer ${forged}` },
    });
    const metrics = await (await fetch(`${providerNode.opsUrl}/metrics`)).text();

    expect(recorder.tokens.length).toBeGreaterThan(0);
    expect(replayed.status).toBe(401);
    expect(forgedAnswer.status).toBe(401);
    expect(metrics).toMatch(/refused/);
  });
});

describe("pushed deliveries into the consumer node's PostgreSQL store (Art. 7.2b)", () => {
  it("lands each version once, also when the node is killed mid-push and started again", async () => {
    const batchId = `agent-node-${randomUUID()}`;
    const submitted = await world.client(world.provider).send<BatchStatus>("POST", `/v1/sync/${residents}/batches`, {
      body: { batchId, operations: people.map((record) => ({ op: "upsert", record })) },
    });
    expect(submitted.status).toBe(202);
    // Killed mid-push, then started again on the same addresses with its file and key.
    await firstPush;
    const ports = {
      provider: Number(new URL(consumerNode.providerUrl).port),
      consumer: Number(new URL(consumerNode.consumerUrl).port),
    };
    await consumerNode.stop();
    consumerNode = await startAgentNode(nodeFile(consumerId, consumerKeyFile, ports), fast);
    await configured(consumerNode, 1);

    const batch = await eventually(async () => {
      const status = await world.client(world.provider).getBatch(batchId);
      return status.state === "completed" && status.deliveries.pending === 0 ? status : undefined;
    }, 240);
    const applied = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${RECEIVED}_applied`);
    const rows = await pool.query<{ key: string; version: string }>(`SELECT key, version FROM ${RECEIVED}`);

    expect(batch.deliveries).toMatchObject({ expected: people.length, delivered: people.length, failed: 0 });
    expect(applied.rows[0]?.n).toBe(people.length);
    expect(rows.rows.map((row) => row.key).sort()).toEqual(people.map((person) => person.personalId).sort());
    expect(new Set(rows.rows.map((row) => Number(row.version)))).toEqual(new Set([1]));
  }, 300_000);
});

describe("central configuration and the operator's view (Art. 7.3d, 22.4)", () => {
  it("reaches the node when changed on the platform", async () => {
    const before = consumerNode.central.current?.revision ?? 0;
    const narrowed: Partial<AgentConfig> = {
      calls: [],
      subscriptions: consumerNode.central.current?.config.subscriptions ?? [],
    };
    const record = await world.admin.setAgentConfig(consumerId, narrowed);
    await configured(consumerNode, record.revision);
    const refused = await viaConsumerNode(`/v1/exchange/${citizens}/records/${someone.personalId}`);

    expect(record.revision).toBeGreaterThan(before);
    expect(refused.status).toBe(403);
  });

  it("lists both nodes for the operator with their version and last heartbeat", async () => {
    const listed = await eventually(async () => {
      const { items } = await world.admin.call<{ items: Array<Record<string, unknown>> }>("GET", "/v1/agent-nodes");
      const ours = items.filter((item) => item.systemId === providerId || item.systemId === consumerId);
      return ours.length === 2 && ours.every((item) => item.lastSeenAt) ? ours : undefined;
    }, 60);

    for (const node of listed) {
      expect(node).toMatchObject({ version: AGENT_RELEASE, outOfDate: false, health: expect.any(String) });
      expect(Date.parse(String(node.lastSeenAt))).toBeGreaterThan(Date.now() - 120_000);
    }
  });
});
