import { describe, expect, it } from "vitest";
import {
  apiGatewayTime,
  functionArnOfUri,
  gatewayResponse,
  isWellFormedPolicy,
  matchRoute,
  policyDecision,
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

describe("policyDecision", () => {
  const arn = "arn:aws:execute-api:us-east-1:000000000000:api/local/GET/v1/health";

  it("allows what an Allow statement covers, with wildcards and any case of the action", () => {
    const policy = {
      policyDocument: {
        Statement: [{ Effect: "Allow", Action: "Execute-API:Invoke", Resource: "arn:aws:execute-api:*:*:api/local/*" }],
      },
    };
    expect(policyDecision(policy, arn)).toBe("allow");
  });

  it("accepts a single statement object as well as a list", () => {
    const policy = { policyDocument: { Statement: { Effect: "Allow", Action: "*", Resource: arn } } };
    expect(policyDecision(policy, arn)).toBe("allow");
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
    expect(policyDecision(policy, arn)).toBe("explicit-deny");
  });

  it("denies implicitly when no statement allows", () => {
    expect(policyDecision({ policyDocument: { Statement: [] } }, arn)).toBe("implicit-deny");
    expect(policyDecision({}, arn)).toBe("implicit-deny");
  });

  it("tells a well-formed authoriser answer from one API Gateway refuses", () => {
    expect(isWellFormedPolicy({ principalId: "a", policyDocument: { Statement: [] }, context: { n: 1 } })).toBe(true);
    expect(isWellFormedPolicy({ policyDocument: { Statement: [] } })).toBe(false);
    expect(isWellFormedPolicy({ principalId: "a", policyDocument: {}, context: { nested: { no: 1 } } })).toBe(false);
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

  it("answer a failed Lambda integration with the fallback status when nothing overrides it", () => {
    expect(
      gatewayResponse(api(new Map()), "DEFAULT_5XX", {}, { status: 502, message: "Internal server error" }).statusCode,
    ).toBe(502);
  });

  it("render missing $context values as empty strings", () => {
    expect(renderContextTemplate("[$context.authorizer.principalId]", {})).toBe("[]");
  });
});

describe("proxy events", () => {
  it("write requestTime the way API Gateway does", () => {
    expect(apiGatewayTime(new Date("2026-11-27T08:04:05Z"))).toBe("27/Nov/2026:08:04:05 +0000");
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
