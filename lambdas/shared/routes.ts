import type { APIGatewayProxyEvent } from "aws-lambda";
import { ProblemError } from "../../domain/problem.ts";
import type { HttpResult, HttpRoute, RequestContext } from "./http.ts";

/** Routes of one function, keyed `<METHOD> <resource path>` as the template declares them. */
export type RouteTable = Readonly<Record<string, HttpRoute>>;

/**
 * Dispatches on API Gateway's matched resource, so the function serves exactly the methods
 * the CDK app wires to it and nothing else.
 */
export function dispatch(routes: RouteTable): HttpRoute {
  return (event: APIGatewayProxyEvent, context: RequestContext): Promise<HttpResult> => {
    const route = routes[`${event.httpMethod} ${event.resource}`];
    if (!route) {
      throw new ProblemError(
        404,
        "no-such-route",
        "No such route",
        `${event.httpMethod} ${event.path} is not served here`,
      );
    }
    return route(event, context);
  };
}

/** A required path parameter (API Gateway guarantees it for the routes that declare it). */
export function pathParameter(event: APIGatewayProxyEvent, name: string): string {
  const value = event.pathParameters?.[name];
  if (!value)
    throw new ProblemError(400, "validation-failed", "Request validation failed", `missing path parameter ${name}`);
  return value;
}

/** `limit` (1-100, default 25) and `cursor` query parameters of a listing. */
export function pagination(event: APIGatewayProxyEvent): { limit: number; cursor?: string } {
  const raw = event.queryStringParameters?.limit;
  const limit = raw === undefined ? 25 : Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new ProblemError(400, "validation-failed", "Request validation failed", "limit must be 1-100", [
      { name: "limit", reason: "must be an integer from 1 to 100" },
    ]);
  }
  const cursor = event.queryStringParameters?.cursor;
  return cursor ? { limit, cursor } : { limit };
}
