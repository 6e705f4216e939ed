import type { APIGatewayProxyEvent } from "aws-lambda";
import * as z from "zod/mini";
import { type RouteTable, routeKey } from "../../api/route.ts";
import { pageLimit } from "../../domain/paging.ts";
import { ProblemError } from "../../domain/problem.ts";
import { parseInput } from "../../domain/validation.ts";
import type { HttpResult, HttpRoute, RequestContext } from "./http.ts";
import { checkRequest } from "./request-guard.ts";

/**
 * A route that runs the request check itself, inside its own work, because a refusal there must
 * be recorded (an exchange attempt is logged whatever its outcome). It must call `check` before
 * it touches any store.
 */
export interface SelfCheckedRoute {
  readonly selfChecked: (
    event: APIGatewayProxyEvent,
    context: RequestContext,
    check: () => void,
  ) => Promise<HttpResult>;
}

/** What serves each operation of a function's route table: the map a handler dispatches through. */
export type RouteHandlers<T extends RouteTable> = { readonly [Operation in keyof T]: HttpRoute | SelfCheckedRoute };

/**
 * Dispatches on API Gateway's matched method and resource (`event.httpMethod`, `event.resource`)
 * to the handler of the operation the function's route table declares there, so the function
 * serves exactly the methods the CDK app wires to it (from the same table) and nothing else. The
 * map's type comes from the table: a missing or an extra operation fails to compile. Every request
 * is checked first, in one place (see {@link checkRequest}): parameters, media type and the signed
 * body digest.
 */
export function dispatch<T extends RouteTable>(routes: T, handlers: NoInfer<RouteHandlers<T>>): HttpRoute {
  const byResource = new Map<string, HttpRoute | SelfCheckedRoute>();
  for (const [operationId, route] of Object.entries(routes)) {
    const served = Object.hasOwn(handlers, operationId) ? handlers[operationId as keyof T] : undefined;
    if (!served) throw new Error(`no handler for ${operationId} (${routeKey(route)})`);
    byResource.set(routeKey(route), served);
  }
  const unknown = Object.keys(handlers).filter((operationId) => !Object.hasOwn(routes, operationId));
  if (unknown.length > 0) throw new Error(`handlers for operations the route table lacks: ${unknown.join(", ")}`);
  return async (event: APIGatewayProxyEvent, context: RequestContext): Promise<HttpResult> => {
    const route = byResource.get(`${event.httpMethod} ${event.resource}`);
    if (!route) {
      throw new ProblemError(
        404,
        "no-such-route",
        "No such route",
        `${event.httpMethod} ${event.path} is not served here`,
      );
    }
    if ("selfChecked" in route) return route.selfChecked(event, context, () => checkRequest(event));
    checkRequest(event);
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

/** Query parameters of every listing: a page size and the cursor the previous page returned. */
export const pageQuery = z.object({
  limit: pageLimit,
  cursor: z.optional(
    z.string().check(z.maxLength(2000), z.describe("The `nextCursor` of the previous page, as it was returned")),
  ),
});

/** `limit` (1-100, default 25) and `cursor` query parameters of a listing. */
export function pagination(event: APIGatewayProxyEvent): { limit: number; cursor?: string } {
  const { limit, cursor } = parseInput(
    pageQuery,
    { limit: event.queryStringParameters?.limit, cursor: event.queryStringParameters?.cursor },
    "paging",
  );
  return { limit: limit === undefined ? 25 : Number(limit), ...(cursor ? { cursor } : {}) };
}

/**
 * The query parameters of a route other than paging, parsed with the schema the OpenAPI
 * document describes them with; every invalid one is named.
 */
export function queryParameters<S extends z.ZodMiniType>(event: APIGatewayProxyEvent, schema: S): z.infer<S> {
  const { limit: _limit, cursor: _cursor, ...rest } = event.queryStringParameters ?? {};
  return parseInput(schema, rest, "query parameters");
}
