import { beforeAll, describe, expect, it } from "vitest";
import type { NewDatasetInput } from "../../domain/catalog/model.ts";
import type { AccessRequestInput } from "../../domain/permissions/model.ts";
import { createWorld, type World } from "./world.ts";

let world: World;
let citizens: string;
let mandated: string;
let shared: string;

const inAYear = () => new Date(Date.now() + 365 * 24 * 3600 * 1000).toISOString();
const dataset = (id: string, overrides: Partial<NewDatasetInput> = {}): Partial<NewDatasetInput> => ({
  id,
  providerSystem: world.provider.systemId,
  title: "Dân cư (kiểm thử)",
  description: "Citizens' records.",
  scope: "Citizens",
  qualityStatement: "Verified.",
  accessConditions: "State agencies.",
  classification: "restricted",
  methods: ["request", "sync"],
  upstreamPath: "/citizens",
  keyFields: ["personalId"],
  fields: [
    { name: "personalId", type: "string", personal: true },
    { name: "fullName", type: "string", personal: true },
    { name: "birthDate", type: "date", personal: true },
    { name: "province", type: "string", personal: false },
  ],
  ...overrides,
});
const ask = (datasetId: string, overrides: Partial<AccessRequestInput> = {}): AccessRequestInput => ({
  datasetId,
  fields: ["personalId", "fullName", "province"],
  purpose: "Verify residence for household registration services",
  purposeClass: "public-service",
  methods: ["request"],
  validUntil: inAYear(),
  legalBasis: "Decree, Art. 4.1; provincial public service catalogue",
  ...overrides,
});

beforeAll(async () => {
  world = await createWorld();
  citizens = `${world.provider.systemId}.CITIZENS`;
  mandated = `${world.provider.systemId}.MANDATED`;
  shared = `${world.provider.systemId}.SHARED`;
  await world.client(world.provider).publishDataset(dataset(citizens));
  await world.admin.publishDataset(dataset(mandated, { mandatory: "appendix-ii" }));
  await world.client(world.provider).publishDataset(dataset(shared, { crossBorderAllowed: true }));
});

describe("the access-request workflow", () => {
  it("turns an approved request into a permission, narrowed to the fields the provider allows", async () => {
    const request = await world.client(world.consumer).requestAccess(ask(citizens));
    const { request: decided, permission } = await world.client(world.provider).decide(request.id, {
      decision: "approve",
      reason: "Within the portal's functions",
      fields: ["personalId", "province"],
    });

    expect(request).toMatchObject({
      status: "pending",
      consumerSystem: world.consumer.systemId,
      providerAgency: world.providerAgency,
    });
    expect(decided).toMatchObject({
      status: "approved",
      reason: "Within the portal's functions",
      permissionId: permission?.id,
    });
    expect(permission).toMatchObject({
      datasetId: citizens,
      consumerSystem: world.consumer.systemId,
      fields: ["personalId", "province"],
      purposeClass: "public-service",
      commercial: false,
      grantType: "request",
      status: "active",
    });
  });

  it("records a rejection and its reason, and refuses deciding twice", async () => {
    const request = await world.client(world.consumer).requestAccess(ask(citizens, { purposeClass: "commercial" }));
    const { request: rejected } = await world
      .client(world.provider)
      .decide(request.id, { decision: "reject", reason: "No legal basis for commercial use" });
    const again = await world.client(world.provider).send("POST", `/v1/access-requests/${request.id}/decision`, {
      body: { decision: "approve", reason: "Changed my mind" },
    });

    expect(rejected).toMatchObject({ status: "rejected", reason: "No legal basis for commercial use" });
    expect(again.status).toBe(409);
  });

  it("refuses an approval that widens the fields, and a decision by the consumer itself", async () => {
    const request = await world.client(world.consumer).requestAccess(ask(citizens, { fields: ["province"] }));
    const widened = await world.client(world.provider).send("POST", `/v1/access-requests/${request.id}/decision`, {
      body: { decision: "approve", reason: "Approved with one more field", fields: ["province", "birthDate"] },
    });
    const selfApproved = await world.client(world.consumer).send("POST", `/v1/access-requests/${request.id}/decision`, {
      body: { decision: "approve", reason: "I approve myself" },
    });

    expect(widened.status).toBe(400);
    expect(widened.body).toMatchObject({ invalidParams: [{ name: "fields", reason: "birthDate was not requested" }] });
    expect(selfApproved.status).toBe(403);
  });

  it("names fields and methods the dataset does not have", async () => {
    const response = await world.client(world.consumer).send("POST", "/v1/access-requests", {
      body: ask(citizens, { fields: ["salary"], methods: ["export"] }),
    });

    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body)).toContain("salary");
    expect(JSON.stringify(response.body)).toContain("export");
  });

  it("shows the provider the requests for its datasets and the consumer its own", async () => {
    const asProvider = await world.client(world.provider).listAccessRequests({ view: "provider", limit: 100 });
    const asConsumer = await world.client(world.consumer).listAccessRequests({ limit: 100 });

    expect(asProvider.items.length).toBeGreaterThanOrEqual(3);
    expect(asProvider.items.every((item) => item.providerAgency === world.providerAgency)).toBe(true);
    expect(asConsumer.items.every((item) => item.consumerAgency === world.consumerAgency)).toBe(true);
  });
});

