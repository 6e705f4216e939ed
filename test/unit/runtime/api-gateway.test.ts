import { describe, expect, it } from "vitest";
import {
  functionArnOfUri,
  gatewayResponse,
  matchRoute,
  policyAllows,
  type RestApiDefinition,
  type RestMethod,
  readProxyResult,
  renderContextTemplate,
} from "../../../runtime/api-gateway.ts";

const method = (httpMethod: string, resourcePath: string): RestMethod => ({
  httpMethod,
  resourcePath,
  resourceId: resourcePath,
  authorizationType: "NONE",
  integration: { type: "AWS_PROXY", functionArn: "fn", timeoutMs: 29_000 },
});

describe("matchRoute", () => {
  const methods = [
    method("GET", "/v1/datasets/{datasetId}"),
    method("GET", "/v1/datasets/mine"),
    method("ANY", "/v1/{proxy+}"),
    method("POST", "/v1/datasets/{datasetId}"),
  ];

  it("prefers a literal segment over a parameter", () => {
    expect(matchRoute(methods, "GET", "/v1/datasets/mine")?.method.resourcePath).toBe("/v1/datasets/mine");
  });

  it("binds path parameters, decoded", () => {
    expect(matchRoute(methods, "GET", "/v1/datasets/MPS.POPULATION%2FX")?.pathParameters).toEqual({
      datasetId: "MPS.POPULATION/X",
    });
  });

  it("falls back to a greedy proxy resource, which needs at least one segment", () => {
    expect(matchRoute(methods, "DELETE", "/v1/a/b")?.pathParameters).toEqual({ proxy: "a/b" });
    expect(matchRoute(methods, "GET", "/v1")).toBeUndefined();
  });

  it("matches nothing for an unknown path", () => {
    expect(matchRoute(methods, "GET", "/v2/anything")).toBeUndefined();
  });
});

describe("policyAllows", () => {
  const arn = "arn:aws:execute-api:us-east-1:000000000000:api/local/GET/v1/health";

  it("allows what an Allow statement covers, with wildcards", () => {
    const policy = {
      policyDocument: {
        Statement: [{ Effect: "Allow", Action: "execute-api:Invoke", Resource: "arn:aws:execute-api:*:*:api/local/*" }],
      },
    };
    expect(policyAllows(policy, arn)).toBe(true);
  });

  it("lets an explicit Deny win over an Allow", () => {
    const policy = {
      policyDocument: {
        Statement: [
          { Effect: "Allow", Action: "*", Resource: "*" },
          { Effect: "Deny", Action: "execute-api:Invoke", Resource: [arn] },
        ],
      },
    };
    expect(policyAllows(policy, arn)).toBe(false);
  });

  it("denies when no statement allows", () => {
    expect(policyAllows({ policyDocument: { Statement: [] } }, arn)).toBe(false);
    expect(policyAllows({}, arn)).toBe(false);
  });
});

describe("gateway responses", () => {
  const api = (responses: RestApiDefinition["gatewayResponses"]): RestApiDefinition => ({
    logicalId: "Api",
    id: "api",
    name: "api",
    stages: new Map(),
    methods: [],
    authorizers: new Map(),
    gatewayResponses: responses,
    binaryMediaTypes: [],
  });

  it("answer as API Gateway does by default", () => {
    const response = gatewayResponse(api(new Map()), "MISSING_AUTHENTICATION_TOKEN", { requestId: "r1" });

    expect(response.statusCode).toBe(403);
    expect(JSON.parse(response.body.toString())).toEqual({ message: "Missing Authentication Token" });
  });

  it("apply the API's override, falling back to DEFAULT_4XX, with $context values and headers", () => {
    const overrides = new Map([
      [
        "DEFAULT_4XX",
        {
          statusCode: 418,
          headers: { "Content-Type": "'application/problem+json'", "X-Transaction-Id": "context.requestId" },
          template: '{"title":"$context.error.message","id":"$context.requestId"}',
        },
      ],
    ]);

    const response = gatewayResponse(api(overrides), "UNAUTHORIZED", { requestId: "r1" });

    expect(response.statusCode).toBe(418);
    expect(response.headers).toMatchObject({ "Content-Type": "application/problem+json", "X-Transaction-Id": "r1" });
    expect(JSON.parse(response.body.toString())).toEqual({ title: "Unauthorized", id: "r1" });
  });

  it("render missing $context values as empty strings", () => {
    expect(renderContextTemplate("[$context.authorizer.principalId]", {})).toBe("[]");
  });
});

describe("proxy integration results", () => {
  it("accept status, headers, multi-value headers and base64 bodies", () => {
    const result = readProxyResult({
      statusCode: 200,
      headers: { a: "1" },
      multiValueHeaders: { b: ["2", "3"] },
      body: Buffer.from("hi").toString("base64"),
      isBase64Encoded: true,
    });

    expect(result).toMatchObject({ statusCode: 200, headers: { a: "1", b: ["2", "3"] } });
    expect(result?.body.toString()).toBe("hi");
  });

  it("reject what API Gateway would answer with 502", () => {
    expect(readProxyResult(null)).toBeUndefined();
    expect(readProxyResult({ statusCode: "OK" })).toBeUndefined();
    expect(readProxyResult({ statusCode: 200, body: { not: "a string" } })).toBeUndefined();
  });

  it("find the function ARN inside an integration URI", () => {
    const arn = "arn:aws:lambda:us-east-1:000000000000:function:fn";
    expect(functionArnOfUri(`arn:aws:apigateway:us-east-1:lambda:path/2015-03-31/functions/${arn}/invocations`)).toBe(
      arn,
    );
  });
});
