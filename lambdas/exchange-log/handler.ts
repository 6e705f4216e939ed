import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoExchangeLogStore, type LogScope } from "../../adapters/dynamodb/exchange-log-store.ts";
import { type ShardVerdict, ShardVerifier } from "../../domain/exchange-log/chain.ts";
import { metricsQuery, summarise } from "../../domain/exchange-log/metrics.ts";
import { type LogQueryParameters, logQuery } from "../../domain/exchange-log/model.ts";
import { isOverseer } from "../../domain/identity/authorization.ts";
import { ForbiddenError } from "../../domain/identity/errors.ts";
import { allPages } from "../../domain/paging.ts";
import type { Caller } from "../../domain/registry/model.ts";
import { authenticatedCaller } from "../shared/caller.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { httpHandler } from "../shared/http.ts";
import { dispatch, pagination, queryParameters } from "../shared/routes.ts";
import { exchangeLogEnvironment } from "./environment.ts";

const environment = lazyEnvironment(exchangeLogEnvironment);
let store: DynamoExchangeLogStore | undefined;
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

/** Every shard's chain verified, entry by entry, a page at a time. */
export async function verifyShards(store: DynamoExchangeLogStore, shards: number): Promise<ShardVerdict[]> {
  const verdicts: ShardVerdict[] = [];
  for (let shard = 0; shard < shards; shard++) {
    const verifier = new ShardVerifier(shard, await store.head(shard));
    let after = 0;
    for (;;) {
      const { entries, more } = await store.readShard(shard, after);
      for (const entry of entries) verifier.add(entry);
      if (!more || entries.length === 0) break;
      after = (entries.at(-1) as { seq: number }).seq;
    }
    verdicts.push(verifier.finish());
  }
  return verdicts;
}

/** The exchange log (Art. 13): scoped reading, and verification of every chain. */
export const handler = httpHandler(
  dispatch({
    "GET /v1/logs": async (event) => {
      const caller = authenticatedCaller(event);
      const { view, ...filter } = queryParameters(event, logQuery);
      const page = await logStore().query(scopeOf(caller, view), { ...pagination(event), ...filter });
      return { status: 200, body: page };
    },
    "GET /v1/metrics": async (event) => {
      const caller = authenticatedCaller(event);
      const { view, datasetId, ...window } = queryParameters(event, metricsQuery);
      const to = window.to ?? new Date().toISOString();
      const from = window.from ?? new Date(Date.parse(to) - 86_400_000).toISOString();
      const scope = scopeOf(caller, view);
      const store = logStore();
      const entries = allPages(
        (page) => store.query(scope, { from, to, ...(datasetId ? { datasetId } : {}), ...page }),
        500,
      );
      return { status: 200, body: await summarise(entries, { from, to }) };
    },
    "GET /v1/logs/verify": async (event) => {
      const caller = authenticatedCaller(event);
      if (!isOverseer(caller)) throw new ForbiddenError("only the supervisor and the operator verify the whole log");
      const verdicts = await verifyShards(logStore(), Number(environment().LOG_SHARDS));
      return {
        status: 200,
        body: {
          valid: verdicts.every((verdict) => verdict.valid),
          checkedAt: new Date().toISOString(),
          entries: verdicts.reduce((sum, verdict) => sum + verdict.entries, 0),
          shards: verdicts,
        },
      };
    },
  }),
);
