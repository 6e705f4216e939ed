import { randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { signRequest } from "../../client/sign.ts";
import { eventually } from "../runtime/helpers.ts";
import { target } from "./target.ts";
import { citizensDataset, createWorld, publishCitizenSchema, runId, type World } from "./world.ts";

const { apiUrl, audience } = target();
const run = runId();
let world: World;
let register: string;

const crafted = (key: unknown) => Buffer.from(JSON.stringify(key)).toString("base64url");

/** A signed request with a body sent as it is, under the media type given. */
async function rawPost(path: string, body: string, contentType: string) {
  const token = await signRequest(world.provider, audience, { method: "POST", path, body });
  const response = await fetch(new URL(path.slice(1), apiUrl), {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": contentType },
    body,
  });
  return { status: response.status, type: response.headers.get("content-type"), problem: await response.json() };
}

beforeAll(async () => {
  world = await createWorld({ run });
  const schema = await publishCitizenSchema(world, run);
  register = `${world.provider.systemId}.REGISTER`;
  await world.client(world.provider).publishDataset(
    citizensDataset(register, world.provider.systemId, {
      methods: ["integrated", "sync"],
      schema: { id: schema.id, version: "1.0.0" },
    }),
  );
});

describe("pagination cursors", () => {
  it.each([
    [
      "another listing's partition",
      crafted({ pk: { S: "x" }, sk: { S: "y" }, gsi1pk: { S: "SYSTEMS" }, gsi1sk: { S: "z" } }),
    ],
    ["keys of the wrong type", crafted({ pk: { N: "1" }, sk: { L: [] } })],
    [
      "an overlong key",
      crafted({ pk: { S: "x" }, sk: { S: "y" }, gsi1pk: { S: "DATASETS" }, gsi1sk: { S: "z".repeat(1500) } }),
    ],
    ["not JSON", "bm90IGpzb24"],
  ])("refuses a crafted cursor on the public catalog (%s) as a 400 naming cursor", async (_what, cursor) => {
    const response = await world.client().send("GET", "/v1/catalog/datasets", { query: { cursor }, unsigned: true });

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ invalidParams: [{ name: "cursor" }] });
  });

  it("refuses a crafted cursor on the public dictionary", async () => {
    const cursor = crafted({ pk: { S: "FIELD#x" }, sk: { B: "AA==" } });
    const response = await world.client().send("GET", "/v1/dictionary/fields", { query: { cursor }, unsigned: true });

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ invalidParams: [{ name: "cursor" }] });
  });
});

describe("identifiers", () => {
  it.each([
    ["/v1/catalog/datasets/{id}", `/v1/catalog/datasets/MPS.POPULATION.${"A".repeat(2100)}`, "datasetId"],
    ["/v1/dictionary/fields/{code}", `/v1/dictionary/fields/${"a".repeat(2100)}`, "code"],
    [
      "/v1/dictionary/schemas/{id}/versions/{version}",
      `/v1/dictionary/schemas/MPS.${"C".repeat(2100)}/versions/1.0.0`,
      "schemaId",
    ],
  ])("refuses an identifier longer than any key on public route %s as a 400 naming it", async (_route, path, name) => {
    const response = await world.client().send("GET", path, { unsigned: true });

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ invalidParams: [{ name }] });
  });

  it("refuses a dataset id longer than any key when publishing", async () => {
    const id = `${world.provider.systemId}.${"D".repeat(30)}${".X".repeat(1200)}`;
    const response = await world
      .client(world.provider)
      .send("POST", "/v1/datasets", { body: citizensDataset(id, world.provider.systemId) });

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ invalidParams: [{ name: "id" }] });
  });
});

