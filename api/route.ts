import type * as z from "zod/mini";
import type { ExchangeEntry } from "../domain/exchange/model.ts";

/*
 * Route descriptors: every operation of the API as data, one table per function that serves
 * routes (`api/<capability>.ts`). The construct adds its methods from its table, the handler
 * dispatches on it, the OpenAPI document, the request authoriser, the WAF's bulk-body rule and
 * the typed client derive what they need from it: a route is written once.
 */

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** A named component or an anonymous schema. */
export type Schema = { readonly name: string; readonly schema: z.ZodMiniType } | { readonly inline: object };

/** One operation of the API, described with the schemas its handler validates with. */
export interface Route {
  readonly method: HttpMethod;
  /** API Gateway resource path, `{name}` for path parameters. */
  readonly path: `/${string}`;
  readonly tag: string;
  readonly summary: string;
  readonly description?: string;
  /**
   * `"signed"`: the request authoriser verifies a signed request token first. `"signed-in-function"`:
   * the same token, verified the same way by the function that serves the route, before anything
   * else, instead of by the authoriser (the exchange routes: one invocation per request instead of
   * two on the platform's busiest path). `{ public: reason }`: anyone may call it, for the reason
   * given (the construct acknowledges cdk-nag's AwsSolutions-APIG4 with it).
   */
  readonly auth: "signed" | "signed-in-function" | { readonly public: string };
  /** The component the request body is validated against, by name. */
  readonly body?: { readonly name: string; readonly schema: z.ZodMiniType };
  /** Query parameter schemas (each an object whose properties are the parameters). */
  readonly query?: readonly z.ZodMiniObject[];
  readonly success: { readonly status: number; readonly description: string; readonly schema: Schema };
  /** Problem statuses this operation may answer with, beyond 500. */
  readonly problems: readonly number[];
  /**
   * Its bodies are bulk by design (up to API Gateway's and Lambda's limits, counted by its
   * handler): the WAF's body-size rule does not apply to it.
   */
  readonly bulkBody?: boolean;
  /**
   * A refused attempt at it is an exchange attempt: a request refused at authentication is logged
   * as this operation of the exchange log, naming the `datasetId` path parameter.
   */
  readonly exchangeAttempt?: ExchangeEntry["operation"];
  /**
   * Public and cacheable: answered with `Cache-Control: public`, an `ETag`, and 304 to an
   * `If-None-Match` naming it; `csv` when `?format=csv` gives the whole resource as a CSV file.
   */
  readonly cacheable?: { readonly csv: boolean };
}

/** The operations one function serves, keyed by operation id. */
export type RouteTable = Readonly<Record<string, Route>>;

/** A route table as written, its paths kept as literal types (for {@link pathOf}). */
export function routes<const T extends RouteTable>(table: T): T {
  return table;
}

/** A route with its operation id, as the OpenAPI document lists it. */
export interface Operation extends Route {
  readonly operationId: string;
}

/** A table's operations, in the order it lists them. */
export function operationsOf(table: RouteTable): Operation[] {
  return Object.entries(table).map(([operationId, route]) => ({ ...route, operationId }));
}

/** Whether a route needs a signed request token. */
export function isSigned(route: Route): boolean {
  return typeof route.auth === "string";
}

/** `METHOD /path`, as API Gateway names a method of the API: `event.httpMethod` and `event.resource`. */
export function routeKey(route: Pick<Route, "method" | "path">): string {
  return `${route.method} ${route.path}`;
}

/** The names of a path's `{parameters}`. */
export type PathParameterNames<P extends string> = P extends `${string}{${infer Name}}${infer Rest}`
  ? Name | PathParameterNames<Rest>
  : never;

/** A value for each of a path's `{parameters}`. */
export type PathParameters<P extends string> = { readonly [Name in PathParameterNames<P>]: string };

/** The arguments after the route: none for a path without parameters, else a value for each. */
export type PathArguments<P extends string> = [PathParameterNames<P>] extends [never] ? [] : [PathParameters<P>];

/**
 * A route's path with its parameters filled in, each percent-encoded as one path segment:
 * `pathOf(registryRoutes.addKey, { systemId: "MPS.POPULATION" })` is `/v1/systems/MPS.POPULATION/keys`.
 */
export function pathOf<P extends string>(route: { readonly path: P }, ...parameters: PathArguments<P>): string {
  return fillPath(route.path, (parameters[0] ?? {}) as Readonly<Record<string, string>>);
}

/** {@link pathOf} for a path known only at run time: every parameter must have a value. */
export function fillPath(path: string, parameters: Readonly<Record<string, string>>): string {
  return path.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = Object.hasOwn(parameters, name) ? parameters[name] : undefined;
    if (value === undefined) throw new Error(`${path}: no value for {${name}}`);
    return encodeURIComponent(value);
  });
}
