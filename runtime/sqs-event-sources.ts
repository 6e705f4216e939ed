import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { LambdaHost } from "./lambda-host.ts";

/** An SQS → Lambda event source mapping as the template declares it, resolved. */
export interface SqsEventSource {
  readonly logicalId: string;
  readonly queueArn: string;
  readonly queueUrl: string;
  readonly functionName: string;
  readonly batchSize: number;
  readonly batchingWindowSeconds: number;
  readonly reportBatchItemFailures: boolean;
  /** Pollers running at once (the mapping's maximum concurrency, at most 4 locally). */
  readonly concurrency: number;
  readonly enabled: boolean;
}

export interface PollerOptions {
  readonly sqs: SQSClient;
  readonly lambdas: LambdaHost;
  readonly region: string;
  readonly warn: (message: string) => void;
}

/**
 * Polls each queue as Lambda's event source mapping does: receives up to the batch size,
 * invokes the function, deletes what succeeded (all of the batch, or all but the reported
 * `batchItemFailures`), and leaves the rest to reappear after the visibility timeout, so the
 * queue's redrive policy moves poison messages to the dead-letter queue.
 */
export function startSqsPollers(sources: readonly SqsEventSource[], options: PollerOptions): { stop(): Promise<void> } {
  const controller = new AbortController();
  const loops: Promise<void>[] = [];
  for (const source of sources.filter((candidate) => candidate.enabled)) {
    for (let index = 0; index < source.concurrency; index++) loops.push(poll(source, options, controller.signal));
  }
  return {
    async stop() {
      controller.abort();
      await Promise.allSettled(loops);
    },
  };
}

async function poll(source: SqsEventSource, options: PollerOptions, signal: AbortSignal): Promise<void> {
  while (!signal.aborted) {
    try {
      const messages = await receiveBatch(source, options.sqs, signal);
      if (messages.length === 0 || signal.aborted) continue;
      const failed = await deliver(source, messages, options);
      const done = messages.filter((message) => !failed.has(message.MessageId ?? ""));
      // DeleteMessageBatch takes at most ten entries; batches may be larger.
      for (let start = 0; start < done.length; start += 10) {
        const chunk = done.slice(start, start + 10);
        const { Failed = [] } = await options.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: source.queueUrl,
            Entries: chunk.map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle })),
          }),
        );
        for (const failure of Failed) {
          options.warn(`event source ${source.logicalId}: could not delete a processed message (${failure.Code})`);
        }
      }
    } catch (error) {
      if (signal.aborted) return;
      options.warn(`event source ${source.logicalId}: ${(error as Error).message}`);
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

async function receiveBatch(source: SqsEventSource, sqs: SQSClient, signal: AbortSignal): Promise<Message[]> {
  const batch: Message[] = [];
  const windowEnds = Date.now() + source.batchingWindowSeconds * 1000;
  do {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: source.queueUrl,
        MaxNumberOfMessages: Math.min(10, source.batchSize - batch.length),
        // Long-poll briefly while empty (so stop() is prompt); within a batching window,
        // wait for what remains of it instead of spinning.
        WaitTimeSeconds:
          batch.length === 0 ? 1 : Math.min(20, Math.max(0, Math.ceil((windowEnds - Date.now()) / 1000))),
        MessageSystemAttributeNames: ["All"],
        MessageAttributeNames: ["All"],
      }),
      { abortSignal: signal },
    );
    batch.push(...Messages);
    if (Messages.length === 0 && Date.now() >= windowEnds) break;
  } while (batch.length > 0 && batch.length < source.batchSize && Date.now() < windowEnds);
  return batch;
}

/** Invokes the function with one batch; returns the ids of the messages to keep. */
async function deliver(source: SqsEventSource, messages: Message[], options: PollerOptions): Promise<Set<string>> {
  const event = {
    Records: messages.map((message) => ({
      messageId: message.MessageId,
      receiptHandle: message.ReceiptHandle,
      body: message.Body ?? "",
      attributes: message.Attributes ?? {},
      messageAttributes: Object.fromEntries(
        Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
          name,
          {
            stringValue: value.StringValue,
            binaryValue: value.BinaryValue ? Buffer.from(value.BinaryValue).toString("base64") : undefined,
            stringListValues: [],
            binaryListValues: [],
            dataType: value.DataType,
          },
        ]),
      ),
      md5OfBody: message.MD5OfBody,
      eventSource: "aws:sqs",
      eventSourceARN: source.queueArn,
      awsRegion: options.region,
    })),
  };
  const everything = new Set(messages.map((message) => message.MessageId ?? ""));
  let result: unknown;
  try {
    result = await options.lambdas.invoke(source.functionName, event);
  } catch {
    return everything;
  }
  if (!source.reportBatchItemFailures) return new Set();
  const failures = (result as { batchItemFailures?: { itemIdentifier?: string }[] } | null)?.batchItemFailures;
  if (!Array.isArray(failures)) return new Set();
  const ids = failures.map((failure) => failure?.itemIdentifier);
  // Lambda treats a failure it cannot match to the batch as a failure of the whole batch.
  if (ids.some((id) => !id || !everything.has(id))) return everything;
  return new Set(ids as string[]);
}
