import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ignoringConflict } from "../../demo/dictionary.ts";
import { type Citizen, syntheticPopulation } from "../../demo/population.ts";
import type { DemoUpstream } from "../../demo/upstream.ts";
import type { NewDatasetInput } from "../../domain/catalog/model.ts";
import { legalDate } from "../../domain/dictionary/standardisation.ts";
import { target } from "./target.ts";
import { citizensDataset, createWorldWithUpstream, runId, type World } from "./world.ts";

const { apiUrl } = target();
const run = runId();
const population: Citizen[] = syntheticPopulation(12, 5);
const good = population[0] as Citizen;
/** A record the provider holds that breaks the schema on several fields. */
const broken = { ...(population[1] as Citizen), birthDate: "1990-02-30", gender: "x", nickname: "Bé" };
let upstream: DemoUpstream;
let world: World;
let schemaId: string;
let citizens: string;

const FIELDS = [
  {
    code: "personalId",
    name: "Số định danh cá nhân",
    nameEn: "Personal identification number",
    type: "string",
    pattern: "^[0-9]{12}$",
  },
  { code: "fullName", name: "Họ, chữ đệm và tên", nameEn: "Full name", type: "string", maxLength: 100 },
  { code: "birthDate", name: "Ngày, tháng, năm sinh", nameEn: "Date of birth", type: "date" },
  { code: "gender", name: "Giới tính", nameEn: "Gender", type: "code", codeList: "GENDER" },
  { code: "province", name: "Tỉnh, thành phố", nameEn: "Province", type: "string", pattern: "^[0-9]{2}$" },
  { code: "ethnicity", name: "Dân tộc", nameEn: "Ethnicity", type: "string" },
] as const;
const uses = (required: string[] = []) =>
  FIELDS.map((field) => ({ field: field.code, required: required.includes(field.code) }));

const dataset = (id: string, overrides: Partial<NewDatasetInput> = {}) =>
  citizensDataset(id, world.provider.systemId, overrides);

beforeAll(async () => {
  ({ world, upstream } = await createWorldWithUpstream(run, [good, broken]));
  schemaId = `P${run}.CITIZEN`;
  citizens = `${world.provider.systemId}.CITIZENS`;
  await ignoringConflict(
    world.admin.call("POST", "/v1/dictionary/code-lists", {
      body: {
        code: "GENDER",
        name: "Giới tính",
        nameEn: "Gender",
        description: "Gender of a person",
        owner: "NDC",
        entries: [
          { code: "male", label: "Nam", labelEn: "Male" },
          { code: "female", label: "Nữ", labelEn: "Female" },
        ],
      },
    }),
  );
  for (const field of FIELDS) {
    await ignoringConflict(
      world.admin.call("POST", "/v1/dictionary/fields", {
        body: { ...field, description: `${field.nameEn} of a citizen`, owner: "NDC" },
      }),
    );
  }
});

afterAll(async () => {
  await upstream?.stop();
});

