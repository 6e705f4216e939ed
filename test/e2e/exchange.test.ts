import { generateKeyPairSync, sign } from "node:crypto";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { exchangeRoutes } from "../../api/exchange.ts";
import { generateIdentity } from "../../client/identity-files.ts";
import { signRequest } from "../../client/sign.ts";
import { type Citizen, syntheticPopulation } from "../../demo/population.ts";
import type { DemoUpstream } from "../../demo/upstream.ts";
import { certifyKey, type EnvironmentJwk, jwkThumbprint } from "../../domain/identity/key-certificate.ts";
import { signPlatformToken } from "../../domain/identity/platform-token.ts";
import type { AccessRequestInput } from "../../domain/permissions/model.ts";
import { target } from "./target.ts";
import { citizensDataset, createWorldWithUpstream, runId, type World } from "./world.ts";

const { apiUrl, audience } = target();
const run = runId();
const population: Citizen[] = syntheticPopulation(40, 7);
let upstream: DemoUpstream;
let world: World;
let citizens: string;
let expired: string;
const someone = population[3] as Citizen;
const startedAt = new Date(Date.now() - 60_000).toISOString();
/** Every exchange attempt this file makes that the log must show, with the outcome it must record. */
const attempts: Array<{ transactionId: string; outcome: "allowed" | "denied" | "failed"; status: number }> = [];
const remember = (
  response: { transactionId: string | null; status: number },
  outcome: "allowed" | "denied" | "failed",
) => attempts.push({ transactionId: String(response.transactionId), outcome, status: response.status });

const dataset = (id: string) => citizensDataset(id, world.provider.systemId);
const terms = (datasetId: string, overrides: Partial<AccessRequestInput> = {}): AccessRequestInput => ({
  datasetId,
  fields: ["personalId", "fullName", "province"],
  purpose: "Verify residence for household registration",
  purposeClass: "public-service",
  methods: ["request"],
  validUntil: new Date(Date.now() + 86_400_000).toISOString(),
  legalBasis: "Decree, Art. 4.1",
  ...overrides,
});
const consumer = () => world.client(world.consumer);

async function grant(datasetId: string, overrides: Partial<AccessRequestInput> = {}) {
  const request = await consumer().requestAccess(terms(datasetId, overrides));
  const { permission } = await world
    .client(world.provider)
    .decide(request.id, { decision: "approve", reason: "Within the portal's functions" });
  return permission;
}

beforeAll(async () => {
  ({ world, upstream } = await createWorldWithUpstream(run, population));
  citizens = `${world.provider.systemId}.CITIZENS`;
  expired = `${world.provider.systemId}.ARCHIVE`;
  await world.client(world.provider).publishDataset(dataset(citizens));
  await world.client(world.provider).publishDataset(dataset(expired));
  await grant(citizens);
  await grant(expired, { validFrom: "2024-01-01T00:00:00Z", validUntil: "2025-01-01T00:00:00Z" });
});

afterAll(async () => {
  await upstream?.stop();
});

describe("GET /v1/exchange/{datasetId}/records/{key}", () => {
  it("returns only the permitted fields, fetched from the provider with the platform's verified signature", async () => {
    upstream.behave({});
    const response = await consumer().send("GET", `/v1/exchange/${citizens}/records/${someone.personalId}`);
    const call = upstream.calls.at(-1);
    remember(response, "allowed");

    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      datasetId: citizens,
      key: someone.personalId,
      record: { personalId: someone.personalId, fullName: someone.fullName, province: someone.province },
    });
    expect(call).toMatchObject({
      verified: true,
      consumer: world.consumer.systemId,
      transactionId: response.transactionId,
    });
  });

  it("narrows to the fields asked for", async () => {
    const response = await consumer().send("GET", `/v1/exchange/${citizens}/records/${someone.personalId}`, {
      query: { fields: "fullName" },
    });

    expect(response.body).toMatchObject({ record: { fullName: someone.fullName } });
    expect(Object.keys((response.body as { record: object }).record)).toEqual(["fullName"]);
  });

  it("refuses a field the permission does not cover, naming it", async () => {
    const response = await consumer().send("GET", `/v1/exchange/${citizens}/records/${someone.personalId}`, {
      query: { fields: "fullName,birthDate" },
    });
    remember(response, "denied");

    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({
      type: "urn:dscp:problem:access:field-not-permitted",
      invalidParams: [{ name: "birthDate" }],
    });
  });

  it("answers 404 for a key the provider does not have", async () => {
    const response = await consumer().send("GET", `/v1/exchange/${citizens}/records/000000000000`);
    remember(response, "allowed");

    expect(response.status).toBe(404);
  });
});

