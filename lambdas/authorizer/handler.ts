import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { lazyEnvironment } from "../shared/environment.ts";
import {
  type AuthenticationDependencies,
  authenticateRequest,
  authenticationDependencies,
} from "../shared/request-authentication.ts";
import { authorizerEnvironment } from "./environment.ts";

const environment = lazyEnvironment(authorizerEnvironment);
let dependencies: AuthenticationDependencies | undefined;

/**
 * Authenticates every signed request before API Gateway routes it. It only authenticates:
 * what the caller may do is decided by the handler. A refusal is a Deny whose context names
 * the reason, which the ACCESS_DENIED gateway response turns into a 401 problem of that type. A
 * store refusing for load makes it throw: API Gateway's AUTHORIZER_FAILURE, a 503 to retry.
 */
export async function handler(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const env = environment();
  dependencies ??= authenticationDependencies(env, env.PLATFORM_AUDIENCE);
  const outcome = await authenticateRequest(event, event.requestContext.requestId, dependencies);
  if ("caller" in outcome) {
    return {
      principalId: outcome.caller.systemId,
      policyDocument: statement("Allow", event.methodArn),
      context: { ...outcome.caller },
    };
  }
  return {
    principalId: "anonymous",
    policyDocument: statement("Deny", event.methodArn),
    // Gateway response templates paste these into JSON, so they carry no quotes.
    context: { failure: outcome.refused.failure, detail: printable(outcome.refused.message) },
  };
}

function statement(effect: "Allow" | "Deny", resource: string): APIGatewayAuthorizerResult["policyDocument"] {
  return { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: effect, Resource: resource }] };
}

/** Gateway response templates paste the detail into JSON: printable ASCII only, no quotes, bounded. */
function printable(text: string): string {
  return text
    .replace(/["\\]/g, "'")
    .replace(/[^\x20-\x7e]/g, "?")
    .slice(0, 200);
}
