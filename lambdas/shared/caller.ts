import type { APIGatewayProxyEvent } from "aws-lambda";
import { AuthenticationError } from "../../domain/identity/errors.ts";
import { bodyDigest } from "../../domain/identity/request-token.ts";
import { CAPABILITIES, type Caller, ROLES } from "../../domain/registry/model.ts";

/**
 * The caller the authoriser authenticated. The body was checked against the digest the token
 * signed before the route ran, for every route at once (see `checkRequest`).
 */
export function authenticatedCaller(event: APIGatewayProxyEvent): Caller {
  return callerOf(event);
}

/** Who the authoriser says is calling. */
export function callerOf(event: APIGatewayProxyEvent): Caller {
  const context = (event.requestContext.authorizer ?? {}) as Record<string, unknown>;
  if (typeof context.systemId !== "string" || typeof context.agencyCode !== "string") {
    throw new AuthenticationError("unauthenticated", "this route needs a signed request");
  }
  return {
    systemId: context.systemId,
    agencyCode: context.agencyCode,
    roles: listOf(context.roles, ROLES),
    capabilities: listOf(context.capabilities, CAPABILITIES),
    kid: String(context.kid ?? ""),
    ...(typeof context.endUser === "string" && context.endUser !== "" ? { endUser: context.endUser } : {}),
    ...(typeof context.caseRef === "string" && context.caseRef !== "" ? { caseRef: context.caseRef } : {}),
  };
}

/**
 * Refuses a body that is not the one the request token signed (or one it did not sign): the
 * authoriser never sees bodies. Called once per request, by `checkRequest`.
 */
export function verifyBody(event: APIGatewayProxyEvent): void {
  const context = (event.requestContext.authorizer ?? {}) as Record<string, unknown>;
  const body = event.body ? (event.isBase64Encoded ? Buffer.from(event.body, "base64") : event.body) : "";
  const signed = typeof context.bodyDigest === "string" ? context.bodyDigest : "";
  if (body.length > 0 || signed !== "") {
    if (signed === "" || body.length === 0 || bodyDigest(body) !== signed) {
      throw new AuthenticationError("body-digest-mismatch", "the body is not the one the request token signed");
    }
  }
}

function listOf<T extends string>(value: unknown, allowed: readonly T[]): T[] {
  return String(value ?? "")
    .split(",")
    .filter((item): item is T => (allowed as readonly string[]).includes(item));
}
