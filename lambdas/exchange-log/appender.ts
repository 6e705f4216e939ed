import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoExchangeLogStore } from "../../adapters/dynamodb/exchange-log-store.ts";
import type { ExchangeEntry } from "../../domain/exchange/model.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { logger } from "../shared/observability.ts";
import { exchangeLogEnvironment } from "./environment.ts";

const environment = lazyEnvironment(exchangeLogEnvironment);
let store: DynamoExchangeLogStore | undefined;
/** Datasets this environment has already recorded as connected: one write per dataset, not per entry. */
const connected = new Set<string>();

/** Records the first allowed exchange of each dataset not yet known here as connected. */
async function markConnections(entries: readonly ExchangeEntry[]): Promise<void> {
  for (const entry of entries) {
    if (entry.outcome !== "allowed" || connected.has(entry.datasetId)) continue;
    await (store as DynamoExchangeLogStore).markConnected(entry.datasetId, entry.time);
    connected.add(entry.datasetId);
  }
}

/**
 * Appends queued exchange entries to their shard's hash chain. A shard that fails keeps its
 * messages (and, FIFO, everything after them in that shard) for the retry; other shards go on.
 */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(async (event) => {
    store ??= new DynamoExchangeLogStore(dynamoDbClient(), environment().LOG_TABLE_NAME);
    const groups = new Map<string, SQSRecord[]>();
    for (const record of event.Records) {
      const group = record.attributes.MessageGroupId ?? "shard-0";
      groups.set(group, [...(groups.get(group) ?? []), record]);
    }
    const failed: SQSRecord[] = [];
    for (const [group, records] of groups) {
      const shard = Number(group.replace(/^shard-/, ""));
      try {
        const entries = records.map((record) => JSON.parse(record.body) as ExchangeEntry);
        const appended = await (store as DynamoExchangeLogStore).append(shard, entries);
        await markConnections(entries);
        logger.info("log entries appended", { shard, received: entries.length, appended: appended.length });
      } catch (error) {
        logger.error("log append failed; the shard's batch will be retried", { shard, error: error as Error });
        failed.push(...records);
      }
    }
    return { batchItemFailures: failed.map((record) => ({ itemIdentifier: record.messageId })) };
  });
