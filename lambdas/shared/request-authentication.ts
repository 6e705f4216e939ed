import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { decodeJwt } from "jose";
import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoRegistryStore } from "../../adapters/dynamodb/registry-store.ts";
import { dynamoReplayGuard } from "../../adapters/dynamodb/replay-guard.ts";
import { queuedExchangeLog } from "../../adapters/sqs/exchange-log-queue.ts";
import { exchangeRoutes } from "../../api/exchange.ts";
import { routeKey } from "../../api/route.ts";
import type { ExchangeLog } from "../../domain/exchange/model.ts";
import { recordAttempt } from "../../domain/exchange-log/attempt.ts";
import { authenticate, type ReplayGuard, type SystemDirectory } from "../../domain/identity/authenticate.ts";
import { cachedDirectory } from "../../domain/identity/cached-directory.ts";
import { AuthenticationError } from "../../domain/identity/errors.ts";
import { canonicalTarget, queryPairs } from "../../domain/identity/request-token.ts";
import { type ProblemError, unavailableDependency } from "../../domain/problem.ts";
import { logger, metrics } from "./observability.ts";

/*
 * Authenticating a signed request, as the request authoriser does for most routes and the exchange
 * function does itself for its own (`"signed-in-function"` routes): one code path, so the two
 * refuse, log and count alike.
 */

/** What authenticating a request reads and writes. */
export interface AuthenticationDependencies {
  /** Systems and their keys, cached within a bound (see `cachedDirectory`). */
  readonly directory: SystemDirectory;
  readonly replayGuard: ReplayGuard;
  /** Where a refused exchange attempt is logged. */
  readonly log: ExchangeLog;
  /** The `aud` every request token must name. */
  readonly audience: string;
}

/**
 * The registry, replay table and log queue that authenticating requests reads and writes, for a
 * function's environment: systems and keys read at most once per REGISTRY_CACHE_SECONDS per
 * execution environment (and an unknown key at most once more), so a revocation is refused
 * everywhere within that bound; the replay guard written for every request (a token id is never
 * remembered from a cache).
 */
export function authenticationDependencies(
  env: Readonly<
    Record<
      "REGISTRY_TABLE_NAME" | "REPLAY_TABLE_NAME" | "REGISTRY_CACHE_SECONDS" | "LOG_QUEUE_URL" | "LOG_SHARDS",
      string
    >
  >,
  audience: string,
): AuthenticationDependencies {
  const registry = new DynamoRegistryStore(dynamoDbClient(), env.REGISTRY_TABLE_NAME);
  return {
    directory: cachedDirectory((systemId) => registry.getSystem(systemId), {
      ttlMs: Number(env.REGISTRY_CACHE_SECONDS) * 1000,
      maxEntries: 2000,
    }),
    replayGuard: dynamoReplayGuard(dynamoDbClient(), env.REPLAY_TABLE_NAME),
    log: queuedExchangeLog(env.LOG_QUEUE_URL, Number(env.LOG_SHARDS)),
    audience,
  };
}

/** A request as API Gateway hands it to an authoriser or to a function (both events have these). */
export interface SignedRequest {
  readonly httpMethod: string;
  /** The resource path, without the stage. */
  readonly path: string;
  /** The matched resource, `{name}` for path parameters. */
  readonly resource: string;
  readonly headers: Readonly<Record<string, string | undefined>> | null;
  readonly multiValueQueryStringParameters: Readonly<Record<string, string[] | undefined>> | null;
  readonly pathParameters: Readonly<Record<string, string | undefined>> | null;
}

/** What a function reads of its caller (`requestContext.authorizer`), as the authoriser's context gives it. */
export type CallerContext = Readonly<
  Record<
    "systemId" | "agencyCode" | "roles" | "capabilities" | "kid" | "jti" | "bodyDigest" | "endUser" | "caseRef",
    string
  >
>;

/**
 * Authenticates a signed request: the caller's context, or the refusal (an
 * {@link AuthenticationError}, already logged, counted and, on an exchange route, written to the
 * exchange log). A store or queue that refused for load is no refusal: it is logged and thrown as a
 * 503 to retry.
 */
export async function authenticateRequest(
  request: SignedRequest,
  /** API Gateway's request id: the transaction id. */
  requestId: string,
  deps: AuthenticationDependencies,
): Promise<{ readonly caller: CallerContext } | { readonly refused: AuthenticationError }> {
  const started = Date.now();
  const authorization = Object.entries(request.headers ?? {}).find(
    ([name]) => name.toLowerCase() === "authorization",
  )?.[1];
  let target = request.path;
  try {
    target = canonicalTarget(request.path, queryPairs(request.multiValueQueryStringParameters));
    const { caller, jti, bodyDigest, endUser, caseRef } = await authenticate({
      token: authorization,
      audience: deps.audience,
      method: request.httpMethod,
      target,
      directory: deps.directory,
      replayGuard: deps.replayGuard,
    });
    return {
      caller: {
        systemId: caller.systemId,
        agencyCode: caller.agencyCode,
        roles: caller.roles.join(","),
        capabilities: caller.capabilities.join(","),
        kid: caller.kid,
        jti,
        bodyDigest: bodyDigest ?? "",
        // An authoriser's context holds strings only: empty when the token names none.
        endUser: endUser ?? "",
        caseRef: caseRef ?? "",
      },
    };
  } catch (thrown) {
    const throttled = unavailableDependency(thrown);
    if (throttled) {
      logger.warn("request not authenticated: a store refused for load", {
        error: thrown as Error,
        method: request.httpMethod,
        target: target.slice(0, 2048),
      });
      metrics.addMetric("auth-throttled", MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
      await logRefusedExchange(request, requestId, authorization, throttled, started, deps.log);
      throw throttled;
    }
    // Anything unexpected (a store failing, input nothing foresaw) refuses the request too, and is
    // logged like every refusal.
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
      method: request.httpMethod,
      target: target.slice(0, 2048),
    });
    metrics.addMetric(`auth-${error.failure}`, MetricUnit.Count, 1);
    metrics.publishStoredMetrics();
    await logRefusedExchange(request, requestId, authorization, error, started, deps.log);
    return { refused: error };
  }
}

/** The exchange-log operation a refused request is, by method and resource: as the routes' descriptors name it. */
const EXCHANGE_ATTEMPTS = new Map(
  Object.values(exchangeRoutes).flatMap((route) =>
    route.exchangeAttempt ? [[routeKey(route), route.exchangeAttempt] as const] : [],
  ),
);

/** A refused attempt at an exchange route is an exchange attempt too: it goes in the log. */
async function logRefusedExchange(
  request: SignedRequest,
  requestId: string,
  authorization: string | undefined,
  error: ProblemError,
  started: number,
  log: ExchangeLog,
): Promise<void> {
  const operation = EXCHANGE_ATTEMPTS.get(`${request.httpMethod} ${request.resource}`);
  // Decoded by API Gateway, as the exchange function reads it.
  const datasetId = request.pathParameters?.datasetId;
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
        transactionId: requestId,
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
