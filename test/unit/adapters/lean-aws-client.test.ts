import { mkdtempSync, rmSync } from "node:fs";
import http, { type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AttributeValue,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  ConditionalCheckFailedException,
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  DynamoDBServiceException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ResourceNotFoundException,
  ThrottlingException,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import * as sqsModule from "@aws-sdk/client-sqs";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  QueueDoesNotExist,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LeanDynamoDBClient } from "../../../adapters/aws/lean-dynamodb.ts";
import { LeanSQSClient, SQS_QUERY_ERRORS } from "../../../adapters/aws/lean-sqs.ts";
import { awsCaller } from "../../../runtime/aws-calls.ts";
import { type Emulators, startEmulators } from "../../../runtime/emulators.ts";
import { keyedTableInput } from "../dynalite-table.ts";

const REGION = "us-east-1";
const CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" };
const TABLE = "lean";

let dataDir: string;
let emulators: Emulators;
let sdkDynamo: DynamoDBClient;
let leanDynamo: LeanDynamoDBClient;
let sdkSqs: SQSClient;
let leanSqs: LeanSQSClient;
let queueUrl: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "lean-aws-"));
  emulators = await startEmulators({ dataDir, region: REGION });
  const dynamoConfig = { endpoint: emulators.dynamodb, region: REGION, credentials: CREDENTIALS };
  sdkDynamo = new DynamoDBClient(dynamoConfig);
  leanDynamo = new LeanDynamoDBClient(dynamoConfig);
  const sqsConfig = { endpoint: emulators.sqs, region: REGION, credentials: CREDENTIALS };
  sdkSqs = new SQSClient(sqsConfig);
  leanSqs = new LeanSQSClient(sqsConfig);
  await sdkDynamo.send(new CreateTableCommand(keyedTableInput(TABLE)));
  ({ QueueUrl: queueUrl = "" } = await sdkSqs.send(new CreateQueueCommand({ QueueName: "lean" })));
});

