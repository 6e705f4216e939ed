import { SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { Context } from "aws-lambda";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, describe, expect, it, vi } from "vitest";
import { LOG_RETRY_AFTER_SECONDS, queuedExchangeLog } from "../../../adapters/sqs/exchange-log-queue.ts";
import type { ExchangeEntry } from "../../../domain/exchange/model.ts";
import { DependencyUnavailableError } from "../../../domain/problem.ts";
import { httpHandler } from "../../../lambdas/shared/http.ts";
import { logger } from "../../../lambdas/shared/observability.ts";

const sqs = mockClient(SQSClient);
const entry = { transactionId: "t-1", datasetId: "MPS.CITIZENS" } as unknown as ExchangeEntry;

afterEach(() => {
  sqs.reset();
  vi.restoreAllMocks();
});

describe("queuedExchangeLog", () => {
  it("turns a throttled send into a 503 dependency-unavailable with Retry-After, logged", async () => {
    const throttled = Object.assign(new Error("Request is throttled."), {
      name: "RequestThrottled",
      $metadata: {},
      $retryable: { throttling: true },
    });
    sqs.on(SendMessageCommand).rejects(throttled);
    const errors = vi.spyOn(logger, "error").mockImplementation(() => {});
    const log = queuedExchangeLog("http://127.0.0.1:1/queue/log.fifo", 4);

    const thrown = await log(entry).catch((error: unknown) => error);
    const response = await httpHandler(async () => log(entry).then(() => ({ status: 200 })))(
      {
        path: "/v1/datasets/x/records/1",
        httpMethod: "GET",
        headers: {},
        requestContext: { requestId: "r-1" },
      } as never,
      { awsRequestId: "a-1", functionName: "test", getRemainingTimeInMillis: () => 1000 } as unknown as Context,
    );

    expect(thrown).toBeInstanceOf(DependencyUnavailableError);
    expect(thrown).toMatchObject({ retryAfterSeconds: LOG_RETRY_AFTER_SECONDS, cause: throttled });
    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({ "Retry-After": String(LOG_RETRY_AFTER_SECONDS) });
    expect(JSON.parse(response.body)).toMatchObject({ type: "urn:dscp:problem:dependency-unavailable" });
    expect(errors).toHaveBeenCalledWith("request failed", expect.objectContaining({ status: 503, error: throttled }));
  });
});
