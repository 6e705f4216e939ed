import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { CreateQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AwsCallCounter, callsBetween } from "../../runtime/aws-calls.ts";
import { type Emulators, startEmulators } from "../../runtime/emulators.ts";
import { temporaryDir } from "./helpers.ts";

const calls = new AwsCallCounter();
let emulators: Emulators;
const credentials = { accessKeyId: "test", secretAccessKey: "test" };
const region = "us-east-1";

beforeAll(async () => {
  emulators = await startEmulators({ dataDir: temporaryDir("aws-calls"), region, calls });
});

afterAll(async () => {
  await emulators?.stop();
});

describe("the emulators' call counter", () => {
  it("counts each request by caller and service:Operation, the caller named by the SDK's application id", async () => {
    const dynamodb = new DynamoDBClient({ endpoint: emulators.dynamodb, region, credentials, userAgentAppId: "Fn1" });
    const sqs = new SQSClient({ endpoint: emulators.sqs, region, credentials, userAgentAppId: "Fn1" });
    const s3 = new S3Client({ endpoint: emulators.s3, region, credentials, forcePathStyle: true });
    try {
      await dynamodb.send(
        new CreateTableCommand({
          TableName: "counted",
          KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
          AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
          BillingMode: "PAY_PER_REQUEST",
        }),
      );
      const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: "counted" }));
      await s3.send(new CreateBucketCommand({ Bucket: "counted" }));
      const before = calls.snapshot();

      await dynamodb.send(new PutItemCommand({ TableName: "counted", Item: { pk: { S: "a" } } }));
      await dynamodb.send(new GetItemCommand({ TableName: "counted", Key: { pk: { S: "a" } } }));
      await dynamodb.send(new GetItemCommand({ TableName: "counted", Key: { pk: { S: "b" } } }));
      await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: "one" }));
      await s3.send(new PutObjectCommand({ Bucket: "counted", Key: "a/b.json", Body: "{}" }));
      await (await s3.send(new GetObjectCommand({ Bucket: "counted", Key: "a/b.json" }))).Body?.transformToString();

      expect(callsBetween(before, calls.snapshot())).toEqual({
        Fn1: {
          "dynamodb:PutItem": 1,
          "dynamodb:WriteRequestUnits": 1,
          "dynamodb:GetItem": 2,
          // Two eventually consistent reads of small items: half a unit each.
          "dynamodb:ReadRequestUnits": 1,
          "sqs:SendMessage": 1,
        },
        runtime: { "s3:PutObject": 1, "s3:GetObject": 1 },
      });
    } finally {
      dynamodb.destroy();
      sqs.destroy();
      s3.destroy();
    }
  });
});
