import type { JsonWebKey } from "node:crypto";
import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoExchangeLogStore } from "../../adapters/dynamodb/exchange-log-store.ts";
import { kmsSigner } from "../../adapters/kms/kms-signer.ts";
import { s3LogArchive } from "../../adapters/s3/log-archive.ts";
import { logReaderRoutes } from "../../api/logs.ts";
import {
  type LogVerification,
  publicJwk,
  type VerifiableChain,
  verifyLog,
} from "../../domain/exchange-log/checkpointing.ts";
import { metricsQuery, summarise } from "../../domain/exchange-log/metrics.ts";
import {
  type ExchangeLogStore,
  type LogQueryParameters,
  type LogScope,
  logQuery,
  timeWindow,
} from "../../domain/exchange-log/model.ts";
import { isOverseer } from "../../domain/identity/authorization.ts";
import { allPages } from "../../domain/paging.ts";
import { ForbiddenError } from "../../domain/problem.ts";
import type { Caller } from "../../domain/registry/model.ts";
import { authenticatedCaller } from "../shared/caller.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { httpHandler, ok } from "../shared/http.ts";
import { dispatch, pagination, queryParameters } from "../shared/routes.ts";
import { logVerificationEnvironment } from "./environment.ts";

const environment = lazyEnvironment(logVerificationEnvironment);
let store: ExchangeLogStore | undefined;
const logStore = () => {
  store ??= new DynamoExchangeLogStore(dynamoDbClient(), environment().LOG_TABLE_NAME);
  return store;
};

function scopeOf(caller: Caller, view: LogQueryParameters["view"]): LogScope {
  if (isOverseer(caller) && (view === undefined || view === "all")) return { kind: "all" };
  if (view === "all") throw new ForbiddenError("only the supervisor and the operator read the whole log");
  if (view === "provider") return { kind: "provider", agency: caller.agencyCode };
  return { kind: "consumer", agency: caller.agencyCode };
}

let platformPublicKey: Promise<JsonWebKey & { kid: string }> | undefined;
/** The platform key's public half, fetched from KMS once per environment. */
function platformKey(keyId: string): Promise<JsonWebKey & { kid: string }> {
  platformPublicKey ??= publicJwk(kmsSigner(keyId));
  platformPublicKey.catch(() => {
    platformPublicKey = undefined;
  });
  return platformPublicKey;
}

/**
 * Every shard's chain verified, entry by entry, a page at a time, and against the latest
 * checkpoint in the archive, whose signature is checked with the platform's public key.
 */
export async function verifyEverything(
  store: VerifiableChain,
  settings: { shards: number; archiveBucket: string; platformKeyId: string },
): Promise<LogVerification> {
  return verifyLog({
    table: store,
    archive: s3LogArchive(settings.archiveBucket),
    keys: [await platformKey(settings.platformKeyId)],
    shards: settings.shards,
  });
}

/** The exchange log (Art. 13): scoped reading, and verification of every chain. */
export const handler = httpHandler(
  dispatch(logReaderRoutes, {
    listLogEntries: async (event) => {
      const caller = authenticatedCaller(event);
      const { view, ...filter } = queryParameters(event, logQuery);
      const page = await logStore().query(scopeOf(caller, view), { ...pagination(event), ...timeWindow(filter) });
      return { status: 200, body: page };
    },
    getMetrics: async (event) => {
      const caller = authenticatedCaller(event);
      const { view, datasetId, ...window } = queryParameters(event, metricsQuery);
      const to = window.to ?? new Date().toISOString();
      const from = window.from ?? new Date(Date.parse(to) - 86_400_000).toISOString();
      const scope = scopeOf(caller, view);
      const store = logStore();
      const bounds = timeWindow({ from, to });
      const entries = allPages(
        (page) => store.query(scope, { ...bounds, ...(datasetId ? { datasetId } : {}), ...page }),
        500,
      );
      return ok(summarise(entries, { from, to }));
    },
    verifyLog: async (event) => {
      const caller = authenticatedCaller(event);
      if (!isOverseer(caller)) throw new ForbiddenError("only the supervisor and the operator verify the whole log");
      const { LOG_SHARDS, ARCHIVE_BUCKET_NAME, PLATFORM_KEY_ID } = environment();
      const verification = await verifyEverything(logStore(), {
        shards: Number(LOG_SHARDS),
        archiveBucket: ARCHIVE_BUCKET_NAME,
        platformKeyId: PLATFORM_KEY_ID,
      });
      return { status: 200, body: verification };
    },
  }),
);
