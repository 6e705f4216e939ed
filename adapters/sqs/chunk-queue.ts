import type { ChunkQueue } from "../../domain/sync/model.ts";
import { sendAll } from "./send.ts";

/** Sends a batch's chunks to the sync workers' queue, retrying what SQS refuses. */
export function sqsChunkQueue(queueUrl: string): ChunkQueue {
  return (chunks, delaySeconds) => sendAll(queueUrl, chunks, "chunks of a batch", delaySeconds);
}
