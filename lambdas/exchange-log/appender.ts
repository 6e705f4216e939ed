import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoExchangeLogStore } from "../../adapters/dynamodb/exchange-log-store.ts";
import { exchangeEntryMessage } from "../../adapters/sqs/exchange-entry-message.ts";
import type { ExchangeEntry } from "../../domain/exchange/model.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { logger } from "../shared/observability.ts";
import { GroupFailure, sqsGroupBatchHandler } from "../shared/sqs-batch.ts";
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
 * Appends queued exchange entries to their shard's hash chain, in queue order. The queue is
 * FIFO, one message group per shard: a shard's messages of the batch are appended together (one
 * head read, their entries, one head update); if that fails, one at a time, and the first entry
 * that fails fails its shard's later entries in the batch too, unprocessed, so each chain is still
 * appended in queue order on the retry; other shards go on. An entry already in its chain (a
 * retry) is not appended twice.
 */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .handler(
    sqsGroupBatchHandler(
      exchangeEntryMessage,
      async (messages, group) => {
        store ??= new DynamoExchangeLogStore(dynamoDbClient(), environment().LOG_TABLE_NAME);
        const shard = Number((group || "shard-0").replace(/^shard-/, ""));
        const entries = messages.map(({ message }) => message);
        try {
          await appendAndMark(shard, entries);
          return;
        } catch (error) {
          logger.warn("log batch append failed; appending its entries one at a time", { shard, error: error as Error });
        }
        for (const [index, entry] of entries.entries()) {
          try {
            await appendAndMark(shard, [entry]);
          } catch (error) {
            throw new GroupFailure(index, { cause: error });
          }
        }
      },
      { failure: "log append failed; the entry and its shard's later ones will be retried" },
    ),
  );

async function appendAndMark(shard: number, entries: readonly ExchangeEntry[]): Promise<void> {
  const appended = await (store as DynamoExchangeLogStore).append(shard, entries);
  await markConnections(entries);
  logger.debug("log entries appended", {
    shard,
    transactionIds: entries.map((entry) => entry.transactionId),
    appended: appended.length,
  });
}
