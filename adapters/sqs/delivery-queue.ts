import { DeleteMessageCommand, ReceiveMessageCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import type { DeliveryMessage, DeliveryQueue } from "../../domain/delivery/model.ts";
import { messageBody, sendAll, sqsClient } from "./send.ts";

/** Dead letters looked at but left stay hidden this long, so one redrive never sees them twice. */
const LEFT_HIDDEN_SECONDS = 120;

/**
 * The delivery queue on SQS: messages ten to a call, retries as delayed messages (SQS delays at
 * most 15 minutes), dead letters sent to the queue's dead-letter queue, where a crashing
 * deliverer's messages also land by the redrive policy.
 */
export function sqsDeliveryQueue(queueUrl: string, deadLetterUrl = ""): DeliveryQueue {
  const sqs = sqsClient();
  const sendOne = (url: string, message: DeliveryMessage, delaySeconds?: number) =>
    sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: messageBody(message),
        ...(delaySeconds ? { DelaySeconds: Math.min(900, Math.max(0, Math.round(delaySeconds))) } : {}),
      }),
    );
  return {
    send: (messages) => sendAll(queueUrl, messages, "deliveries"),
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
