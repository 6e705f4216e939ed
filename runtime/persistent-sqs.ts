import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { loadFauxqsModule } from "./persistent-s3-store.ts";

/** The fauxqs SQS store's surface this runtime relies on (fauxqs 1.9.x, pinned). */
interface QueueLike {
  readonly name: string;
  inspectMessages(): { ready: object[]; delayed: object[]; inflight: Array<{ message: object }> };
  enqueue(message: object): void;
}
export interface SqsStoreLike {
  readonly queues: Map<string, QueueLike>;
  getQueueByName(name: string): QueueLike | undefined;
}

/**
 * Writes every queue's messages to `directory`, one file per queue: ready, delayed and in
 * flight alike (in-flight ones come back visible, as if their consumer had died). Message ids,
 * sent times and receive counts are kept, so redrive to a dead-letter queue is unaffected.
 */
export function saveQueuedMessages(store: SqsStoreLike, directory: string): number {
  rmSync(directory, { recursive: true, force: true });
  mkdirSync(directory, { recursive: true });
  let saved = 0;
  for (const queue of store.queues.values()) {
    const { ready, delayed, inflight } = queue.inspectMessages();
    const messages = [...inflight.map((entry) => entry.message), ...ready, ...delayed];
    if (messages.length === 0) continue;
    writeFileSync(join(directory, `${encodeURIComponent(queue.name)}.json`), JSON.stringify(messages));
    saved += messages.length;
  }
  return saved;
}

/** Puts saved messages back into the queues that exist again, then forgets them. */
export function restoreQueuedMessages(store: SqsStoreLike, directory: string): number {
  if (!existsSync(directory)) return 0;
  let restored = 0;
  for (const file of readdirSync(directory)) {
    const queue = store.getQueueByName(decodeURIComponent(file.replace(/\.json$/, "")));
    if (!queue) continue;
    for (const message of JSON.parse(readFileSync(join(directory, file), "utf8")) as Array<Record<string, unknown>>) {
      // Delays were relative to the old process; a restored message is visible at once.
      queue.enqueue({ ...message, delayUntil: undefined });
      restored++;
    }
  }
  rmSync(directory, { recursive: true, force: true });
  return restored;
}

/**
 * What SQS refuses in a message body: characters outside XML 1.0's `Char` production. Real SQS
 * takes #x9, #xA, #xD, #x20–#xD7FF, #xE000–#xFFFD and #x10000–#x10FFFF (emoji included).
 */
export const SQS_INVALID_BODY_CHARACTER = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

/**
 * fauxqs 1.9 checks message bodies one UTF-16 unit at a time, so it refuses every character
 * beyond the Basic Multilingual Plane (a surrogate pair) that real SQS accepts. Its rule is one
 * shared RegExp that SendMessage and SendMessageBatch both test against: recompiled in place to
 * SQS's own rule, bodies stay byte for byte what the functions sent (their MD5s included).
 */
export async function acceptEverySqsCharacter(): Promise<void> {
  const types = await loadFauxqsModule("sqs/sqsTypes.js");
  const rule: unknown = types.INVALID_MESSAGE_BODY_CHAR;
  if (!(rule instanceof RegExp))
    throw new Error("fauxqs no longer exports INVALID_MESSAGE_BODY_CHAR from sqs/sqsTypes.js");
  rule.compile(SQS_INVALID_BODY_CHARACTER.source, SQS_INVALID_BODY_CHARACTER.flags);
}

/** The part of fauxqs's queue class that FIFO receives go through (fauxqs 1.9.x, pinned). */
interface FifoQueueLike {
  fifoMessages: Map<string, object[]>;
  readonly fifoLockedGroups: Map<string, number>;
  readonly inflightMessages: Map<string, { message: { messageGroupId?: string } }>;
  dequeueFifo(maxCount: number, visibilityTimeout?: number, dlqResolver?: unknown): Array<{ ReceiptHandle: string }>;
}

/**
 * fauxqs 1.9 hands out at most one message per message group per FIFO receive; SQS "first
 * attempts to return as many messages with the same message group ID as possible" (in order),
 * and the exchange-log appender, which appends one chain per group, is built for that. Here a
 * receive takes its first group's messages in order, up to the count asked for, then as many of
 * the next group's, and so on. A group with messages in flight stays locked until they are all
 * deleted or visible again, as before.
 */
export async function receiveFifoGroupsLikeSqs(): Promise<void> {
  const { SqsQueue } = (await loadFauxqsModule("sqs/sqsStore.js")) as {
    SqsQueue?: { prototype: FifoQueueLike & { dscpGroupsLikeSqs?: boolean } };
  };
  const prototype = SqsQueue?.prototype;
  if (typeof prototype?.dequeueFifo !== "function") throw new Error("fauxqs no longer has SqsQueue.dequeueFifo");
  if (prototype.dscpGroupsLikeSqs) return;
  const original = prototype.dequeueFifo;
  /** One group's next messages, in order, up to `room`: the first unlocked group with any. */
  const takeGroup = (queue: FifoQueueLike, room: number, visibilityTimeout?: number, dlqResolver?: unknown) => {
    const received = original.call(queue, 1, visibilityTimeout, dlqResolver);
    const [first] = received;
    const group = first && queue.inflightMessages.get(first.ReceiptHandle)?.message.messageGroupId;
    const all = queue.fifoMessages;
    while (group !== undefined && received.length < room && (all.get(group)?.length ?? 0) > 0) {
      // Only this group is offered, unlocked, for one more message; its lock count then grows by one.
      const locks = queue.fifoLockedGroups.get(group) ?? 0;
      queue.fifoLockedGroups.delete(group);
      queue.fifoMessages = new Map([[group, all.get(group) ?? []]]);
      let next: ReturnType<FifoQueueLike["dequeueFifo"]> = [];
      try {
        next = original.call(queue, 1, visibilityTimeout, dlqResolver);
      } finally {
        if (!queue.fifoMessages.has(group)) all.delete(group);
        queue.fifoMessages = all;
        queue.fifoLockedGroups.set(group, locks + (queue.fifoLockedGroups.get(group) ?? 0));
      }
      if (next.length === 0) break;
      received.push(...next);
    }
    return received;
  };
  prototype.dequeueFifo = function (this: FifoQueueLike, maxCount, visibilityTimeout, dlqResolver) {
    const count = Math.min(maxCount, 10);
    const received: ReturnType<FifoQueueLike["dequeueFifo"]> = [];
    while (received.length < count) {
      const taken = takeGroup(this, count - received.length, visibilityTimeout, dlqResolver);
      if (taken.length === 0) break;
      received.push(...taken);
    }
    return received;
  };
  prototype.dscpGroupsLikeSqs = true;
}
