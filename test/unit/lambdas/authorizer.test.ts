import { DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { generateIdentity } from "../../../client/identity-files.ts";
import { signRequest } from "../../../client/sign.ts";

const dynamo = mockClient(DynamoDBClient);
const sqs = mockClient(SQSClient);
const AUDIENCE = "urn:dscp:test";
const saved = { ...process.env };

beforeAll(() => {
  Object.assign(process.env, {
    DSCP_STAGE: "local",
    DSCP_VERSION: "0.0.0",
    POWERTOOLS_SERVICE_NAME: "authorizer",
    POWERTOOLS_METRICS_NAMESPACE: "Dscp",
    REGISTRY_TABLE_NAME: "registry",
    REPLAY_TABLE_NAME: "replay",
    PLATFORM_AUDIENCE: AUDIENCE,
    LOG_QUEUE_URL: "http://127.0.0.1:1/queue/log.fifo",
    LOG_SHARDS: "1",
    REGISTRY_CACHE_SECONDS: "0",
    AWS_REGION: "us-east-1",
  });
});

afterAll(() => {
  process.env = saved;
  dynamo.restore();
  sqs.restore();
});

beforeEach(() => {
  dynamo.reset();
  sqs.reset();
});

async function exchangeEvent(): Promise<APIGatewayRequestAuthorizerEvent> {
  const caller = await generateIdentity("HCM.PORTAL", "EdDSA", "k1");
  const path = "/v1/exchange/MPS.POPULATION.CITIZENS/records/1";
  const token = await signRequest(caller, AUDIENCE, { method: "GET", path });
  return {
    type: "REQUEST",
    methodArn: "arn:aws:execute-api:us-east-1:000000000000:api/local/GET/v1/exchange/x/records/1",
    resource: "/v1/exchange/{datasetId}/records/{key}",
    path,
    httpMethod: "GET",
    pathParameters: { datasetId: "MPS.POPULATION.CITIZENS", key: "1" },
    headers: { Authorization: `Bearer ${token}` },
    multiValueQueryStringParameters: null,
    requestContext: { requestId: "req-1" },
  } as unknown as APIGatewayRequestAuthorizerEvent;
}

describe("the authoriser", () => {
  it("refuses, and logs the exchange attempt, when the registry fails unexpectedly", async () => {
    dynamo.on(GetItemCommand).rejects(new Error("the registry is down"));
    dynamo.on(QueryCommand).rejects(new Error("the registry is down"));
    dynamo.on(PutItemCommand).rejects(new Error("the registry is down"));
    sqs.on(SendMessageCommand).resolves({ MessageId: "m1" });
    const { handler } = await import("../../../lambdas/authorizer/handler.ts");

    const result = await handler(await exchangeEvent());

    expect(result.policyDocument.Statement[0]).toMatchObject({ Effect: "Deny" });
    expect(result.context).toMatchObject({ failure: "authentication-failed" });
    const logged = JSON.parse(String(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageBody));
    expect(logged).toMatchObject({ outcome: "denied", status: 401, datasetId: "MPS.POPULATION.CITIZENS" });
  });

  it("fails with a 503 to retry, and logs the attempt as failed, when a store refuses for load", async () => {
    const throttled = Object.assign(new Error("Rate of requests exceeds the allowed throughput."), {
      name: "ThrottlingException",
      $retryable: { throttling: true },
    });
    dynamo.on(GetItemCommand).rejects(throttled);
    dynamo.on(QueryCommand).rejects(throttled);
    dynamo.on(PutItemCommand).rejects(throttled);
    sqs.on(SendMessageCommand).resolves({ MessageId: "m1" });
    const { handler } = await import("../../../lambdas/authorizer/handler.ts");

    await expect(handler(await exchangeEvent())).rejects.toMatchObject({
      status: 503,
      slug: "dependency-unavailable",
      retryAfterSeconds: 1,
    });
    const logged = JSON.parse(String(sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageBody));
    expect(logged).toMatchObject({ outcome: "failed", status: 503, datasetId: "MPS.POPULATION.CITIZENS" });
  });
});
