import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Citizen, syntheticPopulation } from "../../demo/population.ts";
import { type DemoUpstream, startDemoUpstream } from "../../demo/upstream.ts";
import type { NewDatasetInput } from "../../domain/catalog/model.ts";
import type { AccessRequestInput } from "../../domain/permissions/model.ts";
import { target } from "./target.ts";
import { createWorld, runId, type World } from "./world.ts";

const { apiUrl, audience } = target();
const run = runId();
const population: Citizen[] = syntheticPopulation(40, 7);
let upstream: DemoUpstream;
let world: World;
let citizens: string;
let expired: string;
const someone = population[3] as Citizen;

const dataset = (id: string): Partial<NewDatasetInput> => ({
  id,
  providerSystem: world.provider.systemId,
  title: "Dân cư (kiểm thử)",
  description: "Synthetic citizens.",
  scope: "Citizens",
  qualityStatement: "Synthetic.",
  accessConditions: "State agencies.",
  classification: "restricted",
  methods: ["request"],
  upstreamPath: "/citizens",
  keyFields: ["personalId"],
  fields: ["personalId", "fullName", "birthDate", "gender", "province", "ethnicity"].map((name) => ({
    name,
    type: name === "birthDate" ? ("date" as const) : ("string" as const),
    personal: name !== "province",
  })),
});
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
  upstream = await startDemoUpstream({
    jwksUrl: `${apiUrl}v1/platform/keys`,
    platformIssuer: audience,
    systemId: `P${run}.POPULATION`,
    basePath: "/citizens",
    records: new Map(population.map((citizen) => [citizen.personalId, { ...citizen }])),
  });
  world = await createWorld({ run, providerEndpoint: upstream.url });
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

    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({
      type: "urn:dscp:problem:access:field-not-permitted",
      invalidParams: [{ name: "birthDate" }],
    });
  });

  it("answers 404 for a key the provider does not have", async () => {
    const response = await consumer().send("GET", `/v1/exchange/${citizens}/records/000000000000`);

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
  it("refuses a consumer without a permission", async () => {
    const response = await world
      .client(world.provider)
      .send("GET", `/v1/exchange/${citizens}/records/${someone.personalId}`);

    expect(response.status).toBe(403);
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

describe("GET /v1/platform/keys", () => {
  it("publishes the platform's ES256 public key", async () => {
    const response = await fetch(`${apiUrl}v1/platform/keys`);
    const { keys } = (await response.json()) as { keys: Array<Record<string, string>> };

    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: "EC", crv: "P-256", alg: "ES256", use: "sig", kid: expect.any(String) });
    expect(keys[0]).not.toHaveProperty("d");
  });
});