describe("POST /v1/exchange/{datasetId}/query", () => {
  it("filters on permitted fields and pages through permitted fields only", async () => {
    const province = someone.province;
    const expected = population.filter((citizen) => citizen.province === province).length;
    const seen: Array<Record<string, unknown>> = [];
    let cursor: string | undefined;
    do {
      const page = (await consumer().call("POST", `/v1/exchange/${citizens}/query`, {
        body: { filters: { province }, limit: 3, ...(cursor ? { cursor } : {}) },
      })) as { items: Array<Record<string, unknown>>; nextCursor?: string };
      seen.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);

    expect(seen).toHaveLength(expected);
    for (const item of seen) expect(Object.keys(item).sort()).toEqual(["fullName", "personalId", "province"]);
  });

  it("refuses a filter on a field the permission does not cover", async () => {
    const response = await consumer().send("POST", `/v1/exchange/${citizens}/query`, {
      body: { filters: { birthDate: someone.birthDate } },
    });

    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ type: "urn:dscp:problem:access:field-not-permitted" });
  });
});

describe("refusals at use time", () => {
  it("refuses a consumer without a permission, and a system that is not a consumer", async () => {
    const response = await world
      .client(world.supervisor)
      .send("GET", `/v1/exchange/${citizens}/records/${someone.personalId}`);
    remember(response, "denied");
    const provider = await world
      .client(world.provider)
      .send("GET", `/v1/exchange/${citizens}/records/${someone.personalId}`);

    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ type: "urn:dscp:problem:access:no-permission" });
    expect(provider.body).toMatchObject({ type: "urn:dscp:problem:access:not-a-consumer" });
  });

  it("logs an attempt refused at authentication too", async () => {
    const stale = await signRequest(
      world.consumer,
      audience,
      { method: "GET", path: `/v1/exchange/${citizens}/records/${someone.personalId}` },
      {
        now: new Date(Date.now() - 10 * 60_000),
      },
    );
    const response = await fetch(new URL(`v1/exchange/${citizens}/records/${someone.personalId}`, apiUrl), {
      headers: { Authorization: `Bearer ${stale}` },
    });
    remember({ transactionId: response.headers.get("x-transaction-id"), status: response.status }, "denied");

    expect(response.status).toBe(401);
  });

  it("logs an attempt with no Authorization header at all", async () => {
    const response = await fetch(new URL(`v1/exchange/${citizens}/records/${someone.personalId}`, apiUrl));
    remember({ transactionId: response.headers.get("x-transaction-id"), status: response.status }, "denied");

    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ type: "urn:dscp:problem:auth:unauthenticated" });
  });

  it("logs a query whose body was tampered with, and one whose body is not JSON", async () => {
    const path = `/v1/exchange/${citizens}/query`;
    const signedBody = JSON.stringify({ filters: { province: someone.province } });
    const tamperedToken = await signRequest(world.consumer, audience, { method: "POST", path, body: signedBody });
    const tampered = await fetch(new URL(path.slice(1), apiUrl), {
      method: "POST",
      headers: { Authorization: `Bearer ${tamperedToken}`, "Content-Type": "application/json" },
      body: signedBody.replace(someone.province, "00"),
    });
    const garbled = "{not json";
    const garbledToken = await signRequest(world.consumer, audience, { method: "POST", path, body: garbled });
    const malformed = await fetch(new URL(path.slice(1), apiUrl), {
      method: "POST",
      headers: { Authorization: `Bearer ${garbledToken}`, "Content-Type": "application/json" },
      body: garbled,
    });
    remember({ transactionId: tampered.headers.get("x-transaction-id"), status: tampered.status }, "denied");
    remember({ transactionId: malformed.headers.get("x-transaction-id"), status: malformed.status }, "denied");

    expect(tampered.status).toBe(401);
    expect(malformed.status).toBe(400);
  });

  it("refuses a record key longer than a store key takes as the consumer's mistake, and logs it denied", async () => {
    const response = await consumer().send("GET", `/v1/exchange/${citizens}/records/${"7".repeat(3000)}`);
    remember(response, "denied");

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      type: "urn:dscp:problem:validation-failed",
      invalidParams: [{ name: "key" }],
    });
  });

  it("refuses fields that are no field names, and logs the attempt denied", async () => {
    const response = await consumer().send("GET", `/v1/exchange/${citizens}/records/${someone.personalId}`, {
      query: { fields: "full name!" },
    });
    remember(response, "denied");

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ invalidParams: [{ name: "fields" }] });
  });

  it("refuses a token with an oversized jti as invalid, and logs the attempt", async () => {
    const path = `/v1/exchange/${citizens}/records/${someone.personalId}`;
    const token = await signRequest(world.consumer, audience, { method: "GET", path }, { jti: "j".repeat(4000) });
    const response = await fetch(new URL(path.slice(1), apiUrl), { headers: { Authorization: `Bearer ${token}` } });
    remember({ transactionId: response.headers.get("x-transaction-id"), status: response.status }, "denied");

    expect(response.status).toBe(401);
    expect(await response.json()).toMatchObject({ type: "urn:dscp:problem:auth:invalid-token" });
  });

  it("refuses an expired permission", async () => {
    const response = await consumer().send("GET", `/v1/exchange/${expired}/records/${someone.personalId}`);

    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ type: "urn:dscp:problem:access:permission-expired" });
  });

  it("refuses a foreign consumer on a domestic dataset", async () => {
    const response = await world
      .client(world.foreign)
      .send("GET", `/v1/exchange/${citizens}/records/${someone.personalId}`);

    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ type: "urn:dscp:problem:access:cross-border-not-allowed" });
  });

  it("refuses a revoked permission at once", async () => {
    const revocable = `${world.provider.systemId}.REVOCABLE`;
    await world.client(world.provider).publishDataset(dataset(revocable));
    const permission = await grant(revocable);
    const before = await consumer().send("GET", `/v1/exchange/${revocable}/records/${someone.personalId}`);
    await world.client(world.provider).revokePermission(String(permission?.id), "Purpose fulfilled");
    const after = await consumer().send("GET", `/v1/exchange/${revocable}/records/${someone.personalId}`);

    expect(before.status).toBe(200);
    expect(after.status).toBe(403);
    expect(after.body).toMatchObject({ type: "urn:dscp:problem:access:permission-revoked" });
  });
});

