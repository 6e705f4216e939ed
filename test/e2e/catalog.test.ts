import { beforeAll, describe, expect, it } from "vitest";
import type { NewDatasetInput } from "../../domain/catalog/model.ts";
import { createWorld, type World } from "./world.ts";

let world: World;
let citizens: string;

const dataset = (id: string, overrides: Partial<NewDatasetInput> = {}): Partial<NewDatasetInput> => ({
  id,
  providerSystem: world.provider.systemId,
  title: "Cơ sở dữ liệu quốc gia về dân cư (kiểm thử)",
  titleEn: "National population database (test)",
  description: "Citizens' identity and residence records.",
  scope: "Every Vietnamese citizen",
  qualityStatement: "Verified against civil status records; updated daily.",
  accessConditions: "State agencies, within their functions (Art. 4.1).",
  updateFrequency: "P1D",
  classification: "restricted",
  methods: ["request", "sync"],
  upstreamPath: "/citizens",
  keyFields: ["personalId"],
  fields: [
    { name: "personalId", type: "string", description: "12-digit personal identification number", personal: true },
    { name: "fullName", type: "string", personal: true },
    { name: "birthDate", type: "date", personal: true },
    { name: "province", type: "string", personal: false },
  ],
  ...overrides,
});

beforeAll(async () => {
  world = await createWorld();
  citizens = `${world.provider.systemId}.CITIZENS`;
  await world.client(world.provider).publishDataset(dataset(citizens));
});

describe("publishing datasets", () => {
  it("shows a published dataset in the public catalog without its upstream path", async () => {
    const published = await world.client().getCatalogDataset(citizens);

    expect(published).toMatchObject({
      id: citizens,
      managingAgency: world.providerAgency,
      providerSystem: world.provider.systemId,
      classification: "restricted",
      mandatory: "none",
      crossBorderAllowed: false,
      methods: ["request", "sync"],
      keyFields: ["personalId"],
      revision: 1,
    });
    expect(published).not.toHaveProperty("upstreamPath");
  });

  it("refuses state-secret data with its own problem type (Art. 9.3)", async () => {
    const response = await world.client(world.provider).send("POST", "/v1/datasets", {
      body: dataset(`${world.provider.systemId}.SECRETS`, { classification: "secret" }),
    });

    expect(response.status).toBe(422);
    expect(response.body).toMatchObject({ type: "urn:dscp:problem:secret-data-refused" });
  });

  it("refuses a key field that is not a declared field, and names it", async () => {
    const response = await world.client(world.provider).send("POST", "/v1/datasets", {
      body: dataset(`${world.provider.systemId}.BROKEN`, { keyFields: ["nationalId"] }),
    });

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      invalidParams: [{ name: "keyFields", reason: expect.stringContaining("nationalId") }],
    });
  });

  it("lets only the operator put a dataset on a mandatory list", async () => {
    const byProvider = await world.client(world.provider).send("POST", "/v1/datasets", {
      body: dataset(`${world.provider.systemId}.MANDATED`, { mandatory: "appendix-i" }),
    });
    const byOperator = await world.admin.publishDataset(
      dataset(`${world.provider.systemId}.MANDATED`, { mandatory: "appendix-i" }),
    );

    expect(byProvider.status).toBe(403);
    expect(byOperator.mandatory).toBe("appendix-i");
  });

  it("refuses a consumer publishing another agency's dataset", async () => {
    const response = await world
      .client(world.consumer)
      .send("POST", "/v1/datasets", { body: dataset(`${world.provider.systemId}.HIJACK`) });

    expect(response.status).toBe(403);
  });

  it("amends the description and counts revisions, but never to secret", async () => {
    const amended = await world
      .client(world.provider)
      .amendDataset(citizens, { crossBorderAllowed: true, scope: "Citizens and residents" });
    const secret = await world
      .client(world.provider)
      .send("PATCH", `/v1/datasets/${citizens}`, { body: { classification: "secret" } });
    const structural = await world
      .client(world.provider)
      .send("PATCH", `/v1/datasets/${citizens}`, { body: { keyFields: ["x"] } });

    const later = await world
      .client(world.provider)
      .amendDataset(citizens, { qualityStatement: "Re-verified monthly." });
    const mandated = await world.admin.amendDataset(`${world.provider.systemId}.MANDATED`, {
      title: "Corrected title",
    });

    expect(amended).toMatchObject({ crossBorderAllowed: true, scope: "Citizens and residents", revision: 2 });
    // A change that does not name the flags leaves them as they were.
    expect(later).toMatchObject({ crossBorderAllowed: true, mandatory: "none", revision: 3 });
    expect(mandated).toMatchObject({ mandatory: "appendix-i", title: "Corrected title" });
    expect(secret.status).toBe(422);
    expect(structural.status).toBe(400);
  });
});

describe("the public catalog listing", () => {
  it("filters by agency, classification, mandatory list, method and cross-border use", async () => {
    const anonymous = world.client();
    const mine = await anonymous.listCatalog({ agency: world.providerAgency, limit: 100 });
    const mandatory = await anonymous.listCatalog({
      agency: world.providerAgency,
      mandatory: "appendix-i",
      limit: 100,
    });
    const crossBorder = await anonymous.listCatalog({
      agency: world.providerAgency,
      crossBorderAllowed: true,
      limit: 100,
    });
    const bySync = await anonymous.listCatalog({ agency: world.providerAgency, method: "sync", limit: 100 });

    expect(mine.items.map((item) => item.id).sort()).toEqual([`${world.provider.systemId}.MANDATED`, citizens].sort());
    expect(mandatory.items.map((item) => item.id)).toEqual([`${world.provider.systemId}.MANDATED`]);
    expect(crossBorder.items.map((item) => item.id)).toEqual([citizens]);
    expect(bySync.items.length).toBe(2);
  });

  it("names an invalid filter", async () => {
    const response = await world
      .client()
      .send("GET", "/v1/catalog/datasets", { unsigned: true, query: { classification: "top" } });

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ invalidParams: [{ name: "classification" }] });
  });

  it("answers 404 for a dataset not in the catalog", async () => {
    const response = await world.client().send("GET", "/v1/catalog/datasets/NOPE.NOPE.NOPE", { unsigned: true });

    expect(response.status).toBe(404);
  });
});
