import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { routes } from "../../../api/route.ts";
import type { ProblemError } from "../../../domain/problem.ts";
import type { HttpRoute } from "../../../lambdas/shared/http.ts";
import { dispatch } from "../../../lambdas/shared/routes.ts";

const success = { status: 200, description: "Done", schema: { inline: { type: "object" } } };
const table = routes({
  listThings: { method: "GET", path: "/v1/things", tag: "T", summary: "List", auth: "signed", success, problems: [] },
  getThing: {
    method: "GET",
    path: "/v1/things/{code}",
    tag: "T",
    summary: "One",
    auth: { public: "a test" },
    success,
    problems: [],
  },
});

const answer =
  (name: string): HttpRoute =>
  async () => ({ status: 200, body: { served: name } });

function request(httpMethod: string, resource: string, path = resource): APIGatewayProxyEvent {
  return {
    httpMethod,
    resource,
    path,
    headers: {},
    body: null,
    pathParameters: resource.includes("{code}") ? { code: "GENDER" } : null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    requestContext: {},
  } as unknown as APIGatewayProxyEvent;
}

const context = { transactionId: "tx-1", lambda: {} as Context };

describe("dispatch", () => {
  it("serves each request with the handler of the operation its descriptor declares at that method and resource", async () => {
    const route = dispatch(table, { listThings: answer("listThings"), getThing: answer("getThing") });

    const listed = await route(request("GET", "/v1/things"), context);
    const one = await route(request("GET", "/v1/things/{code}", "/v1/things/GENDER"), context);

    expect(listed.body).toEqual({ served: "listThings" });
    expect(one.body).toEqual({ served: "getThing" });
  });

  it("answers 404 no-such-route for a method the table does not declare", async () => {
    const route = dispatch(table, { listThings: answer("listThings"), getThing: answer("getThing") });

    const problem = await route(request("POST", "/v1/things"), context).catch((error: ProblemError) => error);

    expect(problem).toMatchObject({ status: 404, slug: "no-such-route" });
  });

  it("does not compile, and refuses at load, when an operation of the table has no handler", () => {
    // @ts-expect-error getThing is missing from the map: a handler falling behind its descriptors fails to compile.
    expect(() => dispatch(table, { listThings: answer("listThings") })).toThrow("no handler for getThing");
  });

  it("does not compile, and refuses at load, when the map serves an operation the table lacks", () => {
    expect(() =>
      dispatch(table, {
        listThings: answer("listThings"),
        getThing: answer("getThing"),
        // @ts-expect-error deleteThing is no operation of the table: a handler serving a route nothing wires fails to compile.
        deleteThing: answer("deleteThing"),
      }),
    ).toThrow("handlers for operations the route table lacks: deleteThing");
  });
});
