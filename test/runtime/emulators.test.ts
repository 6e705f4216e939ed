import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Emulators, startEmulators } from "../../runtime/emulators.ts";
import { temporaryDir } from "./helpers.ts";

let emulators: Emulators;
let sqs: SQSClient;
let queueUrl: string;

beforeAll(async () => {
  emulators = await startEmulators({ dataDir: temporaryDir("emulators"), region: "us-east-1" });
  sqs = new SQSClient({
    endpoint: emulators.sqs,
    region: "us-east-1",
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
  });
  ({ QueueUrl: queueUrl = "" } = await sqs.send(new CreateQueueCommand({ QueueName: "text" })));
});

afterAll(async () => {
  sqs?.destroy();
  await emulators?.stop();
});

const receiveAll = async (count: number): Promise<string[]> => {
  const bodies: string[] = [];
  while (bodies.length < count) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    bodies.push(...Messages.map((message) => String(message.Body)));
  }
  return bodies;
};

describe("the local SQS emulator", () => {
  it("carries characters beyond the Basic Multilingual Plane as real SQS does, alone and in batches", async () => {
    const text = '{"purpose":"Kiểm tra cư trú 🏠 cho học sinh 👩‍🎓","note":"𠀀 and \\t tabs"}';

    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: text }));
    const batch = await sqs.send(
      new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: [{ Id: "a", MessageBody: `${text} 🚀` }] }),
    );

    expect(batch.Failed ?? []).toEqual([]);
    expect((await receiveAll(2)).sort()).toEqual([text, `${text} 🚀`].sort());
  });

  it("still refuses what SQS refuses: control characters", async () => {
    await expect(sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "bell \u0007" }))).rejects.toThrow(
      /Invalid characters/,
    );
  });

  it("receives a FIFO queue's messages as SQS does: as many of one group as it can, in order, then of the next", async () => {
    const { QueueUrl: fifo = "" } = await sqs.send(
      new CreateQueueCommand({ QueueName: "groups.fifo", Attributes: { FifoQueue: "true" } }),
    );
    // Interleaved: a1 b1 a2 b2 … a5, then c1 c2.
    const sends = ["a1", "b1", "a2", "b2", "a3", "b3", "a4", "a5", "c1", "c2"];
    for (const body of sends) {
      await sqs.send(
        new SendMessageCommand({
          QueueUrl: fifo,
          MessageBody: body,
          MessageGroupId: body.slice(0, 1),
          MessageDeduplicationId: body,
        }),
      );
    }
    const receive = async (max: number) =>
      (await sqs.send(new ReceiveMessageCommand({ QueueUrl: fifo, MaxNumberOfMessages: max }))).Messages ?? [];

    const first = await receive(4);
    const second = await receive(10);
    // Every group holding messages in flight is locked: nothing more until they are deleted.
    const third = await receive(10);
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: fifo,
        Entries: [...first, ...second].map((message, index) => ({
          Id: String(index),
          ReceiptHandle: String(message.ReceiptHandle),
        })),
      }),
    );
    const fourth = await receive(10);

    expect(first.map((message) => message.Body)).toEqual(["a1", "a2", "a3", "a4"]);
    expect(second.map((message) => message.Body)).toEqual(["b1", "b2", "b3", "c1", "c2"]);
    expect(third).toEqual([]);
    expect(fourth.map((message) => message.Body)).toEqual(["a5"]);
  });
});