afterAll(async () => {
  for (const client of [sdkDynamo, leanDynamo, sdkSqs, leanSqs]) client?.destroy();
  await emulators?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const bytes = (...values: number[]) => new Uint8Array(values);

/** An item with binary values at the top, in a set, and nested in a map and a list. */
const item = (pk: string, sk: string, extra: Record<string, AttributeValue> = {}): Record<string, AttributeValue> => ({
  pk: { S: pk },
  sk: { S: sk },
  blob: { B: bytes(0, 1, 2, 250, 255) },
  blobs: { BS: [bytes(1), bytes(2, 3)] },
  nested: { M: { inner: { B: bytes(9, 8, 7) }, list: { L: [{ B: bytes(0) }, { N: "1.5" }, { NULL: true }] } } },
  count: { N: "3" },
  flag: { BOOL: true },
  ...extra,
});

/** An output without what differs between two identical calls (the emulator's request id). */
function comparable(output: unknown): unknown {
  const { $metadata, ...rest } = output as { $metadata: { requestId?: string } };
  const { requestId: _requestId, ...metadata } = $metadata;
  return { ...rest, $metadata: metadata };
}

type HandledCommand =
  | GetItemCommand
  | PutItemCommand
  | UpdateItemCommand
  | DeleteItemCommand
  | QueryCommand
  | BatchGetItemCommand
  | BatchWriteItemCommand;

/**
 * Runs a command through the SDK client and the lean one, each after the same setup, and
 * returns both outputs for comparison.
 */
async function bothDynamo(
  command: () => HandledCommand,
  setup: () => Promise<unknown> = async () => undefined,
): Promise<[unknown, unknown]> {
  await setup();
  // Each output is compared as data: the union of commands is sent as one of its members.
  const sdk = await sdkDynamo.send(command() as GetItemCommand);
  await setup();
  const lean = await leanDynamo.send(command() as GetItemCommand);
  return [comparable(sdk), comparable(lean)];
}

const putPlain = (value: Record<string, AttributeValue>) => () =>
  sdkDynamo.send(new PutItemCommand({ TableName: TABLE, Item: value }));

describe("LeanDynamoDBClient, against dynalite", () => {
  it("puts an item with binary values and returns the old one and the capacity as the SDK does", async () => {
    const [sdk, lean] = await bothDynamo(
      () =>
        new PutItemCommand({
          TableName: TABLE,
          Item: item("put", "1", { more: { S: "new" } }),
          ReturnValues: "ALL_OLD",
          ReturnConsumedCapacity: "TOTAL",
        }),
      putPlain(item("put", "1")),
    );

    expect(lean).toStrictEqual(sdk);
    expect((lean as { Attributes: Record<string, AttributeValue> }).Attributes.blob).toStrictEqual({
      B: bytes(0, 1, 2, 250, 255),
    });
  });

  it("gets an item with its binary values as bytes, as the SDK does", async () => {
    await putPlain(item("get", "1"))();

    const [sdk, lean] = await bothDynamo(
      () =>
        new GetItemCommand({
          TableName: TABLE,
          Key: { pk: { S: "get" }, sk: { S: "1" } },
          ConsistentRead: true,
          ReturnConsumedCapacity: "TOTAL",
        }),
    );

    expect(lean).toStrictEqual(sdk);
    expect((lean as { Item: Record<string, AttributeValue> }).Item).toStrictEqual(item("get", "1"));
  });

  it("answers a get of a missing item with no Item, as the SDK does", async () => {
    const [sdk, lean] = await bothDynamo(
      () => new GetItemCommand({ TableName: TABLE, Key: { pk: { S: "missing" }, sk: { S: "1" } } }),
    );

    expect(lean).toStrictEqual(sdk);
  });

  it("updates with binary expression values and returns the new item as the SDK does", async () => {
    const [sdk, lean] = await bothDynamo(
      () =>
        new UpdateItemCommand({
          TableName: TABLE,
          Key: { pk: { S: "update" }, sk: { S: "1" } },
          UpdateExpression: "SET #b = :b, #n = #n + :one",
          ExpressionAttributeNames: { "#b": "blob", "#n": "count" },
          ExpressionAttributeValues: { ":b": { B: bytes(42, 0, 42) }, ":one": { N: "1" } },
          ReturnValues: "ALL_NEW",
          ReturnConsumedCapacity: "INDEXES",
        }),
      putPlain(item("update", "1")),
    );

    expect(lean).toStrictEqual(sdk);
  });

  it("deletes and returns the old item as the SDK does", async () => {
    const [sdk, lean] = await bothDynamo(
      () =>
        new DeleteItemCommand({
          TableName: TABLE,
          Key: { pk: { S: "delete" }, sk: { S: "1" } },
          ReturnValues: "ALL_OLD",
        }),
      putPlain(item("delete", "1")),
    );

    expect(lean).toStrictEqual(sdk);
  });

  it("queries page by page with LastEvaluatedKey as the SDK does", async () => {
    for (const sk of ["1", "2", "3"]) await putPlain(item("query", sk))();
    const page = (start?: Record<string, AttributeValue>) => () =>
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": { S: "query" } },
        Limit: 2,
        ReturnConsumedCapacity: "TOTAL",
        ...(start ? { ExclusiveStartKey: start } : {}),
      });

    const [sdkFirst, leanFirst] = await bothDynamo(page());
    const start = (leanFirst as { LastEvaluatedKey?: Record<string, AttributeValue> }).LastEvaluatedKey;
    const [sdkSecond, leanSecond] = await bothDynamo(page(start));

    expect(leanFirst).toStrictEqual(sdkFirst);
    expect(start).toStrictEqual({ pk: { S: "query" }, sk: { S: "2" } });
    expect(leanSecond).toStrictEqual(sdkSecond);
    expect((leanSecond as { Items: unknown[] }).Items).toHaveLength(1);
  });

  it("batch-writes and batch-gets with the SDK's UnprocessedItems, UnprocessedKeys and Responses", async () => {
    const keys = ["1", "2"].map((sk) => ({ pk: { S: "batch" }, sk: { S: sk } }));
    const [sdkWrite, leanWrite] = await bothDynamo(
      () =>
        new BatchWriteItemCommand({
          RequestItems: { [TABLE]: keys.map((key) => ({ PutRequest: { Item: item("batch", String(key.sk.S)) } })) },
          ReturnConsumedCapacity: "TOTAL",
        }),
    );
    const [sdkRead, leanRead] = await bothDynamo(
      () =>
        new BatchGetItemCommand({
          RequestItems: { [TABLE]: { Keys: keys, ConsistentRead: true } },
          ReturnConsumedCapacity: "TOTAL",
        }),
    );

    expect(leanWrite).toStrictEqual(sdkWrite);
    expect(bySortKey(leanRead)).toStrictEqual(bySortKey(sdkRead));
    expect((leanRead as { Responses: Record<string, unknown[]> }).Responses[TABLE]).toHaveLength(2);
  });

  it("throws a failed condition as the SDK's ConditionalCheckFailedException", async () => {
    await putPlain(item("condition", "1"))();
    const command = () =>
      new PutItemCommand({
        TableName: TABLE,
        Item: item("condition", "1"),
        ConditionExpression: "attribute_not_exists(pk)",
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      });

    const sdk = await sdkDynamo.send(command()).catch((error: unknown) => error);
    const lean = await leanDynamo.send(command()).catch((error: unknown) => error);

    expect(lean).toBeInstanceOf(ConditionalCheckFailedException);
    expect(errorFields(lean)).toStrictEqual(errorFields(sdk));
  });

  it("throws a ValidationException by name and a missing table as ResourceNotFoundException, as the SDK does", async () => {
    const invalid = () => new GetItemCommand({ TableName: TABLE, Key: { pk: { S: "only-half-a-key" } } });
    const missing = () => new GetItemCommand({ TableName: "no-such-table", Key: { pk: { S: "a" }, sk: { S: "b" } } });

    const leanInvalid = await leanDynamo.send(invalid()).catch((error: unknown) => error);
    const leanMissing = await leanDynamo.send(missing()).catch((error: unknown) => error);

    expect((leanInvalid as Error).name).toBe("ValidationException");
    expect(leanInvalid).toBeInstanceOf(DynamoDBServiceException);
    expect(leanMissing).toBeInstanceOf(ResourceNotFoundException);
    expect(errorFields(leanInvalid)).toStrictEqual(errorFields(await sdkDynamo.send(invalid()).catch((e) => e)));
    expect(errorFields(leanMissing)).toStrictEqual(errorFields(await sdkDynamo.send(missing()).catch((e) => e)));
  });

  it("sends a command it does not handle (DescribeTable) through the SDK", async () => {
    const { Table } = await leanDynamo.send(new DescribeTableCommand({ TableName: TABLE }));

    expect(Table?.TableName).toBe(TABLE);
  });
});

