import type { Context, SQSRecord } from "aws-lambda";
import { describe, expect, it } from "vitest";
import * as z from "zod/mini";
import {
  GroupFailure,
  MalformedMessageError,
  parseMessage,
  sqsBatchHandler,
  sqsGroupBatchHandler,
} from "../../../lambdas/shared/sqs-batch.ts";

const work = z.object({ n: z.number() });
const context = { functionName: "test", getRemainingTimeInMillis: () => 10_000 } as unknown as Context;

function record(messageId: string, body: string, group?: string): SQSRecord {
  return {
    messageId,
    receiptHandle: `r-${messageId}`,
    body,
    attributes: (group ? { MessageGroupId: group } : {}) as SQSRecord["attributes"],
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:work",
    awsRegion: "us-east-1",
  };
}

/** A handler that remembers what it was given and fails on the numbers in `failing`. */
function recorder(failing: readonly number[] = []) {
  const seen: number[] = [];
  const handle = async ({ n }: { n: number }) => {
    seen.push(n);
    if (failing.includes(n)) throw new Error(`message ${n} failed`);
  };
  return { seen, handle };
}

describe("parseMessage", () => {
  it("returns the body parsed against its schema", () => {
    expect(parseMessage('{"n":3}', work)).toEqual({ n: 3 });
  });

  it("refuses a body that is not JSON", () => {
    expect(() => parseMessage("{n:3", work)).toThrow(MalformedMessageError);
  });

  it("refuses a body that is not what the queue carries, naming the field", () => {
    expect(() => parseMessage('{"n":"three"}', work)).toThrow(/n: /);
  });
});

describe("sqsBatchHandler", () => {
  it("reports nothing when every message is handled", async () => {
    const { seen, handle } = recorder();
    const handler = sqsBatchHandler(work, handle, { failure: "failed" });

    const response = await handler({ Records: [record("a", '{"n":1}'), record("b", '{"n":2}')] }, context);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(seen).toEqual([1, 2]);
  });

  it("reports only the messages that failed or were malformed", async () => {
    const { seen, handle } = recorder([2]);
    const handler = sqsBatchHandler(work, handle, { failure: "failed", order: "parallel" });

    const response = await handler(
      { Records: [record("a", '{"n":1}'), record("b", '{"n":2}'), record("c", "not json"), record("d", '{"n":4}')] },
      context,
    );

    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(["b", "c"]);
    expect(seen.sort()).toEqual([1, 2, 4]);
  });

  it("reports a batch where every message fails instead of throwing", async () => {
    const { handle } = recorder([1, 2]);
    const handler = sqsBatchHandler(work, handle, { failure: "failed" });

    const response = await handler({ Records: [record("a", '{"n":1}'), record("b", '{"n":2}')] }, context);

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "a" }, { itemIdentifier: "b" }]);
  });

  it("in FIFO order, fails a group's later messages unprocessed after its first failure while other groups go on", async () => {
    const { seen, handle } = recorder([2]);
    const handler = sqsBatchHandler(work, handle, { failure: "failed", order: "fifo" });

    const response = await handler(
      {
        Records: [
          record("a1", '{"n":1}', "shard-1"),
          record("a2", '{"n":2}', "shard-1"),
          record("b1", '{"n":10}', "shard-2"),
          record("a3", '{"n":3}', "shard-1"),
          record("b2", '{"n":11}', "shard-2"),
        ],
      },
      context,
    );

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "a2" }, { itemIdentifier: "a3" }]);
    expect(seen).toEqual([1, 2, 10, 11]);
  });

  it("in FIFO order, keeps a malformed message's later group messages for the retry", async () => {
    const { seen, handle } = recorder();
    const handler = sqsBatchHandler(work, handle, { failure: "failed", order: "fifo" });

    const response = await handler(
      { Records: [record("a1", '{"n":"one"}', "shard-1"), record("a2", '{"n":2}', "shard-1")] },
      context,
    );

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "a1" }, { itemIdentifier: "a2" }]);
    expect(seen).toEqual([]);
  });
});

describe("sqsGroupBatchHandler", () => {
  const batch = {
    Records: [
      record("a1", '{"n":1}', "shard-a"),
      record("b1", '{"n":10}', "shard-b"),
      record("a2", '{"n":2}', "shard-a"),
      record("a3", '{"n":3}', "shard-a"),
      record("b2", '{"n":11}', "shard-b"),
    ],
  };

  it("hands each group's messages to the handler at once, in queue order", async () => {
    const calls: Array<[string, number[]]> = [];
    const handler = sqsGroupBatchHandler(
      work,
      async (messages, group) => void calls.push([group, messages.map(({ message }) => message.n)]),
      { failure: "failed" },
    );

    const response = await handler(batch, context);

    expect(response).toEqual({ batchItemFailures: [] });
    expect(calls).toEqual([
      ["shard-a", [1, 2, 3]],
      ["shard-b", [10, 11]],
    ]);
  });

  it("fails a group's messages from the one its handler names, and only that group's", async () => {
    const handler = sqsGroupBatchHandler(
      work,
      async (messages, group) => {
        if (group === "shard-a") throw new GroupFailure(1, { cause: new Error(`message ${messages[1]?.message.n}`) });
      },
      { failure: "failed" },
    );

    const response = await handler(batch, context);

    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(["a2", "a3"]);
  });

  it("fails the whole group when its handler throws anything else", async () => {
    const handler = sqsGroupBatchHandler(
      work,
      async (_messages, group) => {
        if (group === "shard-b") throw new Error("unavailable");
      },
      { failure: "failed" },
    );

    const response = await handler(batch, context);

    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(["b1", "b2"]);
  });

  it("handles a group's messages before a malformed one and fails it and the later ones", async () => {
    const calls: number[][] = [];
    const handler = sqsGroupBatchHandler(
      work,
      async (messages) => void calls.push(messages.map(({ message }) => message.n)),
      { failure: "failed" },
    );

    const response = await handler(
      {
        Records: [
          record("a1", '{"n":1}', "shard-a"),
          record("a2", "{not json", "shard-a"),
          record("a3", '{"n":3}', "shard-a"),
          record("b1", '{"n":10}', "shard-b"),
        ],
      },
      context,
    );

    expect(calls).toEqual([[1], [10]]);
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier)).toEqual(["a2", "a3"]);
  });
});
