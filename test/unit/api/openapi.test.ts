import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { describe, expect, it } from "vitest";
import { OPENAPI_FILE, renderOpenApi } from "../../../api/generate.ts";
import { OPERATIONS } from "../../../api/operations.ts";
import { isSigned } from "../../../api/route.ts";

const committed = readFileSync(OPENAPI_FILE, "utf8");
const document = JSON.parse(committed) as {
  paths: Record<string, Record<string, { requestBody?: unknown; security: unknown[] }>>;
  components: { schemas: Record<string, object> };
};

describe("the OpenAPI document", () => {
  it("is current: api/openapi.json is what the operation table and the handlers' schemas generate", () => {
    // When this fails, run `npm run openapi` and commit the result.
    expect(committed).toBe(renderOpenApi());
  });

  it("is a valid OpenAPI 3.1 document whose every reference resolves", async () => {
    const result = await new Validator().validate(structuredClone(document));

    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    const refs = [...committed.matchAll(/"\$ref": "#\/components\/(schemas|headers)\/([^"]+)"/g)];
    expect(refs.length).toBeGreaterThan(20);
    for (const [, kind, name] of refs) {
      expect((document.components as Record<string, Record<string, unknown>>)[kind as string]).toHaveProperty([
        name as string,
      ]);
    }
  });

  it("describes each request body with the schema its handler validates with: both accept and refuse alike", () => {
    const ajv = new Ajv2020({ allErrors: true, strict: false });
    addFormats.default(ajv);
    for (const [name, schema] of Object.entries(document.components.schemas)) {
      ajv.addSchema(schema, `#/components/schemas/${name}`);
    }
    const samples: Record<string, unknown[]> = {
      NewAgency: [
        { code: "DN", name: "Thành phố Đà Nẵng", level: "provincial" },
        { code: "dn", name: "x", level: "planet" },
        { code: "DN", name: "Đà Nẵng", level: "provincial", country: "Vietnam" },
      ],
      NewSystem: [
        { id: "DN.PORTAL", name: "Cổng dịch vụ công", capabilities: ["consumer"] },
        { id: "portal", name: "P", capabilities: [] },
        { id: "DN.PORTAL", name: "Portal", capabilities: ["consumer"], endpoint: "not a url" },
      ],
      Query: [{ filters: { province: "79" }, limit: 10 }, { filters: { "1bad": 1 } }, { limit: 1000 }],
      Revocation: [{ reason: "no longer needed" }, { reason: "" }],
    };
    let compared = 0;
    for (const [name, values] of Object.entries(samples)) {
      const operation = OPERATIONS.find((candidate) => candidate.body?.name === name);
      const validate = ajv.getSchema(`#/components/schemas/${name}`);
      expect(operation, name).toBeDefined();
      expect(validate, name).toBeDefined();
      for (const value of values) {
        const byZod = operation?.body?.schema.safeParse(value).success;
        expect(validate?.(value), `${name} ${JSON.stringify(value)}`).toBe(byZod);
        compared++;
      }
    }
    expect(compared).toBe(11);
  });

  it("marks public routes as needing no token and every other one as needing the signed request token", () => {
    for (const operation of OPERATIONS) {
      const described = document.paths[operation.path]?.[operation.method.toLowerCase()];
      expect(described?.security, `${operation.method} ${operation.path}`).toEqual(
        isSigned(operation) ? [{ requestToken: [] }] : [],
      );
    }
  });
});
