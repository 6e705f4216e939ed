import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import { describe, expect, it } from "vitest";
import { KeyCertificationError } from "../../../domain/identity/key-certificate.ts";
import { NotFoundError, ValidationError } from "../../../domain/problem.ts";
import { accepted, created, httpHandler, ok } from "../../../lambdas/shared/http.ts";

const event = {
  path: "/v1/things/42",
  httpMethod: "GET",
  headers: {},
  requestContext: { requestId: "req-123" },
} as unknown as APIGatewayProxyEvent;
const context = {
  awsRequestId: "aws-1",
  functionName: "test",
  functionVersion: "$LATEST",
  invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:test",
  memoryLimitInMB: "256",
  getRemainingTimeInMillis: () => 1000,
} as unknown as Context;

describe("httpHandler", () => {
  it("serialises the route's result as JSON with the transaction id", async () => {
    const handler = httpHandler(async () => ({ status: 201, body: { id: "42" } }));

    const response = await handler(event, context);

    expect(response).toMatchObject({
      statusCode: 201,
      headers: { "Content-Type": "application/json", "X-Transaction-Id": "req-123" },
      body: '{"id":"42"}',
    });
  });

  it("turns a ProblemError into problem details with its status", async () => {
    const handler = httpHandler(async () => {
      throw new ValidationError("bad input", [{ name: "code", reason: "required" }]);
    });

    const response = await handler(event, context);

    expect(response.statusCode).toBe(400);
    expect(response.headers).toMatchObject({
      "Content-Type": "application/problem+json",
      "X-Transaction-Id": "req-123",
    });
    expect(JSON.parse(response.body)).toMatchObject({
      type: "urn:dscp:problem:validation-failed",
      instance: "/v1/things/42",
      transactionId: "req-123",
      invalidParams: [{ name: "code", reason: "required" }],
    });
  });

  it("keeps the status of each problem kind", async () => {
    const handler = httpHandler(async () => {
      throw new NotFoundError("no thing 42");
    });

    expect((await handler(event, context)).statusCode).toBe(404);
  });

  it("answers a signing key KMS cannot certify with a 503 and Retry-After", async () => {
    const throttled = Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
    const handler = httpHandler(async () => {
      throw new KeyCertificationError({ cause: throttled });
    });

    const response = await handler(event, context);

    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({ "Retry-After": "2", "Content-Type": "application/problem+json" });
    expect(JSON.parse(response.body)).toMatchObject({ type: "urn:dscp:problem:dependency-unavailable" });
  });

  it("answers a store that refused for load or failed on its side (after its client's retries) with a 503 and Retry-After", async () => {
    for (const throttled of [
      Object.assign(new Error("Throughput exceeds the current capacity"), {
        name: "ProvisionedThroughputExceededException",
      }),
      Object.assign(new Error("Rate exceeded"), { name: "SomeNewThrottle", $retryable: { throttling: true } }),
      Object.assign(new Error("Internal server error"), { name: "InternalServerError", $fault: "server" }),
    ]) {
      const handler = httpHandler(async () => {
        throw throttled;
      });

      const response = await handler(event, context);

      expect(response.statusCode).toBe(503);
      expect(response.headers).toMatchObject({ "Retry-After": "1" });
      expect(JSON.parse(response.body)).toMatchObject({ type: "urn:dscp:problem:dependency-unavailable", status: 503 });
    }
  });

  it("answers an unexpected error with a generic 500 that reveals neither message nor stack", async () => {
    const handler = httpHandler(async () => {
      throw new Error("connection string postgres://admin:hunter2@db");
    });

    const response = await handler(event, context);

    expect(response.statusCode).toBe(500);
    expect(response.body).not.toContain("hunter2");
    expect(response.body).not.toContain("at ");
    expect(JSON.parse(response.body)).toMatchObject({
      type: "urn:dscp:problem:internal-error",
      transactionId: "req-123",
    });
  });
});

describe("the results of a domain call", () => {
  it("answer 200, 201 or 202 with what the call resolved to", async () => {
    const body = { id: "X" };

    expect(await ok(Promise.resolve(body))).toEqual({ status: 200, body });
    expect(await created(Promise.resolve(body))).toEqual({ status: 201, body });
    expect(await accepted(Promise.resolve(body))).toEqual({ status: 202, body });
  });

  it("reject with the call's error", async () => {
    const error = new NotFoundError("none");

    await expect(ok(Promise.reject(error))).rejects.toBe(error);
  });
});
