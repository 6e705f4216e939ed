import { cached } from "../../adapters/cache/ttl-cache.ts";
import { DynamoCatalogStore } from "../../adapters/dynamodb/catalog-store.ts";
import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { cachedSchemaVersions, DynamoDictionaryStore } from "../../adapters/dynamodb/dictionary-store.ts";
import { DynamoIntegratedStore } from "../../adapters/dynamodb/integrated-store.ts";
import { cachedPermissions, DynamoPermissionStore } from "../../adapters/dynamodb/permission-store.ts";
import { DynamoRegistryStore } from "../../adapters/dynamodb/registry-store.ts";
import { httpUpstream } from "../../adapters/http/upstream.ts";
import { kmsSigner } from "../../adapters/kms/kms-signer.ts";
import { queuedExchangeLog } from "../../adapters/sqs/exchange-log-queue.ts";
import { exchangeRoutes } from "../../api/exchange.ts";
import { RecordValidator } from "../../domain/dictionary/validator.ts";
import { ExchangeService } from "../../domain/exchange/exchange-service.ts";
import { type ExchangeLog, recordQuery } from "../../domain/exchange/model.ts";
import { environmentKeys } from "../../domain/identity/key-certificate.ts";
import { ProblemError } from "../../domain/problem.ts";
import { endpointPolicy } from "../../domain/registry/endpoint-policy.ts";
import { parseJsonBody } from "../../domain/validation.ts";
import { callerOf } from "../shared/caller.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { httpHandler, ok } from "../shared/http-core.ts";
import { logger, metrics } from "../shared/observability.ts";
import {
  type AuthenticationDependencies,
  authenticateRequest,
  authenticationDependencies,
} from "../shared/request-authentication.ts";
import { dispatch, pathParameter, queryParameters } from "../shared/routes.ts";
import { exchangeEnvironment } from "./environment.ts";
import { addExchangeMetrics } from "./metrics.ts";

const environment = lazyEnvironment(exchangeEnvironment);

/**
 * Every attempt also as one structured log line, the entry itself (queryable in Logs Insights by
 * dataset, consumer, provider or transaction), and as metrics in the invocation's one EMF record.
 */
const structuredLog: ExchangeLog = async (entry) => {
  logger.info("exchange", { exchange: entry });
  addExchangeMetrics(metrics, entry);
};

/** The tamper-evident log first: if it cannot take the entry, the exchange fails. */
function both(primary: ExchangeLog, secondary: ExchangeLog): ExchangeLog {
  return async (entry) => {
    await primary(entry);
    await secondary(entry);
  };
}

/**
 * How long an execution environment trusts what it read of a dataset, an agency or a provider
 * system. Under load this takes three reads off every exchange; a change to a dataset or an
 * endpoint reaches exchanges within this time. Permissions are cached for PERMISSION_CACHE_SECONDS
 * (0 locally, 10 s on a deployed stage), the bound within which a revocation takes effect.
 */
const DESCRIPTION_TTL_MS = 10_000;

let service: ExchangeService | undefined;
const exchange = () => {
  if (service) return service;
  const env = environment();
  const client = dynamoDbClient();
  const catalog = new DynamoCatalogStore(client, env.REGISTRY_TABLE_NAME);
  const registry = new DynamoRegistryStore(client, env.REGISTRY_TABLE_NAME);
  const permissions = new DynamoPermissionStore(client, env.PERMISSIONS_TABLE_NAME);
  const remember = { ttlMs: DESCRIPTION_TTL_MS };
  service = new ExchangeService({
    catalog: { getDataset: cached((id: string) => catalog.getDataset(id), remember) },
    registry: {
      getAgency: cached((code: string) => registry.getAgency(code), remember),
      getSystem: cached((id: string) => registry.getSystem(id), remember),
    },
    permissions: { permissionsOf: cachedPermissions(permissions, Number(env.PERMISSION_CACHE_SECONDS) * 1000) },
    schemas: cachedSchemaVersions(new DynamoDictionaryStore(client, env.REGISTRY_TABLE_NAME)),
    validator: new RecordValidator(),
    integrated: new DynamoIntegratedStore(client, env.INTEGRATED_TABLE_NAME),
    upstream: httpUpstream(
      environmentKeys(kmsSigner(env.PLATFORM_KEY_ID)),
      env.PLATFORM_ISSUER,
      Number(env.UPSTREAM_TIMEOUT_MS),
      endpointPolicy(env.DSCP_STAGE),
    ),
    log: both(queuedExchangeLog(env.LOG_QUEUE_URL, Number(env.LOG_SHARDS)), structuredLog),
  });
  return service;
};

let authentication: AuthenticationDependencies | undefined;

const routes = dispatch(exchangeRoutes, {
  // The request check runs inside the attempt, so that a refused request is logged too.
  getRecord: {
    selfChecked: async (event, { transactionId }, check) =>
      ok(
        exchange().getRecord(
          callerOf(event),
          pathParameter(event, "datasetId"),
          pathParameter(event, "key"),
          () => {
            check();
            return queryParameters(event, recordQuery).fields?.split(",").filter(Boolean);
          },
          transactionId,
        ),
      ),
  },
  queryRecords: {
    selfChecked: async (event, { transactionId }, check) =>
      ok(
        exchange().query(
          callerOf(event),
          pathParameter(event, "datasetId"),
          () => {
            check();
            return parseJsonBody(event.body);
          },
          transactionId,
        ),
      ),
  },
});

/**
 * Request-based exchange (Art. 7.2a). Its routes are `"signed-in-function"`: the request token
 * is verified here, first, exactly as the request authoriser verifies it for other routes (one
 * Lambda invocation per exchange instead of two); a refusal is the same 401 problem, logged the
 * same way.
 */
export const handler = httpHandler(async (event, context) => {
  // As the authoriser does for other routes, with the same registry cache and replay guard.
  const env = environment();
  authentication ??= authenticationDependencies(env, env.PLATFORM_ISSUER);
  const outcome = await authenticateRequest(event, context.transactionId, authentication);
  if ("refused" in outcome) {
    // As API Gateway answers the authoriser's Deny (its ACCESS_DENIED response).
    throw new ProblemError(401, outcome.refused.slug, "Authentication failed", outcome.refused.message);
  }
  // Where the authoriser's context would be: the routes read their caller from it, as everywhere.
  (event.requestContext as { authorizer?: unknown }).authorizer = outcome.caller;
  return routes(event, context);
});
