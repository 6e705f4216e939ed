import { request } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RestApiDefinition } from "../../../runtime/api-gateway.ts";
import { type GatewayServer, startGatewayServer } from "../../../runtime/gateway-server.ts";
import type { LambdaHost } from "../../../runtime/lambda-host.ts";
import { temporaryDir } from "../../runtime/helpers.ts";

// Names a caller chooses that every plain object also inherits (or, for `__proto__`, sets).
const NAMES = ["__proto__", "constructor", "toString"];

/** What the fake functions received, as JSON carries it to Lambda. */
const invocations: Array<{ arn: string; event: Record<string, unknown> }> = [];

const lambdas = {
  async invoke(arn: string, event: unknown): Promise<unknown> {
    const received = JSON.parse(JSON.stringify(event)) as Record<string, unknown>;
    invocations.push({ arn, event: received });
    if (arn === "authorizer") {
      // An authoriser's context is JSON too: it may carry any name.
      return JSON.parse(
        `{"principalId":"SYS","policyDocument":{"Statement":[{"Effect":"Allow","Action":"execute-api:Invoke","Resource":"*"}]},` +
          `"context":{"systemId":"SYS","__proto__":"p","toString":"t"}}`,
      );
    }
    return { statusCode: 200, headers: { "Content-Type": "application/json" }, body: '{"ok":true}' };
  },
} as unknown as LambdaHost;

const api: RestApiDefinition = {
  logicalId: "Api",
  id: "api",
  name: "api",
  stages: new Map([["local", {}]]),
  methods: [
    {
      httpMethod: "GET",
      resourcePath: "/v1/things/{thingId}",
      resourceId: "things",
      authorizationType: "CUSTOM",
      authorizerId: "auth",
      integration: { type: "AWS_PROXY", functionArn: "handler", timeoutMs: 5_000 },
    },
  ],
  authorizers: new Map([
    [
      "auth",
      {
        id: "auth",
        name: "auth",
        type: "REQUEST" as const,
        functionArn: "authorizer",
        identitySources: ["method.request.header.Authorization"],
        ttlSeconds: 0,
      },
    ],
  ]),
  gatewayResponses: new Map(),
  binaryMediaTypes: [],
};

let gateway: GatewayServer;

beforeAll(async () => {
  gateway = await startGatewayServer({
    apis: [api],
    lambdas,
    region: "us-east-1",
    accountId: "000000000000",
    accessLogFile: join(temporaryDir("gateway"), "access.log"),
    warn: () => {},
  });
});

afterAll(async () => {
  await gateway?.stop();
});

async function call(path: string, headers: Record<string, string> = {}) {
  invocations.length = 0;
  const response = await fetch(new URL(path, gateway.stageUrl("api", "local")), {
    headers: { Authorization: "Bearer t", ...headers },
  });
  const authorizer = invocations.find((invocation) => invocation.arn === "authorizer")?.event;
  const handler = invocations.find((invocation) => invocation.arn === "handler")?.event;
  return { status: response.status, authorizer, handler };
}

describe("the local API gateway, given parameter and header names that are Object.prototype members", () => {
  it("passes query parameters of those names, repeated, to the authoriser and the function", async () => {
    const { status, authorizer, handler } = await call(
      `v1/things/__proto__?${NAMES.map((name) => `${name}=1&${name}=2`).join("&")}`,
    );

    expect(status).toBe(200);
    for (const event of [authorizer, handler]) {
      expect(Object.entries(event?.queryStringParameters as object)).toEqual(NAMES.map((name) => [name, "2"]));
      expect(Object.entries(event?.multiValueQueryStringParameters as object)).toEqual(
        NAMES.map((name) => [name, ["1", "2"]]),
      );
      expect(Object.entries(event?.pathParameters as object)).toEqual([["thingId", "__proto__"]]);
    }
  });

  it("passes headers of those names, repeated, to the authoriser and the function", async () => {
    // Raw headers through node:http: fetch's Headers drops a `__proto__` header before sending.
    const raw = ["Host", "127.0.0.1", "Authorization", "Bearer t", ...NAMES.flatMap((name) => [name, "a", name, "b"])];
    invocations.length = 0;
    const status = await new Promise<number>((resolve, reject) => {
      request(new URL("v1/things/x", gateway.stageUrl("api", "local")), { headers: raw }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      })
        .on("error", reject)
        .end();
    });
    const events = invocations.map((invocation) => invocation.event);

    expect(status).toBe(200);
    expect(events).toHaveLength(2);
    for (const event of events) {
      const multi = event.multiValueHeaders as Record<string, string[]>;
      for (const name of NAMES) {
        expect(Object.hasOwn(event.headers as object, name), name).toBe(true);
        expect(multi[name], name).toEqual(["a", "b"]);
      }
    }
  });

  it("hands the function the authoriser's context under whatever names it used", async () => {
    const { status, handler } = await call("v1/things/x");
    const context = (handler?.requestContext as { authorizer?: object } | undefined)?.authorizer ?? {};

    expect(status).toBe(200);
    expect(Object.entries(context)).toEqual(
      expect.arrayContaining([
        ["systemId", "SYS"],
        ["__proto__", "p"],
        ["toString", "t"],
      ]),
    );
  });
});

describe("the local API gateway, given a request Node's HTTP parser refuses", () => {
  it("answers headers larger than it takes with a 431 problem, not an empty response", async () => {
    const response = await fetch(new URL("v1/things/a", gateway.stageUrl("api", "local")), {
      headers: { Authorization: "Bearer t", "X-Big": "h".repeat(20_000) },
    });

    expect(response.status).toBe(431);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect(await response.json()).toMatchObject({ type: "urn:dscp:problem:bad-request", status: 431 });
  });
});
