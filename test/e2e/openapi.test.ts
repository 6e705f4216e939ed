import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { DscpClient } from "../../client/dscp-client.ts";
import { target } from "./target.ts";
import { runId } from "./world.ts";

const { apiUrl, audience, operator } = target();
const run = runId();
const committed = JSON.parse(readFileSync(new URL("../../api/openapi.json", import.meta.url), "utf8")) as {
  paths: object;
  components: { schemas: Record<string, unknown> };
};
const schemaId = `NDC.NOTICE${run}`;

beforeAll(async () => {
  // A dictionary schema of this run's own, published before the document is first asked for.
  const admin = new DscpClient({ baseUrl: apiUrl, audience, identity: operator });
  await admin.call("POST", "/v1/dictionary/fields", {
    body: {
      code: `notice${run}`,
      name: "Thông báo",
      nameEn: "Notice",
      description: "A notice, for the OpenAPI test",
      type: "string",
      maxLength: 500,
      owner: "NDC",
    },
  });
  await admin.call("POST", "/v1/dictionary/schemas", {
    body: {
      id: schemaId,
      version: "1.0.0",
      title: "Notice",
      fields: [{ field: `notice${run}` }],
      keyFields: [`notice${run}`],
    },
  });
});

describe("GET /v1/openapi.json", () => {
  it("serves the committed OpenAPI 3.1 document, unsigned, with this stage as its server", async () => {
    const response = await fetch(`${apiUrl}v1/openapi.json`);
    const body = (await response.json()) as typeof committed & { openapi: string; servers: unknown };

    expect(response.status).toBe(200);
    expect(response.headers.get("x-transaction-id")).toBeTruthy();
    expect(body.openapi).toBe("3.1.0");
    expect(body.paths).toEqual(committed.paths);
    expect(body.components).toMatchObject(committed.components);
    // The server is the base URL the document was fetched from, so tools call this stage.
    expect(body.servers).toEqual([{ url: apiUrl.replace(/\/$/, ""), description: "This stage" }]);
  });

  it("carries each published dictionary schema version as a component", async () => {
    // Each environment keeps the dictionary's components for 60 s: another test file may have
    // asked for the document just before this file published its schema.
    const deadline = Date.now() + 75_000;
    let body = (await (await fetch(`${apiUrl}v1/openapi.json`)).json()) as typeof committed;
    while (!body.components.schemas[`${schemaId}.1.0.0`] && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      body = (await (await fetch(`${apiUrl}v1/openapi.json`)).json()) as typeof committed;
    }

    expect(body.components.schemas[`${schemaId}.1.0.0`]).toMatchObject({
      $id: `urn:dscp:schema:${schemaId}:1.0.0`,
      type: "object",
      properties: { [`notice${run}`]: { type: "string", maxLength: 500 } },
    });
  }, 90_000);
});