describe("the Common Data Dictionary (Art. 19)", () => {
  it("publishes a schema version and serves it publicly as a self-contained JSON Schema", async () => {
    const published = await world.client(world.provider).send("POST", "/v1/dictionary/schemas", {
      body: {
        id: schemaId,
        version: "1.0.0",
        title: "Công dân",
        fields: uses(["fullName"]),
        keyFields: ["personalId"],
      },
    });
    const response = await fetch(`${apiUrl}v1/dictionary/schemas/${schemaId}/versions/1.0.0/json-schema`);
    const jsonSchema = (await response.json()) as Record<string, unknown> & {
      properties: Record<string, Record<string, unknown>>;
    };

    expect(published.status).toBe(201);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("application/schema+json");
    expect(jsonSchema).toMatchObject({
      $schema: "https://json-schema.org/draft/2020-12/schema",
      $id: `urn:dscp:schema:${schemaId}:1.0.0`,
      required: ["personalId", "fullName"],
      additionalProperties: false,
    });
    expect(jsonSchema.properties.gender).toMatchObject({ type: "string", "x-codeList": "GENDER" });
    expect(jsonSchema.properties.gender?.enum).toEqual(expect.arrayContaining(["male", "female"]));
    expect(jsonSchema.properties.birthDate).toMatchObject({ type: "string", format: "date" });
  });

  it("accepts a compatible new version and refuses an incompatible one, naming each breaking change", async () => {
    const provider = world.client(world.provider);
    const compatible = await provider.send("POST", "/v1/dictionary/schemas", {
      body: { id: schemaId, version: "1.1.0", title: "Công dân", fields: uses([]), keyFields: ["personalId"] },
    });
    const withoutEthnicity = uses(["birthDate"]).filter((use) => use.field !== "ethnicity");
    const breaking = await provider.send("POST", "/v1/dictionary/schemas", {
      body: { id: schemaId, version: "1.2.0", title: "Công dân", fields: withoutEthnicity, keyFields: ["personalId"] },
    });
    const major = await provider.send("POST", "/v1/dictionary/schemas", {
      body: { id: schemaId, version: "2.0.0", title: "Công dân", fields: withoutEthnicity, keyFields: ["personalId"] },
    });
    const older = await provider.send("POST", "/v1/dictionary/schemas", {
      body: { id: schemaId, version: "1.0.5", title: "Công dân", fields: uses([]), keyFields: ["personalId"] },
    });
    const latest = await provider.call<{ version: string }>(
      "GET",
      `/v1/dictionary/schemas/${schemaId}/versions/latest`,
      { unsigned: true },
    );

    expect(compatible.status).toBe(201);
    expect(breaking.status).toBe(409);
    expect(breaking.body).toMatchObject({
      type: "urn:dscp:problem:dictionary:incompatible-version",
      invalidParams: [
        { name: "fields/ethnicity", reason: "removed" },
        { name: "fields/birthDate", reason: "now required" },
      ],
    });
    expect(major.status).toBe(201);
    expect(older.status).toBe(409);
    expect(latest.version).toBe("2.0.0");
  });

  it("reports a record failing on several fields with each path and rule", async () => {
    const report = await world
      .client(world.consumer)
      .call<{ valid: number; invalid: Array<{ index: number; errors: Array<{ path: string; rule: string }> }> }>(
        "POST",
        `/v1/dictionary/schemas/${schemaId}/versions/1.0.0/validate`,
        { body: { records: [good, { ...broken, personalId: "12" }, { personalId: "001200000001" }] } },
      );

    expect(report.valid).toBe(1);
    expect(report.invalid.map((entry) => entry.index)).toEqual([1, 2]);
    expect(report.invalid[0]?.errors.map((error) => `${error.path}:${error.rule}`).sort()).toEqual([
      "birthDate:format",
      "gender:enum",
      "nickname:additionalProperties",
      "personalId:pattern",
    ]);
    expect(report.invalid[1]?.errors).toEqual([expect.objectContaining({ path: "fullName", rule: "required" })]);
  });

  it("keeps a published field's definition fixed, and lets only the operator define fields", async () => {
    const redefine = await world.admin.send("PATCH", "/v1/dictionary/fields/fullName", { body: { maxLength: 50 } });
    const reword = await world.admin.send("PATCH", "/v1/dictionary/fields/fullName", {
      body: { description: "Full name of a citizen, as on the identity card" },
    });
    const byAgency = await world.client(world.provider).send("POST", "/v1/dictionary/fields", {
      body: { code: `x${run}`, name: "X", nameEn: "X", description: "X", type: "string", owner: world.providerAgency },
    });

    expect(redefine.status).toBe(409);
    expect(redefine.body).toMatchObject({
      type: "urn:dscp:problem:dictionary:field-published",
      invalidParams: [{ name: "maxLength" }],
    });
    expect(reword.status).toBe(200);
    expect(byAgency.status).toBe(403);
  });
});

describe("validation of shared records", () => {
  beforeAll(async () => {
    await world
      .client(world.provider)
      .publishDataset(dataset(citizens, { schema: { id: schemaId, version: "1.1.0" } }));
    const request = await world.client(world.consumer).requestAccess({
      datasetId: citizens,
      fields: ["personalId", "fullName", "birthDate", "gender"],
      purpose: "Verify residence for household registration",
      purposeClass: "public-service",
      methods: ["request"],
      validUntil: new Date(Date.now() + 86_400_000).toISOString(),
      legalBasis: "Decree, Art. 4.1",
    });
    await world.client(world.provider).decide(request.id, { decision: "approve", reason: "Within its functions" });
  });

  it("refuses a dataset that does not follow the schema it names", async () => {
    const response = await world.client(world.provider).send("POST", "/v1/datasets", {
      body: dataset(`${citizens}_OTHER`, {
        schema: { id: schemaId, version: "1.1.0" },
        keyFields: ["fullName"],
        fields: [
          ...FIELDS.map((field) => ({ name: field.code, type: "string" as const, personal: false })),
          { name: "shoeSize", type: "integer", personal: false },
        ],
      }),
    });

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({
      invalidParams: [
        { name: "keyFields", reason: `${schemaId} 1.1.0 identifies records by personalId` },
        { name: "fields", reason: `shoeSize is not a field of ${schemaId} 1.1.0` },
      ],
    });
  });

  // The provider answers the fields asked for: the broken record's stray `nickname` is not among them.
  it("passes a conforming record and stops a provider's record that breaks the schema, naming each path", async () => {
    const consumer = world.client(world.consumer);
    const ok = await consumer.send("GET", `/v1/exchange/${citizens}/records/${good.personalId}`);
    const bad = await consumer.send("GET", `/v1/exchange/${citizens}/records/${broken.personalId}`);

    expect(ok.status).toBe(200);
    expect(bad.status).toBe(502);
    expect(bad.body).toMatchObject({ type: "urn:dscp:problem:upstream-invalid-data" });
    expect(
      (bad.body as { invalidParams: Array<{ name: string }> }).invalidParams.map((param) => param.name).sort(),
    ).toEqual(["birthDate", "gender"]);
  });

  it("returns the conforming records of a query and reports each withheld one", async () => {
    const page = await world
      .client(world.consumer)
      .call<{ items: Array<{ personalId: string }>; invalid: Array<{ key: string; errors: Array<{ path: string }> }> }>(
        "POST",
        `/v1/exchange/${citizens}/query`,
        { body: { filters: {} } },
      );

    expect(page.items.map((item) => item.personalId)).toEqual([good.personalId]);
    expect(page.invalid).toEqual([
      expect.objectContaining({
        key: broken.personalId,
        errors: expect.arrayContaining([expect.objectContaining({ path: "gender" })]),
      }),
    ]);
  });
});