describe("providers that fail", () => {
  it("answers 502 when the provider fails", async () => {
    upstream.behave({ fail: true });
    const response = await consumer().send("GET", `/v1/exchange/${citizens}/records/${someone.personalId}`);
    upstream.behave({});
    remember(response, "failed");

    expect(response.status).toBe(502);
    expect(response.body).toMatchObject({
      type: "urn:dscp:problem:upstream-failed",
      transactionId: response.transactionId,
    });
  });

  it("answers 504 when the provider does not answer in time", async () => {
    upstream.behave({ delayMs: 9_000 });
    const response = await consumer().send("GET", `/v1/exchange/${citizens}/records/${someone.personalId}`);
    upstream.behave({});

    expect(response.status).toBe(504);
    expect(response.body).toMatchObject({ type: "urn:dscp:problem:upstream-timeout" });
  }, 30_000);
});

describe("a provider whose endpoint the operator has not approved", () => {
  it("is not called: the exchange answers 503 endpoint-not-approved, and logs it", async () => {
    const pending = await generateIdentity(`${world.provider.systemId}.PENDING`);
    await world.admin.registerSystem(world.providerAgency, {
      id: pending.systemId,
      name: "Population replica",
      capabilities: ["provider"],
      endpoint: upstream.url,
      keys: [{ kid: pending.kid, jwk: pending.publicJwk as never }],
    });
    const datasetId = `${pending.systemId}.CITIZENS`;
    await world.client(pending).publishDataset(citizensDataset(datasetId, pending.systemId));
    await grant(datasetId);
    const calls = upstream.calls.length;

    const response = await consumer().send("GET", `/v1/exchange/${datasetId}/records/${someone.personalId}`);
    remember(response, "failed");

    expect(response.status).toBe(503);
    expect(response.body).toMatchObject({ type: "urn:dscp:problem:endpoint-not-approved" });
    expect(upstream.calls.length).toBe(calls);
  });
});

describe("GET /v1/platform/keys", () => {
  it("publishes the platform's ES256 public key", async () => {
    const response = await fetch(`${apiUrl}v1/platform/keys`);
    const { keys } = (await response.json()) as { keys: Array<Record<string, string>> };

    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig", kid: expect.any(String) });
    expect(keys[0]).not.toHaveProperty("d");
  });
});

