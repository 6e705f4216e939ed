import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { target } from "./target.ts";

const { apiUrl } = target();
const committed = JSON.parse(readFileSync(new URL("../../api/openapi.json", import.meta.url), "utf8")) as Record<
  string,
  unknown
>;

describe("GET /v1/openapi.json", () => {
  it("serves the committed OpenAPI 3.1 document, unsigned, with this stage as its server", async () => {
    const response = await fetch(`${apiUrl}v1/openapi.json`);
    const body = (await response.json()) as Record<string, unknown>;

    expect(response.status).toBe(200);
    expect(response.headers.get("x-transaction-id")).toBeTruthy();
    expect(body.openapi).toBe("3.1.0");
    expect(body.paths).toEqual(committed.paths);
    expect(body.components).toEqual(committed.components);
    // The server is the base URL the document was fetched from, so tools call this stage.
    expect(body.servers).toEqual([{ url: apiUrl.replace(/\/$/, ""), description: "This stage" }]);
  });
});