/** A BatchGetItem output with each table's items in sort-key order (DynamoDB returns them in any order). */
function bySortKey(output: unknown): unknown {
  const { Responses = {}, ...rest } = output as { Responses?: Record<string, Record<string, AttributeValue>[]> };
  const sorted = Object.entries(Responses).map(([table, items]) => [
    table,
    [...items].sort((a, b) => String(a.sk?.S).localeCompare(String(b.sk?.S))),
  ]);
  return { ...rest, Responses: Object.fromEntries(sorted) };
}

/** What callers can see of an error, but the emulator's request ids. */
function errorFields(error: unknown): Record<string, unknown> {
  const fields: Record<string, unknown> = { class: (error as object).constructor.name };
  for (const [key, value] of Object.entries(error as object)) {
    if (key === "$metadata") {
      const { requestId: _requestId, ...metadata } = value as { requestId?: string };
      fields[key] = metadata;
    } else if (key !== "RequestId") fields[key] = value;
  }
  return { ...fields, name: (error as Error).name, message: (error as Error).message };
}

describe("LeanSQSClient, against fauxqs", () => {
  it("sends a message with string and binary attributes as the SDK does, the bytes arriving unchanged", async () => {
    const command = () =>
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: '{"purpose":"Kiểm tra cư trú"}',
        MessageAttributes: {
          kind: { DataType: "String", StringValue: "entry" },
          digest: { DataType: "Binary", BinaryValue: bytes(0, 255, 128, 7) },
        },
      });

    const sdk = await sdkSqs.send(command());
    const lean = await leanSqs.send(command());
    const { Messages = [] } = await sdkSqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, MessageAttributeNames: ["All"] }),
    );

    expect(withoutIds(lean)).toStrictEqual(withoutIds(sdk));
    const received = Messages.find((message) => message.MessageId === lean.MessageId);
    expect(received?.MessageAttributes?.digest?.BinaryValue).toStrictEqual(bytes(0, 255, 128, 7));
    expect(received?.MD5OfMessageAttributes).toBe(lean.MD5OfMessageAttributes);
  });

  it("sends a batch and reports what failed in the SDK's Successful and Failed shape", async () => {
    const command = () =>
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: [
          { Id: "ok", MessageBody: "fine" },
          { Id: "bad", MessageBody: "bell \u0007" },
        ],
      });

    const sdk = await sdkSqs.send(command());
    const lean = await leanSqs.send(command());

    expect(withoutIds(lean)).toStrictEqual(withoutIds(sdk));
    expect(lean.Failed?.map((entry) => entry.Id)).toEqual(["bad"]);
  });

  it("throws a missing queue as the SDK's QueueDoesNotExist, query-protocol code included", async () => {
    const missing = `${new URL(queueUrl).origin}/000000000000/no-such-queue`;
    const command = () => new SendMessageCommand({ QueueUrl: missing, MessageBody: "x" });

    const sdk = await sdkSqs.send(command()).catch((error: unknown) => error);
    const lean = await leanSqs.send(command()).catch((error: unknown) => error);

    expect(lean).toBeInstanceOf(QueueDoesNotExist);
    expect(errorFields(lean)).toStrictEqual(errorFields(sdk));
  });

  it("throws a message SQS refuses as the SDK does", async () => {
    const command = () => new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: "bell \u0007" });

    const sdk = await sdkSqs.send(command()).catch((error: unknown) => error);
    const lean = await leanSqs.send(command()).catch((error: unknown) => error);

    expect(errorFields(lean)).toStrictEqual(errorFields(sdk));
  });

  it("sends a command it does not handle (GetQueueAttributes) through the SDK", async () => {
    const { Attributes } = await leanSqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] }),
    );

    expect(Attributes?.QueueArn).toMatch(/:lean$/);
  });
});

