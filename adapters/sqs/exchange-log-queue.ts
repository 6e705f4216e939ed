import { SendMessageCommand } from "@aws-sdk/client-sqs";
import type { ExchangeLog } from "../../domain/exchange/model.ts";
import { shardOf } from "../../domain/exchange-log/chain.ts";
import { DependencyUnavailableError } from "../../domain/problem.ts";
import { messageBody, sqsClient } from "./send.ts";

/**
 * Seconds a caller is asked to wait when the log's queue refused or could not take an entry
 * (throttled, or unavailable after the SDK's own retries): the exchange answers 503 with it.
 */
export const LOG_RETRY_AFTER_SECONDS = 2;

/**
 * Hands each exchange entry to the log's FIFO queue: grouped by shard so each chain is appended
 * in order by one writer, deduplicated by transaction id so a retried send is logged once. The
 * exchange answers only once its entry is durably queued; if the log is unavailable, it fails.
 */
export function queuedExchangeLog(queueUrl: string, shards: number): ExchangeLog {
  const sqs = sqsClient();
  return async (entry) => {
    try {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: messageBody(entry),
          MessageGroupId: `shard-${shardOf(entry.transactionId, shards)}`,
          MessageDeduplicationId: entry.transactionId,
        }),
      );
    } catch (error) {
      throw new DependencyUnavailableError("the exchange log is unavailable; the exchange was not completed", {
        cause: error,
        retryAfterSeconds: LOG_RETRY_AFTER_SECONDS,
      });
    }
  };
}
