// npm run bench:aws-client — client CPU per call of the request path's DynamoDB and SQS calls,
// through the plain SDK clients and through the lean ones (adapters/aws/), against the local
// emulators run in a child process so that this process's CPU time is the clients' alone.
// Loopback only; bounded call counts. Prints JSON.

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import {
  CreateTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from "@aws-sdk/client-dynamodb";
import { CreateQueueCommand, PurgeQueueCommand, SendMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { LeanDynamoDBClient } from "../adapters/aws/lean-dynamodb.ts";
import { LeanSQSClient } from "../adapters/aws/lean-sqs.ts";
import { startEmulators } from "../runtime/emulators.ts";
import { keyedTableInput } from "../test/unit/dynalite-table.ts";

const WARMUP = Number(process.env.BENCH_WARMUP ?? 500);
const CALLS = Number(process.env.BENCH_CALLS ?? 3000);
const REGION = "us-east-1";
const CREDENTIALS = { accessKeyId: "bench", secretAccessKey: "bench" };
const TABLE = "bench";

if (process.argv[2] === "--emulators") {
  // Child: the emulators, until the parent closes stdin.
  const dataDir = mkdtempSync(join(tmpdir(), "bench-aws-client-"));
  const emulators = await startEmulators({ dataDir, region: REGION });
  process.stdout.write(`${JSON.stringify({ dynamodb: emulators.dynamodb, sqs: emulators.sqs })}\n`);
  process.stdin.resume();
  process.stdin.on("end", async () => {
    await emulators.stop();
    rmSync(dataDir, { recursive: true, force: true });
    process.exit(0);
  });
} else {
  await main();
}

async function startChild(): Promise<{ child: ChildProcess; endpoints: { dynamodb: string; sqs: string } }> {
  const child = spawn(process.execPath, ["--import", "tsx", import.meta.filename, "--emulators"], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
  for await (const line of lines) {
    lines.close();
    return { child, endpoints: JSON.parse(line) as { dynamodb: string; sqs: string } };
  }
  throw new Error("the emulators did not start");
}

/** Client CPU (user + system) per call, in ms, after `WARMUP` unmeasured calls. */
async function cpuPerCall(call: (index: number) => Promise<unknown>): Promise<number> {
  for (let index = 0; index < WARMUP; index++) await call(index);
  const before = process.cpuUsage();
  for (let index = 0; index < CALLS; index++) await call(WARMUP + index);
  const used = process.cpuUsage(before);
  return Number(((used.user + used.system) / 1000 / CALLS).toFixed(4));
}

async function main(): Promise<void> {
  const { child, endpoints } = await startChild();
  const dynamoConfig = { endpoint: endpoints.dynamodb, region: REGION, credentials: CREDENTIALS };
  const sqsConfig = { endpoint: endpoints.sqs, region: REGION, credentials: CREDENTIALS };
  const clients = {
    sdk: { dynamodb: new DynamoDBClient(dynamoConfig), sqs: new SQSClient(sqsConfig) },
    lean: { dynamodb: new LeanDynamoDBClient(dynamoConfig), sqs: new LeanSQSClient(sqsConfig) },
  };
  await clients.sdk.dynamodb.send(new CreateTableCommand(keyedTableInput(TABLE)));
  const { QueueUrl: queueUrl } = await clients.sdk.sqs.send(new CreateQueueCommand({ QueueName: "bench" }));
  // An item about the size of an exchange-log entry.
  const item = (pk: string, sk: string) => ({
    pk: { S: pk },
    sk: { S: sk },
    consumer: { S: "agency-consumer-0001" },
    provider: { S: "agency-provider-0002" },
    dataset: { S: "residence" },
    purpose: { S: "Kiểm tra cư trú cho học sinh" },
    outcome: { S: "allowed" },
    latencyMs: { N: "23" },
    hash: { S: "a".repeat(64) },
  });
  for (let index = 0; index < 10; index++)
    await clients.sdk.dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: item("query", String(index)) }));

  const results: Record<string, { sdkCpuMsPerCall: number; leanCpuMsPerCall: number }> = {};
  const measure = async (operation: string, call: (kind: "sdk" | "lean", index: number) => Promise<unknown>) => {
    const sdkCpuMsPerCall = await cpuPerCall((index) => call("sdk", index));
    const leanCpuMsPerCall = await cpuPerCall((index) => call("lean", index));
    results[operation] = { sdkCpuMsPerCall, leanCpuMsPerCall };
  };
  await measure("dynamodb:PutItem", (kind, index) =>
    clients[kind].dynamodb.send(new PutItemCommand({ TableName: TABLE, Item: item(`put-${kind}`, String(index)) })),
  );
  await measure("dynamodb:GetItem", (kind, index) =>
    clients[kind].dynamodb.send(
      new GetItemCommand({ TableName: TABLE, Key: { pk: { S: `put-${kind}` }, sk: { S: String(index % 100) } } }),
    ),
  );
  await measure("dynamodb:Query", (kind) =>
    clients[kind].dynamodb.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": { S: "query" } },
        Limit: 1,
        ScanIndexForward: false,
      }),
    ),
  );
  await measure("sqs:SendMessage", (kind, index) =>
    clients[kind].sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: JSON.stringify({ ...item("message", String(index)) }),
      }),
    ),
  );
  await clients.sdk.sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));

  process.stdout.write(`${JSON.stringify({ warmup: WARMUP, calls: CALLS, ...results }, null, 2)}\n`);
  for (const kind of ["sdk", "lean"] as const) {
    clients[kind].dynamodb.destroy();
    clients[kind].sqs.destroy();
  }
  child.stdin?.end();
  await new Promise((resolve) => child.once("exit", resolve));
}
