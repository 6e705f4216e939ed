import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoRegistryStore } from "../../adapters/dynamodb/registry-store.ts";
import { dynamoReplayGuard } from "../../adapters/dynamodb/replay-guard.ts";
import { queuedExchangeLog } from "../../adapters/sqs/exchange-log-queue.ts";
import type { ExchangeLog } from "../../domain/exchange/model.ts";
import type { SystemDirectory } from "../../domain/identity/authenticate.ts";
import { cachedDirectory } from "../../domain/identity/cached-directory.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { authenticateRequest } from "../shared/request-authentication.ts";
import { authorizerEnvironment } from "./environment.ts";

const environment = lazyEnvironment(authorizerEnvironment);
let dependencies:
  | { directory: SystemDirectory; replayGuard: ReturnType<typeof dynamoReplayGuard>; log: ExchangeLog }
  | undefined;

function deps() {
  if (dependencies) return dependencies;
  const env = environment();
  const store = new DynamoRegistryStore(dynamoDbClient(), env.REGISTRY_TABLE_NAME);
  dependencies = {
    // Systems and keys are read at most once per REGISTRY_CACHE_SECONDS per environment (and an
    // unknown key at most once more): a revocation is refused everywhere within that bound. The
    // replay guard is written for every request: a token id is never remembered from a cache.
    directory: cachedDirectory((systemId) => store.getSystem(systemId), {
      ttlMs: Number(env.REGISTRY_CACHE_SECONDS) * 1000,
      maxEntries: 2000,
    }),
    replayGuard: dynamoReplayGuard(dynamoDbClient(), env.REPLAY_TABLE_NAME),
    log: queuedExchangeLog(env.LOG_QUEUE_URL, Number(env.LOG_SHARDS)),
  };
  return dependencies;
}

/**
 * Authenticates every signed request before API Gateway routes it. It only authenticates:
 * what the caller may do is decided by the handler. A refusal is a Deny whose context names
 * the reason, which the ACCESS_DENIED gateway response turns into a 401 problem of that type. A
 * store refusing for load makes it throw: API Gateway's AUTHORIZER_FAILURE, a 503 to retry.
 */
export async function handler(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const env = environment();
  const outcome = await authenticateRequest(
    {
      httpMethod: event.httpMethod,
      path: event.path,
      resource: event.resource,
      headers: event.headers,
      multiValueQueryStringParameters: event.multiValueQueryStringParameters,
      pathParameters: event.pathParameters,
      requestId: event.requestContext.requestId,
    },
    { ...deps(), audience: env.PLATFORM_AUDIENCE },
  );
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