describe("mandatory grants (Art. 3.5)", () => {
  it("lets the operator grant a mandatory dataset without a request", async () => {
    const permission = await world.admin.grantMandatory({ ...ask(mandated), consumerSystem: world.consumer.systemId });

    expect(permission).toMatchObject({ grantType: "mandatory", datasetId: mandated, status: "active" });
  });

  it("refuses a direct grant of a dataset on no mandatory list, and a grant by anyone but the operator", async () => {
    const notMandatory = await world.admin.send("POST", "/v1/permissions", {
      body: { ...ask(citizens), consumerSystem: world.consumer.systemId },
    });
    const byProvider = await world.client(world.provider).send("POST", "/v1/permissions", {
      body: { ...ask(mandated), consumerSystem: world.consumer.systemId },
    });

    expect(notMandatory.status).toBe(403);
    expect(byProvider.status).toBe(403);
  });
});

describe("cross-border access (Art. 11)", () => {
  it("refuses a foreign consumer on a domestic dataset with its own problem type", async () => {
    const response = await world.client(world.foreign).send("POST", "/v1/access-requests", { body: ask(citizens) });

    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ type: "urn:dscp:problem:access:cross-border-not-allowed" });
  });

  it("marks a foreign consumer's permission on a cross-border dataset as cross-border", async () => {
    const request = await world.client(world.foreign).requestAccess(ask(shared));
    const { permission } = await world
      .client(world.provider)
      .decide(request.id, { decision: "approve", reason: "Agreement with partner" });

    expect(permission).toMatchObject({ crossBorder: true, consumerSystem: world.foreign.systemId });
  });
});

describe("revocation", () => {
  it("revokes a permission with a reason, visible in the listings", async () => {
    const request = await world.client(world.consumer).requestAccess(ask(citizens));
    const { permission } = await world
      .client(world.provider)
      .decide(request.id, { decision: "approve", reason: "Approved for the portal" });
    const revoked = await world.client(world.provider).revokePermission(String(permission?.id), "Purpose fulfilled");
    const listed = await world
      .client(world.consumer)
      .listPermissions({ datasetId: citizens, status: "revoked", limit: 100 });

    expect(revoked).toMatchObject({
      status: "revoked",
      revokeReason: "Purpose fulfilled",
      revokedBy: world.provider.systemId,
    });
    expect(listed.items.map((item) => item.id)).toContain(permission?.id);
  });

  it("refuses a revocation by the consumer", async () => {
    const { items } = await world.client(world.consumer).listPermissions({ status: "active", limit: 100 });
    const response = await world
      .client(world.consumer)
      .send("DELETE", `/v1/permissions/${items[0]?.id}`, { body: { reason: "mine" } });

    expect(response.status).toBe(403);
  });
});
