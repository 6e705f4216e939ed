import {
  DeleteMessageCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { groupsOf } from "../../domain/batching.ts";
import type { DeliveryMessage, DeliveryQueue } from "../../domain/delivery/model.ts";

let client: SQSClient | undefined;

/** SQS takes at most 1 MiB per call: sends stay well below it. */
const CALL_BYTES = 900_000;
/** Dead letters looked at but left stay hidden this long, so one redrive never sees them twice. */
const LEFT_HIDDEN_SECONDS = 120;

/**
 * The delivery queue on SQS: messages ten to a call, retries as delayed messages (SQS delays at
 * most 15 minutes), dead letters sent to the queue's dead-letter queue, where a crashing
 * deliverer's messages also land by the redrive policy.
 */
export function sqsDeliveryQueue(queueUrl: string, deadLetterUrl = ""): DeliveryQueue {
  client ??= new SQSClient({});
  const sqs = client;
  const sendOne = (url: string, message: DeliveryMessage, delaySeconds?: number) =>
    sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: JSON.stringify(message),
        ...(delaySeconds ? { DelaySeconds: Math.min(900, Math.max(0, Math.round(delaySeconds))) } : {}),
      }),
    );
  return {
    async send(messages) {
      for (const group of groupsOf(messages, 10, CALL_BYTES)) {
        let pending = group.map((message, index) => ({ Id: `m${index}`, MessageBody: JSON.stringify(message) }));
        for (let attempt = 0; pending.length > 0; attempt++) {
          if (attempt >= 5) throw new Error(`${pending.length} deliveries could not be queued`);
          const { Failed = [] } = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
          const failed = new Set(Failed.map((entry) => entry.Id));
          pending = pending.filter((entry) => failed.has(entry.Id));
        }
      }
    },
    async retry(message, delaySeconds) {
      await sendOne(queueUrl, message, delaySeconds);
    },
    async deadLetter(message) {
      if (!deadLetterUrl) throw new Error("this function only queues deliveries");
      await sendOne(deadLetterUrl, message);
    },
    async redrive(max, prepare) {
      if (!deadLetterUrl) throw new Error("this function only queues deliveries");
      const moved: DeliveryMessage[] = [];
      let seen = 0;
      while (seen < max) {
        const { Messages = [] } = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: deadLetterUrl,
            MaxNumberOfMessages: Math.min(10, max - seen),
            VisibilityTimeout: LEFT_HIDDEN_SECONDS,
            WaitTimeSeconds: 0,
          }),
        );
        if (Messages.length === 0) break;
        for (const received of Messages) {
          seen++;
          const again = await prepare(JSON.parse(received.Body ?? "{}") as DeliveryMessage);
          if (!again) continue;
          await sendOne(queueUrl, again);
          await sqs.send(new DeleteMessageCommand({ QueueUrl: deadLetterUrl, ReceiptHandle: received.ReceiptHandle }));
          moved.push(again);
        }
      }
      return moved;
    },
  };
}