/** An SQS output without the ids that differ between two sends. */
function withoutIds(output: unknown): unknown {
  const {
    MessageId: _id,
    Successful,
    ...rest
  } = comparable(output) as {
    MessageId?: string;
    Successful?: { MessageId?: string }[];
  };
  return Successful ? { ...rest, Successful: Successful.map(({ MessageId: _m, ...entry }) => entry) } : rest;
}

interface Answer {
  /** 0: the connection is reset instead. */
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

/** A real HTTP peer on 127.0.0.1 that answers from a script, then with `last` forever, recording what it got. */
async function scriptedServer(
  script: readonly Answer[],
  last: Answer,
): Promise<{ url: string; requests: IncomingHttpHeaders[]; reset(): void; close(): Promise<void> }> {
  const requests: IncomingHttpHeaders[] = [];
  let answered = 0;
  const server = http.createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      requests.push(request.headers);
      const answer = script[answered++] ?? last;
      if (answer.status === 0) {
        request.socket.destroy();
        return;
      }
      response.writeHead(answer.status, {
        "content-type": "application/x-amz-json-1.0",
        "x-amzn-requestid": `request-${answered}`,
        ...answer.headers,
      });
      response.end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    reset: () => {
      answered = 0;
      requests.length = 0;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const THROTTLED = {
  status: 400,
  body: { __type: "com.amazonaws.dynamodb.v20120810#ThrottlingException", message: "Rate exceeded" },
};
const INTERNAL = { status: 500, body: { __type: "com.amazonaws.dynamodb.v20120810#InternalServerError" } };
const GET = () => new GetItemCommand({ TableName: TABLE, Key: { pk: { S: "a" }, sk: { S: "b" } } });

describe("the lean clients' retries and errors, against a scripted HTTP peer", () => {
  it("retries throttling and 500 responses, then returns the success with its attempts counted", async () => {
    const peer = await scriptedServer([THROTTLED, INTERNAL], { status: 200, body: { Item: { pk: { S: "a" } } } });
    const lean = new LeanDynamoDBClient({ endpoint: peer.url, region: REGION, credentials: CREDENTIALS });

    const output = await lean.send(GET());

    expect(output.Item).toStrictEqual({ pk: { S: "a" } });
    expect(output.$metadata.attempts).toBe(3);
    expect(peer.requests).toHaveLength(3);
    lean.destroy();
    await peer.close();
  });

  it("gives up after the configured attempts and throws the SDK's error with their count", async () => {
    const peer = await scriptedServer([], THROTTLED);
    const config = { endpoint: peer.url, region: REGION, credentials: CREDENTIALS, maxAttempts: 3 };
    const lean = new LeanDynamoDBClient(config);
    const sdk = new DynamoDBClient(config);

    const leanError = await lean.send(GET()).catch((error: unknown) => error);
    peer.reset();
    const sdkError = await sdk.send(GET()).catch((error: unknown) => error);

    expect(leanError).toBeInstanceOf(ThrottlingException);
    expect((leanError as ThrottlingException).$metadata.attempts).toBe(3);
    const { totalRetryDelay: _lean, ...leanFields } = errorFields(leanError).$metadata as Record<string, unknown>;
    const { totalRetryDelay: _sdk, ...sdkFields } = errorFields(sdkError).$metadata as Record<string, unknown>;
    expect(leanFields).toStrictEqual(sdkFields);
    expect({ ...errorFields(leanError), $metadata: {} }).toStrictEqual({ ...errorFields(sdkError), $metadata: {} });
    lean.destroy();
    sdk.destroy();
    await peer.close();
  });

  it("retries a reset connection, then returns the success", async () => {
    const peer = await scriptedServer([{ status: 0, body: {} }], { status: 200, body: {} });
    const lean = new LeanDynamoDBClient({ endpoint: peer.url, region: REGION, credentials: CREDENTIALS });

    const output = await lean.send(GET());

    expect(output.$metadata.attempts).toBe(2);
    expect(peer.requests).toHaveLength(2);
    lean.destroy();
    await peer.close();
  });

  it("waits at least as long as a server's Retry-After asks before retrying", async () => {
    const unavailable = { ...INTERNAL, status: 503, headers: { "retry-after": "0.3" } };
    const peer = await scriptedServer([unavailable], { status: 200, body: {} });
    const lean = new LeanDynamoDBClient({ endpoint: peer.url, region: REGION, credentials: CREDENTIALS });

    const output = await lean.send(GET());

    expect(output.$metadata.attempts).toBe(2);
    // Computed from the header, not measured: without it the first backoff is at most 25 ms.
    expect(output.$metadata.totalRetryDelay).toBeGreaterThan(200);
    lean.destroy();
    await peer.close();
  });

  it("does not retry a client error such as a ValidationException", async () => {
    const invalid = { status: 400, body: { __type: "com.amazon.coral.validate#ValidationException", message: "no" } };
    const peer = await scriptedServer([invalid], { status: 200, body: {} });
    const lean = new LeanDynamoDBClient({ endpoint: peer.url, region: REGION, credentials: CREDENTIALS });

    const error = await lean.send(GET()).catch((failure: unknown) => failure);

    expect((error as Error).name).toBe("ValidationException");
    expect(peer.requests).toHaveLength(1);
    lean.destroy();
    await peer.close();
  });

  it("returns a failed condition's item with its binary values as bytes, as the SDK does", async () => {
    const failed = {
      status: 400,
      body: {
        __type: "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException",
        message: "The conditional request failed",
        Item: { pk: { S: "a" }, blob: { B: "AAEC" }, set: { BS: ["/w=="] } },
      },
    };
    const peer = await scriptedServer([], failed);
    const config = { endpoint: peer.url, region: REGION, credentials: CREDENTIALS };
    const lean = new LeanDynamoDBClient(config);
    const sdk = new DynamoDBClient(config);
    const put = () =>
      new PutItemCommand({
        TableName: TABLE,
        Item: { pk: { S: "a" } },
        ReturnValuesOnConditionCheckFailure: "ALL_OLD",
      });

    const leanError = await lean.send(put()).catch((error: unknown) => error);
    const sdkError = await sdk.send(put()).catch((error: unknown) => error);

    expect(leanError).toBeInstanceOf(ConditionalCheckFailedException);
    expect((leanError as ConditionalCheckFailedException).Item).toStrictEqual({
      pk: { S: "a" },
      blob: { B: bytes(0, 1, 2) },
      set: { BS: [bytes(255)] },
    });
    expect(errorFields(leanError)).toStrictEqual(errorFields(sdkError));
    lean.destroy();
    sdk.destroy();
    await peer.close();
  });

  it("names the function in its user agent as the SDK does (app/<AWS_SDK_UA_APP_ID>), for the runtime's call counts", async () => {
    const peer = await scriptedServer([], { status: 200, body: {} });
    const lean = new LeanDynamoDBClient({
      endpoint: peer.url,
      region: REGION,
      credentials: CREDENTIALS,
      userAgentAppId: "ExchangeFunction",
    });

    await lean.send(GET());

    expect(awsCaller(peer.requests[0] ?? {})).toBe("ExchangeFunction");
    expect(peer.requests[0]?.["x-amz-target"]).toBe("DynamoDB_20120810.GetItem");
    lean.destroy();
    await peer.close();
  });
});

describe("SQS_QUERY_ERRORS", () => {
  it("names every exception the installed SQS client models under another query-protocol code", () => {
    const fromModel: Record<string, string> = {};
    for (const [key, value] of Object.entries(sqsModule)) {
      if (!key.endsWith("$") || !Array.isArray(value) || value[0] !== -3) continue;
      const code: unknown = (value[3] as { awsQueryError?: unknown[] } | undefined)?.awsQueryError?.[0];
      if (typeof code === "string" && code !== value[2]) fromModel[code] = String(value[2]);
    }

    expect(SQS_QUERY_ERRORS).toStrictEqual(fromModel);
  });
});
