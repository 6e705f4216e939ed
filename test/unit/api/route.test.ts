import { describe, expect, it } from "vitest";
import { OPERATIONS, ROUTE_TABLES } from "../../../api/operations.ts";
import { registryRoutes } from "../../../api/registry.ts";
import { fillPath, operationsOf, pathOf, routeKey, routes } from "../../../api/route.ts";

describe("pathOf", () => {
  it("fills each path parameter in, percent-encoded as one segment", () => {
    expect(pathOf(registryRoutes.revokeKey, { systemId: "MPS.POPULATION", kid: "key/1 ?#" })).toBe(
      "/v1/systems/MPS.POPULATION/keys/key%2F1%20%3F%23",
    );
  });

  it("takes no parameters for a path without any", () => {
    expect(pathOf(registryRoutes.listAgencies)).toBe("/v1/agencies");
  });

  it("does not compile without a value for every parameter of the path", () => {
    // @ts-expect-error kid is missing: the descriptor's path names it.
    expect(() => pathOf(registryRoutes.revokeKey, { systemId: "MPS.POPULATION" })).toThrow("no value for {kid}");
  });
});

describe("fillPath", () => {
  it("refuses a parameter given no value, rather than sending a path with a hole", () => {
    expect(() => fillPath("/v1/things/{code}", {})).toThrow("/v1/things/{code}: no value for {code}");
  });
});

describe("the route tables", () => {
  it("give each operation its id, in the order the table lists them", () => {
    const table = routes({
      second: {
        method: "GET",
        path: "/v1/b",
        tag: "T",
        summary: "B",
        auth: "signed",
        success: { status: 200, description: "B", schema: { inline: {} } },
        problems: [],
      },
      first: {
        method: "GET",
        path: "/v1/a",
        tag: "T",
        summary: "A",
        auth: "signed",
        success: { status: 200, description: "A", schema: { inline: {} } },
        problems: [],
      },
    });

    expect(operationsOf(table).map((operation) => operation.operationId)).toEqual(["second", "first"]);
  });

  it("name every operation id and every method and path once across the API", () => {
    const ids = OPERATIONS.map((operation) => operation.operationId);
    const keys = OPERATIONS.map(routeKey);

    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(keys).size).toBe(keys.length);
    expect(ids.length).toBe(ROUTE_TABLES.reduce((count, table) => count + Object.keys(table).length, 0));
  });

  it("flag as exchange attempts only the exchange routes, as get-record and query", () => {
    expect(
      OPERATIONS.filter((operation) => operation.exchangeAttempt).map(
        (operation) => `${routeKey(operation)} ${operation.exchangeAttempt}`,
      ),
    ).toEqual(["GET /v1/exchange/{datasetId}/records/{key} get-record", "POST /v1/exchange/{datasetId}/query query"]);
  });
});
