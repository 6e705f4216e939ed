import { MetricUnit } from "@aws-lambda-powertools/metrics";
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { decodeJwt } from "jose";
import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoRegistryStore } from "../../adapters/dynamodb/registry-store.ts";
import { dynamoReplayGuard } from "../../adapters/dynamodb/replay-guard.ts";
import { queuedExchangeLog } from "../../adapters/sqs/exchange-log-queue.ts";
import { exchangeRoutes } from "../../api/exchange.ts";
import { routeKey } from "../../api/route.ts";
import type { ExchangeLog } from "../../domain/exchange/model.ts";
import { recordAttempt } from "../../domain/exchange-log/attempt.ts";
import { authenticate, type SystemDirectory } from "../../domain/identity/authenticate.ts";
import { cachedDirectory } from "../../domain/identity/cached-directory.ts";
import { AuthenticationError } from "../../domain/identity/errors.ts";
import { canonicalTarget, queryPairs } from "../../domain/identity/request-token.ts";
import { type ProblemError, throttledDependency } from "../../domain/problem.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { logger, metrics } from "../shared/observability.ts";
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
 * the reason, which the ACCESS_DENIED gateway response turns into a 401 problem of that type.
 */
export async function handler(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const env = environment();
  const { directory, replayGuard, log } = deps();
  const started = Date.now();
  const authorization = Object.entries(event.headers ?? {}).find(
    ([name]) => name.toLowerCase() === "authorization",
  )?.[1];
  let target = event.path;
  try {
    target = canonicalTarget(event.path, queryPairs(event.multiValueQueryStringParameters));
    const { caller, jti, bodyDigest } = await authenticate({
      token: authorization,
      audience: env.PLATFORM_AUDIENCE,
      method: event.httpMethod,
      target,
      directory,
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
  } catch (thrown) {
    // A store or queue refusing for load is no refusal: the authoriser fails, API Gateway answers
    // AUTHORIZER_FAILURE as a 503 with Retry-After, and the caller retries the same request.
    const throttled = throttledDependency(thrown);
    if (throttled) {
      logger.warn("request not authenticated: a store refused for load", {
        error: thrown as Error,
        method: event.httpMethod,
        target: target.slice(0, 2048),
      });
      metrics.addMetric("auth-throttled", MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
      await logRefusedExchange(event, authorization, throttled, started, log);
      throw throttled;
    }
    // Anything unexpected (a store failing, input nothing foresaw) refuses the request too, and is
    // logged like every refusal: an authoriser that throws answers a bare 500 and logs nothing.
    const error =
      thrown instanceof AuthenticationError
        ? thrown
        : new AuthenticationError("authentication-failed", "the platform could not authenticate this request", {
            cause: thrown,
          });
    if (error !== thrown) logger.error("authentication failed unexpectedly", { error: thrown as Error });
    // Every refused request is logged, with the reason and never the token.
    logger.warn("request refused", {
      failure: error.failure,
      detail: error.message,
      method: event.httpMethod,
      target: target.slice(0, 2048),
    });
    metrics.addMetric(`auth-${error.failure}`, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    await logRefusedExchange(event, authorization, error, started, log);
    return {
      principalId: "anonymous",
      policyDocument: statement("Deny", event.methodArn),
      // Gateway response templates paste these into JSON, so they carry no quotes.
      context: { failure: error.failure, detail: printable(error.message) },
    };
  }
}

function statement(effect: "Allow" | "Deny", resource: string): APIGatewayAuthorizerResult["policyDocument"] {
  return { Version: "2012-10-17", Statement: [{ Action: "execute-api:Invoke", Effect: effect, Resource: resource }] };
}

/** The exchange-log operation a refused request is, by method and resource: as the routes' descriptors name it. */
const EXCHANGE_ATTEMPTS = new Map(
  Object.values(exchangeRoutes).flatMap((route) =>
    route.exchangeAttempt ? [[routeKey(route), route.exchangeAttempt] as const] : [],
  ),
);

/** A refused attempt at an exchange route is an exchange attempt too: it goes in the log. */
async function logRefusedExchange(
  event: APIGatewayRequestAuthorizerEvent,
  authorization: string | undefined,
  error: ProblemError,
  started: number,
  log: ExchangeLog,
): Promise<void> {
  const operation = EXCHANGE_ATTEMPTS.get(`${event.httpMethod} ${event.resource}`);
  // Decoded by API Gateway, as the exchange function reads it.
  const datasetId = event.pathParameters?.datasetId;
  if (!operation || !datasetId) return;
  let claimed = "unknown";
  try {
    const issuer = decodeJwt(String(authorization ?? "").replace(/^Bearer\s+/i, "")).iss;
    if (typeof issuer === "string" && /^[A-Z][A-Z0-9.]{0,80}$/.test(issuer)) claimed = issuer;
  } catch {
    // No readable token: the caller stays unknown.
  }
  try {
    await recordAttempt(
      log,
      {
        transactionId: event.requestContext.requestId,
        started,
        // The token did not verify: whoever it names may not be who sent it.
        consumerSystem: "unauthenticated",
        consumerAgency: "unauthenticated",
        claimedIssuer: claimed,
        datasetId: datasetId.slice(0, 256),
        operation,
        method: "request",
      },
      { error },
    );
  } catch (failure) {
    logger.error("a refused exchange could not be logged", { error: failure as Error });
  }
}

/** Gateway response templates paste the detail into JSON: printable ASCII only, no quotes, bounded. */
function printable(text: string): string {
  return text
    .replace(/["\\]/g, "'")
    .replace(/[^\x20-\x7e]/g, "?")
    .slice(0, 200);
}
