import { SendMessageBatchCommand, SQSClient } from "@aws-sdk/client-sqs";
import type { ChunkQueue } from "../../domain/sync/model.ts";

let client: SQSClient | undefined;

/** Sends a batch's chunks to the sync workers' queue, ten messages per call, retrying what SQS refuses. */
export function sqsChunkQueue(queueUrl: string): ChunkQueue {
  client ??= new SQSClient({});
  const sqs = client;
  return async (chunks, delaySeconds) => {
    for (let start = 0; start < chunks.length; start += 10) {
      let pending = chunks.slice(start, start + 10).map((chunk) => ({
        Id: `c${chunk.chunk}`,
        MessageBody: JSON.stringify(chunk),
        ...(delaySeconds ? { DelaySeconds: Math.min(900, Math.round(delaySeconds)) } : {}),
      }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt >= 5) throw new Error(`${pending.length} chunks of a batch could not be queued`);
        const { Failed = [] } = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
        const failed = new Set(Failed.map((entry) => entry.Id));
        pending = pending.filter((entry) => failed.has(entry.Id));
      }
    }
  };
}