describe("the master-data registry (Art. 5-6)", () => {
  it("registers an item with its one source, refuses a second source naming the first, and lists it publicly", async () => {
    const code = `CITIZEN_${run}`;
    const item = {
      code,
      name: "Công dân",
      nameEn: "Citizen",
      level: "national",
      keyIdentifier: { field: "personalId", name: "Số định danh cá nhân" },
      sourceDataset: citizens,
    };
    const first = await world.client(world.provider).send("POST", "/v1/master-data", { body: item });
    await world.client(world.provider).publishDataset(dataset(`${citizens}_COPY`));
    const second = await world.admin.send("POST", "/v1/master-data", {
      body: { ...item, sourceDataset: `${citizens}_COPY` },
    });
    const listed = await world
      .client()
      .call<{ items: Array<{ code: string; sourceDataset: string; managingAgency: string }> }>(
        "GET",
        "/v1/master-data",
        {
          unsigned: true,
          query: { agency: world.providerAgency },
        },
      );

    expect(first.status).toBe(201);
    expect(second.status).toBe(409);
    expect(second.body).toMatchObject({
      type: "urn:dscp:problem:master-data:source-exists",
      detail: expect.stringContaining(`already sourced from ${citizens}`),
    });
    expect(listed.items).toEqual([
      expect.objectContaining({ code, sourceDataset: citizens, managingAgency: world.providerAgency }),
    ]);
  });
});

describe("standardisation status (Art. 24)", () => {
  it("reports each dataset against its deadline and names the late ones per agency", async () => {
    const lateId = `${world.provider.systemId}.REGISTRY`;
    await world.admin.publishDataset(dataset(lateId, { mandatory: "appendix-i" }));
    const report = await world.client(world.provider).call<{
      deadlines: Record<string, string>;
      agencies: Array<{ agency: string; standardised: number; overdue: number; late: string[] }>;
      datasets: Array<{ datasetId: string; status: string; deadline: string; daysLeft?: number }>;
    }>("GET", "/v1/standardisation");
    const of = (id: string) => report.datasets.find((entry) => entry.datasetId === id);
    // Deadlines are judged by the date in Vietnam.
    const today = legalDate(new Date());

    expect(report.deadlines).toEqual({ "appendix-i": "2025-12-31", other: "2026-12-31" });
    expect(of(citizens)).toMatchObject({ status: "standardised", deadline: "2026-12-31" });
    expect(of(lateId)).toMatchObject({ status: "overdue", deadline: "2025-12-31" });
    expect(of(`${citizens}_COPY`)).toMatchObject({
      status: today > "2026-12-31" ? "overdue" : "pending",
      daysLeft: Math.round((Date.parse("2026-12-31T00:00:00Z") - Date.parse(`${today}T00:00:00Z`)) / 86_400_000),
    });
    expect(report.agencies).toEqual([
      expect.objectContaining({
        agency: world.providerAgency,
        standardised: 1,
        late: expect.arrayContaining([lateId]),
      }),
    ]);
  });

  it("shows an agency its own status only, and the supervisor every agency's", async () => {
    const foreign = await world
      .client(world.consumer)
      .send("GET", "/v1/standardisation", { query: { agency: world.providerAgency } });
    const supervised = await world
      .client(world.supervisor)
      .call<{ agencies: Array<{ agency: string }> }>("GET", "/v1/standardisation", {
        query: { agency: world.providerAgency },
      });

    expect(foreign.status).toBe(403);
    expect(supervised.agencies.map((entry) => entry.agency)).toEqual([world.providerAgency]);
  });
});
