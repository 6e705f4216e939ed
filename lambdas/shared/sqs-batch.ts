import {
  BatchProcessor,
  EventType,
  processPartialResponse,
  SqsFifoPartialProcessorAsync,
} from "@aws-lambda-powertools/batch";
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from "aws-lambda";
import type * as z from "zod/mini";
import { logger } from "./observability.ts";

/** A message whose body is not JSON or not what its queue carries. */
export class MalformedMessageError extends Error {
  override readonly name = "MalformedMessageError";
}

/** Parses a message body as JSON and checks it against its queue's message schema. */
export function parseMessage<S extends z.ZodMiniType>(body: string, schema: S): z.output<S> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new MalformedMessageError("the message body is not JSON", { cause: error });
  }
  const result = schema.safeParse(json);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join(".") || "(body)"}: ${issue.message}`);
    throw new MalformedMessageError(`the message body is not what its queue carries: ${problems.join("; ")}`, {
      cause: result.error,
    });
  }
  return result.data;
}

export interface SqsBatchOptions {
  /** What the log says when a message fails, e.g. "a chunk could not be applied". */
  readonly failure: string;
  /**
   * Order of processing. `sequential` (the default): one message after another. `parallel`: all
   * at once. `fifo`: in order, and a message that fails fails the later messages of its message
   * group too (they stay queued, in order, for the retry) while other groups go on.
   */
  readonly order?: "sequential" | "parallel" | "fifo";
}

/**
 * An SQS handler on Powertools' batch processing: each message's body parsed against `schema`
 * and handed to `handle`; a message that fails (malformed or thrown) is logged and reported in
 * `batchItemFailures`, so that SQS retries it alone and, in the end, dead-letters it, while the
 * others of the batch are done. A batch where every message fails is reported the same way, not
 * thrown, so a failing batch is one failure per message in the log, not a function error.
 */
export function sqsBatchHandler<S extends z.ZodMiniType>(
  schema: S,
  handle: (message: z.output<S>, record: SQSRecord) => Promise<void>,
  options: SqsBatchOptions,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  const order = options.order ?? "sequential";
  const recordHandler = async (record: SQSRecord): Promise<void> => {
    try {
      await handle(parseMessage(record.body, schema), record);
    } catch (error) {
      logger.error(options.failure, { messageId: record.messageId, error: error as Error });
      throw error;
    }
  };
  if (order === "fifo") {
    const processor = new SqsFifoPartialProcessorAsync();
    return (event, context) =>
      processPartialResponse(event, recordHandler, processor, {
        context,
        skipGroupOnError: true,
        throwOnFullBatchFailure: false,
      });
  }
  const processor = new BatchProcessor(EventType.SQS);
  return (event, context) =>
    processPartialResponse(event, recordHandler, processor, {
      context,
      processInParallel: order === "parallel",
      throwOnFullBatchFailure: false,
    });
}

/** Thrown by a group handler when the group's messages before `failedFrom` were done and the rest were not. */
export class GroupFailure extends Error {
  override readonly name = "GroupFailure";
  constructor(
    readonly failedFrom: number,
    options?: ErrorOptions,
  ) {
    super(`the group's messages from position ${failedFrom} failed`, options);
  }
}

/**
 * An SQS FIFO handler that hands each message group's messages of the batch, in order and
 * parsed against `schema`, to `handle` at once (e.g. to write them together). A malformed
 * message ends its group there: the messages before it are handled. When `handle` throws, the
 * whole group failed, or, with a {@link GroupFailure}, its messages from `failedFrom` on. Failed
 * messages and every later one of their group are reported in `batchItemFailures`, so they stay
 * queued, in order, for the retry, while other groups go on.
 */
export function sqsGroupBatchHandler<S extends z.ZodMiniType>(
  schema: S,
  handle: (
    messages: ReadonlyArray<{ readonly message: z.output<S>; readonly record: SQSRecord }>,
    group: string,
  ) => Promise<void>,
  options: Pick<SqsBatchOptions, "failure">,
): (event: SQSEvent, context: Context) => Promise<SQSBatchResponse> {
  return async (event) => {
    const groups = new Map<string, SQSRecord[]>();
    for (const record of event.Records) {
      const group = record.attributes.MessageGroupId ?? "";
      groups.set(group, [...(groups.get(group) ?? []), record]);
    }
    const failed: SQSRecord[] = [];
    for (const [group, records] of groups) {
      const messages: Array<{ message: z.output<S>; record: SQSRecord }> = [];
      let failedFrom = records.length;
      for (const [index, record] of records.entries()) {
        try {
          messages.push({ message: parseMessage(record.body, schema), record });
        } catch (error) {
          logger.error(options.failure, { messageId: record.messageId, error: error as Error });
          failedFrom = index;
          break;
        }
      }
      if (messages.length > 0) {
        try {
          await handle(messages, group);
        } catch (error) {
          const from = error instanceof GroupFailure ? error.failedFrom : 0;
          const cause = error instanceof GroupFailure && error.cause instanceof Error ? error.cause : (error as Error);
          logger.error(options.failure, { messageId: records[from]?.messageId, error: cause });
          failedFrom = Math.min(failedFrom, from);
        }
      }
      failed.push(...records.slice(failedFrom));
    }
    return { batchItemFailures: failed.map((record) => ({ itemIdentifier: record.messageId })) };
  };
}
