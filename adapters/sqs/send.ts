import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import { groupsOf } from "../../domain/batching.ts";

let client: SQSClient | undefined;

/** The SQS client of this execution environment, made on first use. */
export function sqsClient(): SQSClient {
  client ??= new SQSClient({});
  return client;
}

/** SQS takes at most 1 MiB per call: sends stay well below it. */
const CALL_BYTES = 900_000;

/**
 * Sends messages as JSON, ten (and under 1 MiB) to a call, sending again what SQS refuses; after
 * five tries, throws naming `what` was not queued.
 */
export async function sendAll(
  queueUrl: string,
  messages: readonly unknown[],
  what: string,
  delaySeconds?: number,
): Promise<void> {
  const sqs = sqsClient();
  for (const group of groupsOf(messages, 10, CALL_BYTES)) {
    let pending = group.map((message, index) => ({
      Id: `m${index}`,
      MessageBody: JSON.stringify(message),
      ...(delaySeconds ? { DelaySeconds: Math.min(900, Math.round(delaySeconds)) } : {}),
    }));
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt >= 5) throw new Error(`${pending.length} ${what} could not be queued`);
      const { Failed = [] } = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
      const failed = new Set(Failed.map((entry) => entry.Id));
      pending = pending.filter((entry) => failed.has(entry.Id));
    }
  }
}
