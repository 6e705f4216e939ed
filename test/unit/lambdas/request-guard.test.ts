import type { APIGatewayProxyEvent } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { bodyDigest } from "../../../domain/identity/request-token.ts";
import type { ProblemError } from "../../../domain/problem.ts";
import { jsonDepthWithin, parseJsonBody } from "../../../domain/validation.ts";
import { checkRequest } from "../../../lambdas/shared/request-guard.ts";

const body = '{"name":"x"}';

function event(overrides: Partial<APIGatewayProxyEvent> = {}): APIGatewayProxyEvent {
  return {
    httpMethod: "POST",
    path: "/v1/datasets",
    headers: { "Content-Type": "application/json" },
    body,
    pathParameters: null,
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    requestContext: { authorizer: { systemId: "MPS.POPULATION", bodyDigest: bodyDigest(body) } },
    ...overrides,
  } as unknown as APIGatewayProxyEvent;
}

function problemOf(input: APIGatewayProxyEvent): ProblemError | undefined {
  try {
    checkRequest(input);
  } catch (error) {
    return error as ProblemError;
  }
  return undefined;
}

describe("checkRequest", () => {
  it("lets a signed JSON request with its signed body through", () => {
    expect(problemOf(event())).toBeUndefined();
  });

  it.each(["application/json; charset=utf-8", "application/merge-patch+json", "APPLICATION/JSON"])(
    "takes a body sent as %s",
    (type) => {
      expect(problemOf(event({ headers: { "content-type": type } }))).toBeUndefined();
    },
  );

  it.each([["text/plain"], ["application/x-www-form-urlencoded"], ["application/jsonp"], [undefined]])(
    "refuses a body sent as %s with 415 naming Content-Type",
    (type) => {
      const problem = problemOf(event({ headers: type === undefined ? {} : { "Content-Type": type } }));

      expect(problem?.status).toBe(415);
      expect(problem?.invalidParams.map((param) => param.name)).toEqual(["Content-Type"]);
    },
  );

  it("refuses a body that is not the one the token signed, on every route", () => {
    const problem = problemOf(event({ body: '{"name":"y"}' }));

    expect(problem?.slug).toBe("auth:body-digest-mismatch");
  });

  it("refuses an overlong path parameter before any store is read, naming it", () => {
    const problem = problemOf(event({ pathParameters: { datasetId: `MPS.POPULATION.${"A".repeat(3000)}` } }));

    expect(problem?.status).toBe(400);
    expect(problem?.invalidParams.map((param) => param.name)).toEqual(["datasetId"]);
  });

  it.each([
    ["a record key over 512 bytes", "ệ".repeat(200)],
    ["a record key with a control character", "a\u0000b"],
    ["a record key with a lone surrogate", "a\ud800b"],
  ])("refuses %s", (_what, key) => {
    const problem = problemOf(event({ pathParameters: { datasetId: "MPS.POPULATION.CITIZENS", key } }));

    expect(problem?.invalidParams.map((param) => param.name)).toEqual(["key"]);
  });

  it("refuses . and .. as a record key, which the call to the provider would resolve as path segments", () => {
    for (const key of [".", ".."]) {
      expect(problemOf(event({ pathParameters: { key } }))?.invalidParams).toEqual([
        { name: "key", reason: "must not be . or .." },
      ]);
    }
  });

  it("takes a record key in any script within 512 bytes", () => {
    expect(problemOf(event({ pathParameters: { key: "Nguyễn Văn A 079" } }))).toBeUndefined();
  });

  it("refuses an overlong query value and a query name that is no parameter, naming both", () => {
    const problem = problemOf(
      event({
        queryStringParameters: { cursor: "x".repeat(3000), "a name": "1" },
        multiValueQueryStringParameters: { cursor: ["x".repeat(3000)], "a name": ["1"] },
      }),
    );

    expect(problem?.invalidParams.map((param) => param.name).sort()).toEqual(["a name", "cursor"]);
  });

  it("takes a query name that objects inherit as data, like any name it does not declare", () => {
    expect(
      problemOf(
        event({
          queryStringParameters: { ["__proto__"]: "1", constructor: "2" },
          multiValueQueryStringParameters: { ["__proto__"]: ["1"], constructor: ["2"] },
        }),
      ),
    ).toBeUndefined();
  });
});

describe("parseJsonBody", () => {
  it("refuses a body nested deeper than 64 levels before parsing it", () => {
    const deep = `${"[".repeat(100_000)}${"]".repeat(100_000)}`;

    expect(() => parseJsonBody(deep)).toThrow(/deeper than 64/);
  });

  it("counts brackets inside strings as text", () => {
    expect(jsonDepthWithin(JSON.stringify({ a: "[".repeat(1000) }))).toBe(true);
    expect(jsonDepthWithin(JSON.stringify({ a: '\\"[['.repeat(100) }), 2)).toBe(true);
  });
});
