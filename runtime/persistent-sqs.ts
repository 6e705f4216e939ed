import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

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
