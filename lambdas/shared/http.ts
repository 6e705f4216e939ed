import { captureLambdaHandler } from "@aws-lambda-powertools/tracer/middleware";
import { type HttpRoute, httpHandler as untracedHttpHandler } from "./http-core.ts";
import { tracer } from "./tracing.ts";

export * from "./http-core.ts";

/** DSCP's REST middleware (see http-core.ts) with the Powertools tracer's handler segment. */
export function httpHandler(route: HttpRoute) {
  return untracedHttpHandler(route, captureLambdaHandler(tracer));
}
