import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoExchangeLogStore } from "../../adapters/dynamodb/exchange-log-store.ts";
import { exchangeEntryMessage } from "../../adapters/sqs/exchange-entry-message.ts";
import type { ExchangeEntry } from "../../domain/exchange/model.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { logger } from "../shared/observability.ts";
import { sqsBatchHandler } from "../shared/sqs-batch.ts";
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
 * Appends queued exchange entries to their shard's hash chain, in queue order, one entry at a
 * time. The queue is FIFO, one message group per shard: an entry that fails fails its shard's
 * later entries in the batch too, unprocessed, so each chain is still appended in queue order on
 * the retry; other shards go on. An entry already in its chain (a retry) is not appended twice.
 */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(
    sqsBatchHandler(
      exchangeEntryMessage,
      async (entry, record) => {
        store ??= new DynamoExchangeLogStore(dynamoDbClient(), environment().LOG_TABLE_NAME);
        const shard = Number((record.attributes.MessageGroupId ?? "shard-0").replace(/^shard-/, ""));
        const appended = await store.append(shard, [entry]);
        await markConnections([entry]);
        logger.info("log entry appended", { shard, transactionId: entry.transactionId, appended: appended.length });
      },
      { failure: "log append failed; the entry and its shard's later ones will be retried", order: "fifo" },
    ),
  );