describe("request bodies", () => {
  it("refuses JSON sent as text/plain with 415 and creates nothing", async () => {
    const body = JSON.stringify({ code: `T${run}`, name: "Plain", level: "central" });
    const token = await signRequest(target().operator, audience, { method: "POST", path: "/v1/agencies", body });
    const plain = await fetch(new URL("v1/agencies", apiUrl), {
      method: "POST",
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "text/plain" },
      body,
    });
    const problem = await plain.json();
    // Were the agency created, registering it now would conflict.
    const again = await world.admin.send("POST", "/v1/agencies", { body: JSON.parse(body) });

    expect(plain.status).toBe(415);
    expect(plain.headers.get("content-type")).toBe("application/problem+json");
    expect(problem).toMatchObject({
      type: "urn:dscp:problem:unsupported-media-type",
      invalidParams: [{ name: "Content-Type" }],
    });
    expect(again.status).toBe(201);
  });

  it("takes JSON with a charset", async () => {
    const sent = await rawPost(
      `/v1/sync/${register}/batches`,
      JSON.stringify({ batchId: `charset-${randomUUID()}`, operations: [{ op: "delete", key: "000000000001" }] }),
      "application/json; charset=utf-8",
    );

    expect(sent.status).toBe(202);
  });

  it("refuses a sync batch with a record nested deeper than 64 levels as a 400, before hashing it", async () => {
    const depth = 20_000;
    const record = `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
    const body = `{"batchId":"deep-${randomUUID()}","operations":[{"op":"upsert","record":${record}}]}`;

    const sent = await rawPost(`/v1/sync/${register}/batches`, body, "application/json");

    expect(sent.status).toBe(400);
    expect(sent.problem).toMatchObject({ invalidParams: [{ name: "(body)" }] });
  });

  it("rejects an uploaded line whose record has a member named __proto__, by path, rather than applying it without", async () => {
    const batchId = `proto-upload-${randomUUID()}`;
    const lines = [
      '{"op":"upsert","record":{"personalId":"079000000003","fullName":"Lê Văn A","birthDate":"1990-01-01","gender":"male","province":"79","__proto__":{"fullName":"X"}}}',
      '{"op":"delete","key":"000000000004"}',
    ];
    const provider = world.client(world.provider);
    const opened = await provider.call<{ upload: { url: string } }>("POST", `/v1/sync/${register}/uploads`, {
      body: { batchId },
    });
    const put = await fetch(opened.upload.url, { method: "PUT", body: `${lines.join("\n")}\n` });
    expect(put.status).toBe(200);
    await provider.call("POST", `/v1/sync/batches/${batchId}/complete`);
    const done = await eventually(async () => {
      const status = await provider.call<{
        state: string;
        rejections: Array<{ index: number; errors: Array<{ path: string }> }>;
      }>("GET", `/v1/sync/batches/${batchId}`);
      return status.state === "completed" ? status : undefined;
    }, 120);

    expect(done.rejections).toEqual([
      { index: 0, errors: [{ path: "record/__proto__", rule: "name", message: "is not an accepted name" }] },
    ]);
  });

  it("reads an uploaded file that opens with a byte order mark, as some editors save UTF-8, without refusing its first line", async () => {
    const batchId = `bom-upload-${randomUUID()}`;
    const provider = world.client(world.provider);
    const opened = await provider.call<{ upload: { url: string } }>("POST", `/v1/sync/${register}/uploads`, {
      body: { batchId },
    });
    const put = await fetch(opened.upload.url, { method: "PUT", body: '\uFEFF{"op":"delete","key":"000000000005"}\n' });
    expect(put.status).toBe(200);
    await provider.call("POST", `/v1/sync/batches/${batchId}/complete`);
    const done = await eventually(async () => {
      const status = await provider.call<{ state: string; received: number; rejected: number }>(
        "GET",
        `/v1/sync/batches/${batchId}`,
      );
      return status.state === "completed" ? status : undefined;
    }, 120);

    expect(done).toMatchObject({ received: 1, rejected: 0 });
  });

  it("rejects a sync record whose key is longer than a store key takes, and completes the batch", async () => {
    const batchId = `long-key-${randomUUID()}`;
    const sent = await world.client(world.provider).send<{ rejected: number }>("POST", `/v1/sync/${register}/batches`, {
      body: {
        batchId,
        operations: [
          { op: "delete", key: "9".repeat(3000) },
          { op: "delete", key: "000000000002" },
        ],
      },
    });
    const done = await eventually(async () => {
      const status = await world.client(world.provider).call<{
        state: string;
        rejected: number;
        rejections: Array<{ index: number; errors: Array<{ path: string }> }>;
      }>("GET", `/v1/sync/batches/${batchId}`);
      return status.state === "completed" ? status : undefined;
    }, 120);

    expect(sent.status).toBe(202);
    expect(done.rejections.find((rejection) => rejection.index === 0)).toMatchObject({ errors: [{ path: "key" }] });
  });
});

describe("time windows", () => {
  it.each(["/v1/logs", "/v1/metrics"])(
    "refuses a time window on %s that ends before it starts as a 400 naming both bounds",
    async (path) => {
      const response = await world.client(world.consumer).send("GET", path, {
        query: { from: "2030-01-01T00:00:00Z", to: "2026-11-30T08:00:00+07:00" },
      });

      expect(response.status).toBe(400);
      expect(response.body).toMatchObject({ invalidParams: [{ name: "from" }, { name: "to" }] });
    },
  );
});
