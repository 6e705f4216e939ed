import type { APIGatewayProxyEvent } from "aws-lambda";
import * as z from "zod/mini";
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

/** Routes of one function, keyed `<METHOD> <resource path>` as the template declares them. */
export type RouteTable = Readonly<Record<string, HttpRoute | SelfCheckedRoute>>;

/**
 * Dispatches on API Gateway's matched resource, so the function serves exactly the methods
 * the CDK app wires to it and nothing else. Every request is checked first, in one place (see
 * {@link checkRequest}): parameters, media type and the signed body digest.
 */
export function dispatch(routes: RouteTable): HttpRoute {
  return async (event: APIGatewayProxyEvent, context: RequestContext): Promise<HttpResult> => {
    const key = `${event.httpMethod} ${event.resource}`;
    const route = Object.hasOwn(routes, key) ? routes[key] : undefined;
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
