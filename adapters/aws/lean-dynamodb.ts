import * as dynamodb from "@aws-sdk/client-dynamodb";
import {
  type $Command,
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  type DynamoDBClientResolvedConfig,
  DynamoDBServiceException,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type ServiceInputTypes,
  type ServiceOutputTypes,
  UpdateItemCommand,
} from "@aws-sdk/client-dynamodb";
import { callerSettings } from "./caller-settings.ts";
import { JsonCaller, type JsonService } from "./json-caller.ts";
import { type HandledOperation, jsonBody, operationFor, outputOf, sdkArguments } from "./lean-commands.ts";

/** The JSON text of a DynamoDB response, binary attribute values (`B`, `BS`, nested too) as bytes. */
export function parseDynamoDbJson(text: string): unknown {
  if (!/"BS?":/.test(text)) return JSON.parse(text);
  return JSON.parse(text, (key, value: unknown) => {
    if (key === "B" && typeof value === "string") return bytes(value);
    if (key === "BS" && Array.isArray(value) && value.every((item) => typeof item === "string"))
      return value.map((item: string) => bytes(item));
    return value;
  });
}

function bytes(base64: string): Uint8Array {
  const buffer = Buffer.from(base64, "base64");
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
}

const DYNAMODB: JsonService = {
  name: "dynamodb",
  targetPrefix: "DynamoDB_20120810",
  errors: { exports: dynamodb, base: DynamoDBServiceException },
  // The SDK's DynamoDB client: 4 attempts, 25 ms base delay, 300 s socket timeout.
  defaultMaxAttempts: 4,
  baseDelayMs: 25,
  socketTimeoutMs: 300_000,
  readErrorMember: (name, value) => (name === "Item" ? parseDynamoDbJson(JSON.stringify(value)) : value),
};

/** The request path's operations, sent by the lean path. */
const OPERATIONS: readonly HandledOperation[] = [
  { command: GetItemCommand, name: "GetItem" },
  { command: PutItemCommand, name: "PutItem" },
  { command: UpdateItemCommand, name: "UpdateItem" },
  { command: DeleteItemCommand, name: "DeleteItem" },
  { command: QueryCommand, name: "Query" },
  { command: BatchGetItemCommand, name: "BatchGetItem" },
  { command: BatchWriteItemCommand, name: "BatchWriteItem" },
];

/**
 * A DynamoDBClient whose request-path operations (GetItem, PutItem, UpdateItem, DeleteItem,
 * Query, BatchGetItem, BatchWriteItem) go as one signed keep-alive HTTP request each, with the
 * SDK's retries, outputs and errors, but without its per-call middleware, schema serde and
 * endpoint resolution (about a third of the CPU). Every other command, a call with options or a
 * callback, and any configuration the lean path does not honour go through the SDK as before.
 */
export class LeanDynamoDBClient extends DynamoDBClient {
  private caller: JsonCaller | null | undefined;

  constructor(private readonly leanConfig: DynamoDBClientConfig = {}) {
    super(leanConfig);
  }

  override send<I extends ServiceInputTypes, O extends ServiceOutputTypes>(
    command: $Command<I, O, DynamoDBClientResolvedConfig, ServiceInputTypes, ServiceOutputTypes>,
    options?: unknown,
    cb?: unknown,
  ): Promise<O> {
    const operation = options === undefined && cb === undefined ? operationFor(OPERATIONS, command) : undefined;
    const caller = operation && this.leanCaller();
    if (!operation || !caller) {
      return Reflect.apply(DynamoDBClient.prototype.send, this, sdkArguments(command, options, cb));
    }
    return this.sendLean(caller, operation, command.input) as Promise<O>;
  }

  private async sendLean(caller: JsonCaller, operation: HandledOperation, input: unknown): Promise<unknown> {
    const { body, $metadata } = await caller.call(operation.name, jsonBody(input));
    return outputOf(operation, parseDynamoDbJson(body), $metadata, dynamodb);
  }

  private leanCaller(): JsonCaller | null {
    if (this.caller === undefined) {
      const settings = callerSettings(
        { name: "dynamodb", envName: "DYNAMODB", defaultMaxAttempts: 4 },
        this.leanConfig,
      );
      this.caller = settings ? new JsonCaller(DYNAMODB, settings) : null;
    }
    return this.caller;
  }
}
