import type { APIGatewayProxyEvent } from "aws-lambda";
import * as z from "zod/mini";
import { ProblemError } from "../../domain/problem.ts";
import { parseInput } from "../../domain/validation.ts";
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

/** Query parameters of every listing: a page size and the cursor the previous page returned. */
export const pageQuery = z.object({
  limit: z.optional(
    z
      .string()
      .check(
        z.regex(/^(100|[1-9][0-9]?)$/, "must be an integer from 1 to 100"),
        z.describe("Page size, 1-100 (default 25)"),
      ),
  ),
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