describe("the platform's calls to a provider", () => {
  const publishedKids = async () => {
    const { keys } = (await (await fetch(`${apiUrl}v1/platform/keys`)).json()) as { keys: Array<{ kid: string }> };
    return keys.map((key) => key.kid);
  };

  it("are signed by an environment key the published platform key certified, which the provider verifies", async () => {
    upstream.behave({});
    const before = upstream.calls.length;
    for (const citizen of population.slice(0, 3)) {
      remember(await consumer().send("GET", `/v1/exchange/${citizens}/records/${citizen.personalId}`), "allowed");
    }
    const calls = upstream.calls.slice(before);
    const published = await publishedKids();

    expect(calls).toHaveLength(3);
    for (const call of calls) {
      expect(call).toMatchObject({ verified: true, signedBy: { certified: true } });
      expect(published).not.toContain(call.signedBy?.kid);
    }
  });

  it("are refused by the provider when the key's certificate is not signed by the platform key", async () => {
    const [platformKid] = await publishedKids();
    const impostor = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey;
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const exported = publicKey.export({ format: "jwk" });
    const jwk: EnvironmentJwk = { kty: "EC", crv: "P-256", x: String(exported.x), y: String(exported.y) };
    const kid = jwkThumbprint(jwk);
    const iat = Math.floor(Date.now() / 1000);
    const certificate = await certifyKey(
      {
        keyId: String(platformKid),
        publicKey: async () => new Uint8Array(),
        sign: async (m) => sign("sha256", m, impostor),
      },
      { kid, jwk, iat, exp: iat + 600 },
    );
    const path = `/citizens/records/${someone.personalId}`;
    const token = await signPlatformToken(
      { keyUntil: async () => ({ kid, certificate, expires: iat + 600, privateKey }) },
      { issuer: audience, audience: world.provider.systemId, method: "GET", path },
    );

    const response = await fetch(`${upstream.url}${path}`, { headers: { Authorization: `Bearer ${token}` } });

    expect(response.status).toBe(401);
    expect(upstream.calls.at(-1)).toMatchObject({ verified: false, reason: expect.stringMatching(/key certificate/) });
  });
});

