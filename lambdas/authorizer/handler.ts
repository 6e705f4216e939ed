import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoRegistryStore } from "../../adapters/dynamodb/registry-store.ts";
import { dynamoReplayGuard } from "../../adapters/dynamodb/replay-guard.ts";
import { authenticate } from "../../domain/identity/authenticate.ts";
import { AuthenticationError } from "../../domain/identity/errors.ts";
import { canonicalTarget, queryPairs } from "../../domain/identity/request-token.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { logger, metrics } from "../shared/observability.ts";
import { authorizerEnvironment } from "./environment.ts";

const environment = lazyEnvironment(authorizerEnvironment);
let dependencies: { store: DynamoRegistryStore; replayGuard: ReturnType<typeof dynamoReplayGuard> } | undefined;

function deps() {
  const env = environment();
  dependencies ??= {
    store: new DynamoRegistryStore(dynamoDbClient(), env.REGISTRY_TABLE_NAME),
    replayGuard: dynamoReplayGuard(dynamoDbClient(), env.REPLAY_TABLE_NAME),
  };
  return dependencies;
}

/**
 * Authenticates every signed request before API Gateway routes it. It only authenticates:
 * what the caller may do is decided by the handler. A refusal is a Deny whose context names
 * the reason, which the ACCESS_DENIED gateway response turns into a 401 problem of that type.
 */
export async function handler(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const env = environment();
  const { store, replayGuard } = deps();
  const authorization = Object.entries(event.headers ?? {}).find(
    ([name]) => name.toLowerCase() === "authorization",
  )?.[1];
  const target = canonicalTarget(event.path, queryPairs(event.multiValueQueryStringParameters));
  try {
    const { caller, jti, bodyDigest } = await authenticate({
      token: authorization,
      audience: env.PLATFORM_AUDIENCE,
      method: event.httpMethod,
      target,
      directory: (systemId) => store.getSystem(systemId),
      replayGuard,
    });
    return {
      principalId: caller.systemId,
      policyDocument: statement("Allow", event.methodArn),
      context: {
        systemId: caller.systemId,
        agencyCode: caller.agencyCode,
        roles: caller.roles.join(","),
        capabilities: caller.capabilities.join(","),
        kid: caller.kid,
        jti,
        bodyDigest: bodyDigest ?? "",
      },
    };
  } catch (error) {
    if (!(error instanceof AuthenticationError)) throw error;
    // Every refused request is logged, with the reason and never the token.
    logger.warn("request refused", { failure: error.failure, detail: error.message, method: event.httpMethod, target });
    metrics.addMetric(`auth-${error.failure}`, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    return {
      principalId: "anonymous",
      policyDocument: statement("Deny", event.methodArn),
      // Gateway response templates paste these into JSON, so they carry no quotes.
      context: { failure: error.failure, detail: error.message.replace(/["\\]/g, "'") },
    };
  }
}

function statement(effect: "Allow" | "Deny", resource: string): APIGatewayAuthorizerResult["policyDocument"] {
  return { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: effect, Resource: resource }] };
}
