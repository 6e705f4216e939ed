import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy, { type MiddlewareObj } from "@middy/core";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import {
  DependencyUnavailableError,
  internalProblem,
  PROBLEM_CONTENT_TYPE,
  type ProblemDetails,
  ProblemError,
  TRANSACTION_ID_HEADER,
  unavailableDependency,
} from "../../domain/problem.ts";
import { logger, metrics } from "./observability.ts";

/** What a route's domain call returns; the bundle turns it into the proxy response. */
export interface HttpResult {
  readonly status: number;
  readonly body?: unknown;
  /** A body sent as it is (CSV, say), with the Content-Type its headers give; instead of `body`. */
  readonly text?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** 200 with what the domain call resolves to. */
export const ok = async (body: Promise<unknown>): Promise<HttpResult> => ({ status: 200, body: await body });
/** 201 with what the domain call created. */
export const created = async (body: Promise<unknown>): Promise<HttpResult> => ({ status: 201, body: await body });
/** 202 with what the domain call accepted to finish later. */
export const accepted = async (body: Promise<unknown>): Promise<HttpResult> => ({ status: 202, body: await body });

export interface RequestContext {
  /** Names this exchange in logs and in the `X-Transaction-Id` response header. */
  readonly transactionId: string;
  readonly lambda: Context;
}

export type HttpRoute = (event: APIGatewayProxyEvent, context: RequestContext) => Promise<HttpResult>;

const JSON_HEADERS = { "Content-Type": "application/json", "Cache-Control": "no-store" };

/** Transaction id of a request: API Gateway's request id, so gateway and function logs agree. */
export function transactionIdOf(event: APIGatewayProxyEvent, context: Context): string {
  return event.requestContext?.requestId ?? context.awsRequestId;
}

/** Maps anything a route throws to RFC 9457 problem details; unknown errors reveal nothing. */
export function problemResponse(
  thrown: unknown,
  event: APIGatewayProxyEvent,
  transactionId: string,
): APIGatewayProxyResult {
  const error = unavailableDependency(thrown) ?? thrown;
  const where = { instance: event.path, transactionId };
  let problem: ProblemDetails;
  if (error instanceof ProblemError) {
    problem = error.toProblem(where);
    // A refusal is information; a dependency failing is an error the operator needs the cause of.
    if (problem.status >= 500)
      logger.error("request failed", { problem: problem.type, status: problem.status, error: error.cause as Error });
    else logger.info("request refused", { problem: problem.type, status: problem.status, detail: problem.detail });
  } else {
    problem = internalProblem(where);
    logger.error("request failed", error as Error);
  }
  return {
    statusCode: problem.status,
    headers: {
      "Content-Type": PROBLEM_CONTENT_TYPE,
      "Cache-Control": "no-store",
      [TRANSACTION_ID_HEADER]: transactionId,
      ...(error instanceof DependencyUnavailableError && error.retryAfterSeconds !== undefined
        ? { "Retry-After": String(error.retryAfterSeconds) }
        : {}),
    },
    body: JSON.stringify(problem),
  };
}

/** Always last in the chain, so its onError runs first and every error leaves as a problem. */
function problemErrorHandler(): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> {
  return {
    onError: async (request) => {
      request.response = problemResponse(request.error, request.event, transactionIdOf(request.event, request.context));
    },
  };
}

/**
 * Wraps a route in DSCP's REST middleware: logger context, tracing (when given) and metrics
 * first, then the route, with every error turned into problem details and the transaction id on
 * every response. Untraced, as the exchange function is: see tracing.ts.
 */
export function httpHandler(route: HttpRoute, tracing?: MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult>) {
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>().use(
    injectLambdaContext(logger, { resetKeys: true }),
  );
  if (tracing) handler.use(tracing);
  return handler
    .use(logMetrics(metrics, { captureColdStartMetric: true }))
    .use(problemErrorHandler())
    .handler(async (event, context) => {
      const transactionId = transactionIdOf(event, context);
      logger.appendKeys({ transactionId });
      const result = await route(event, { transactionId, lambda: context });
      return {
        statusCode: result.status,
        headers: { ...JSON_HEADERS, ...result.headers, [TRANSACTION_ID_HEADER]: transactionId },
        body: result.text ?? (result.body === undefined ? "" : JSON.stringify(result.body)),
      };
    });
}
