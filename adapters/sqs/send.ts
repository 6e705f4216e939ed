import { SendMessageBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { groupsOf } from "../../domain/batching.ts";
import { LeanSQSClient } from "../aws/lean-sqs.ts";

let client: SQSClient | undefined;

/** The SQS client of this execution environment, made on first use; its sends skip the SDK's per-call machinery. */
export function sqsClient(): SQSClient {
  client ??= new LeanSQSClient({});
  return client;
}

/**
 * A message as the JSON text SQS carries. SQS takes only #x9, #xA, #xD, #x20-#xD7FF, #xE000-#xFFFD
 * and #x10000-#x10FFFF and refuses the whole message otherwise. JSON.stringify already escapes
 * control characters and lone surrogates; the noncharacters U+FFFE and U+FFFF, which it leaves
 * as they are, can only stand inside a JSON string, where their escape means the same text: a
 * record, a purpose or a key holding one is carried like any other instead of failing its send.
 */
export function messageBody(message: unknown): string {
  return JSON.stringify(message).replace(
    /[\uFFFE\uFFFF]/g,
    (character) => `\\u${character.charCodeAt(0).toString(16)}`,
  );
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
      MessageBody: messageBody(message),
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
