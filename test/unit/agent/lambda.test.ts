import { readFileSync, statSync } from "node:fs";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { fakeNodeRoutes, fakePlatformKeys, nodeKey, sha256Hex } from "./helpers.ts";

/* The Agent Node on Lambda (agent/lambda.ts): function URL events reach the node's listeners. */

const SYSTEM = "MPS.POPULATION";
let platform: Awaited<ReturnType<typeof fakeNodeRoutes>>;
let platformKeys: Awaited<ReturnType<typeof fakePlatformKeys>>;
let handler: typeof import("../../../agent/lambda.ts").handler;
const secrets = mockClient(SecretsManagerClient);

beforeAll(async () => {
  platformKeys = await fakePlatformKeys();
  const key = await nodeKey(SYSTEM);
  platform = await fakeNodeRoutes(platformKeys, key.publicJwk, SYSTEM);
  secrets.on(GetSecretValueCommand).resolves({
    SecretString: JSON.stringify({ key: JSON.parse(readFileSync(key.keyFile, "utf8")), env: { HR_TOKEN: "t0k3n" } }),
  });
  vi.stubEnv("DSCP_AGENT_SECRET_ARN", "arn:aws:secretsmanager:us-east-1:111111111111:secret:node");
  vi.stubEnv(
    "DSCP_AGENT_CONFIG",
    JSON.stringify({
      platform: { apiUrl: platform.url, audience: platformKeys.issuer, systemId: SYSTEM, keyFile: "ignored.json" },
      consumer: { clients: [{ name: "hr", apiKeySha256: sha256Hex("client-key") }] },
      backends: {
        registry: { type: "rest", baseUrl: "http://127.0.0.1:1", headers: { Authorization: "env:HR_TOKEN" } },
      },
      logLevel: "silent",
    }),
  );
  ({ handler } = await import("../../../agent/lambda.ts"));
});

afterAll(async () => {
  vi.unstubAllEnvs();
  await platform.stop();
  await platformKeys.stop();
});

function event(method: string, rawPath: string, headers: Record<string, string> = {}): LambdaFunctionURLEvent {
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath,
    rawQueryString: "",
    headers: { host: "node.lambda-url.us-east-1.on.aws", ...headers },
    requestContext: { http: { method, path: rawPath } },
    isBase64Encoded: false,
  } as unknown as LambdaFunctionURLEvent;
}

const bodyOf = (result: LambdaFunctionURLResult | undefined) =>
  Buffer.from(String((result as { body?: string }).body ?? ""), "base64").toString("utf8");

describe("the Agent Node on Lambda", () => {
  it("starts the node once from its secret, the key file written for the node alone", async () => {
    const health = (await handler(event("GET", "/healthz"))) as LambdaFunctionURLResult & { statusCode: number };

    expect(health.statusCode).toBe(200);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    expect(statSync("/tmp/dscp-agent/key.json").mode & 0o777).toBe(0o600);
    await handler(event("GET", "/healthz"));
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(1);
  });

  it("hands internal clients' exchange calls to the consumer side and the platform's calls to the provider side", async () => {
    const noKey = (await handler(event("GET", "/v1/exchange/MPS.POPULATION.CITIZENS/records/1"))) as {
      statusCode: number;
    };
    const unsigned = (await handler(event("GET", "/population/citizens/records/1"))) as { statusCode: number };

    expect(noKey.statusCode).toBe(401);
    expect(bodyOf(noKey as LambdaFunctionURLResult)).toContain("urn:dscp:problem");
    expect(unsigned.statusCode).toBe(401);
  });

  it("heartbeats on the schedule's tick", async () => {
    const before = platform.state.beats.length;

    expect(await handler({ dscpAgentTick: true })).toBeUndefined();
    expect(platform.state.beats.length).toBeGreaterThan(before);
    expect(platform.state.beats.at(-1)).toMatchObject({ version: expect.any(String), startedAt: expect.any(String) });
  });
});