describe("a call on behalf of an end user, for a case (usr, case)", () => {
  const onBehalfOf = { endUser: "Nguyễn Thị Hoa (cán bộ một cửa)", caseRef: "HS-2026/000118" };

  async function loggedEntry(transactionId: string): Promise<Record<string, unknown>> {
    for (let attempt = 0; attempt < 60; attempt++) {
      const page = await consumer().listLogEntries({ from: startedAt, limit: 100 });
      const found = page.items.find((entry) => entry.transactionId === transactionId);
      if (found) return found as unknown as Record<string, unknown>;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(`${transactionId} did not reach the log`);
  }

  it("records both in the log entry and forwards both in the platform's token to the provider", async () => {
    upstream.behave({});
    const response = await consumer().sendRoute(exchangeRoutes.getRecord, {
      path: { datasetId: citizens, key: someone.personalId },
      onBehalfOf,
    });
    remember(response, "allowed");
    const call = upstream.calls.find((made) => made.transactionId === response.transactionId);

    expect(response.status).toBe(200);
    expect(call).toMatchObject({ verified: true, endUser: onBehalfOf.endUser, caseRef: onBehalfOf.caseRef });
    expect(await loggedEntry(String(response.transactionId))).toMatchObject(onBehalfOf);
  });

  it("forwards and records neither when the consumer named neither", async () => {
    const response = await consumer().sendRoute(exchangeRoutes.queryRecords, {
      path: { datasetId: citizens },
      body: { filters: { province: someone.province }, limit: 1 },
    });
    remember(response, "allowed");
    const call = upstream.calls.find((made) => made.transactionId === response.transactionId);
    const entry = await loggedEntry(String(response.transactionId));

    expect(response.status).toBe(200);
    expect(call).not.toHaveProperty("endUser");
    expect(entry).not.toHaveProperty("endUser");
    expect(entry).not.toHaveProperty("caseRef");
  });

  it("refuses a malformed end user with 401 naming usr, and logs the attempt", async () => {
    const response = await consumer().sendRoute(exchangeRoutes.getRecord, {
      path: { datasetId: citizens, key: someone.personalId },
      onBehalfOf: { endUser: "x".repeat(201) },
    });
    remember(response, "denied");

    expect(response.status).toBe(401);
    expect(response.body).toMatchObject({
      type: "urn:dscp:problem:auth:invalid-token",
      detail: expect.stringMatching(/^usr /),
    });
  });
});

describe("the exchange log (Art. 13)", () => {
  type Entry = {
    transactionId: string;
    outcome: string;
    status: number;
    consumerSystem: string;
    datasetId: string;
    fieldsReturned: string[];
  };

  async function allEntries(view: string | undefined, client = world.client(world.supervisor)): Promise<Entry[]> {
    const entries: Entry[] = [];
    let cursor: string | undefined;
    do {
      const page = (await client.call("GET", "/v1/logs", {
        query: { from: startedAt, limit: 100, ...(view ? { view } : {}), ...(cursor ? { cursor } : {}) },
      })) as { items: Entry[]; nextCursor?: string };
      entries.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    return entries;
  }

  async function eventuallyLogged(): Promise<Entry[]> {
    for (let attempt = 0; attempt < 60; attempt++) {
      const entries = await allEntries("all");
      if (attempts.every((made) => entries.some((entry) => entry.transactionId === made.transactionId))) return entries;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error("not every exchange attempt reached the log");
  }

  it("logs every attempt exactly once, allowed, denied or failed, with its outcome and status", async () => {
    const entries = await eventuallyLogged();

    expect(attempts.length).toBeGreaterThanOrEqual(5);
    for (const made of attempts) {
      const logged = entries.filter((entry) => entry.transactionId === made.transactionId);
      expect(logged, made.transactionId).toHaveLength(1);
      expect(logged[0]).toMatchObject({ outcome: made.outcome, status: made.status });
    }
    const allowed = entries.find((entry) => entry.transactionId === attempts[0]?.transactionId);
    expect(allowed).toMatchObject({ consumerSystem: world.consumer.systemId, datasetId: citizens });
    expect(allowed?.fieldsReturned.sort()).toEqual(["fullName", "personalId", "province"]);
  });

  it("shows a consumer its own calls and a provider its datasets', and only the supervisor everything", async () => {
    await eventuallyLogged();
    const asConsumer = await allEntries(undefined, world.client(world.consumer));
    const asProvider = await allEntries("provider", world.client(world.provider));
    const consumerAll = await world.client(world.consumer).send("GET", "/v1/logs", { query: { view: "all" } });

    expect(asConsumer.length).toBeGreaterThan(0);
    expect(asConsumer.every((entry) => entry.consumerSystem.startsWith(world.consumerAgency))).toBe(true);
    expect(asProvider.every((entry) => entry.datasetId.startsWith(world.provider.systemId))).toBe(true);
    expect(asProvider.some((entry) => entry.consumerSystem === world.supervisor.systemId)).toBe(true);
    expect(consumerAll.status).toBe(403);
  });

  it("verifies, and fails verification once an entry is altered in the store", async () => {
    await eventuallyLogged();
    const supervisor = world.client(world.supervisor);
    const before = (await supervisor.call("GET", "/v1/logs/verify")) as { valid: boolean; entries: number };
    const denied = await world.client(world.consumer).send("GET", "/v1/logs/verify");

    const tampering = await tamperWithOneEntry();
    try {
      const after = (await supervisor.call("GET", "/v1/logs/verify")) as {
        valid: boolean;
        shards: Array<{ shard: number; valid: boolean; reason?: string }>;
      };
      expect(after.valid).toBe(false);
      expect(after.shards.find((shard) => shard.shard === tampering.shard)).toMatchObject({
        valid: false,
        reason: expect.stringContaining("altered"),
      });
    } finally {
      await tampering.restore();
    }
    const restored = (await supervisor.call("GET", "/v1/logs/verify")) as { valid: boolean };

    expect(before).toMatchObject({ valid: true, entries: expect.any(Number) });
    expect(denied.status).toBe(403);
    expect(restored.valid).toBe(true);
  });
});

/** Changes one stored entry's status directly in DynamoDB (as an insider could), and undoes it. */
async function tamperWithOneEntry(): Promise<{ shard: number; restore: () => Promise<void> }> {
  const { DynamoDBClient, GetItemCommand, PutItemCommand } = await import("@aws-sdk/client-dynamodb");
  const endpoint = inject("dynamodbEndpoint");
  const client = new DynamoDBClient(
    endpoint ? { endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {},
  );
  const table = String(target().outputs.ExchangeLogTableName);
  const made = attempts[0] as (typeof attempts)[number];
  const { shardOf } = await import("../../domain/exchange-log/chain.ts");
  for (const shard of [shardOf(made.transactionId, 8)]) {
    for (let seq = 1; seq < 10_000; seq++) {
      const key = { pk: { S: `CHAIN#${shard}` }, sk: { S: `SEQ#${String(seq).padStart(12, "0")}` } };
      const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: key, ConsistentRead: true }));
      if (!Item) break;
      if (Item.transactionId?.S !== made.transactionId) continue;
      await client.send(new PutItemCommand({ TableName: table, Item: { ...Item, status: { N: "204" } } }));
      return { shard, restore: async () => void (await client.send(new PutItemCommand({ TableName: table, Item }))) };
    }
  }
  throw new Error("the entry to alter was not found");
}
