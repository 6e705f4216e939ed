import { createHash } from "node:crypto";
import * as sqs from "@aws-sdk/client-sqs";
import {
  type $Command,
  SendMessageBatchCommand,
  type SendMessageBatchRequest,
  type SendMessageBatchResult,
  SendMessageCommand,
  type SendMessageResult,
  type ServiceInputTypes,
  type ServiceOutputTypes,
  SQSClient,
  type SQSClientConfig,
  type SQSClientResolvedConfig,
  SQSServiceException,
} from "@aws-sdk/client-sqs";
import { callerSettings } from "./caller-settings.ts";
import { JsonCaller, type JsonService } from "./json-caller.ts";
import { type HandledOperation, jsonBody, operationFor, outputOf, sdkArguments } from "./lean-commands.ts";

/**
 * SQS's JSON protocol also sends the query protocol's error code (`x-amzn-query-error`), and the
 * SDK names the exception after it: these codes belong to exceptions named otherwise (from the
 * SDK's model; a unit test checks the table against the installed client).
 */
export const SQS_QUERY_ERRORS: Readonly<Record<string, string>> = {
  "AWS.SimpleQueueService.BatchEntryIdsNotDistinct": "BatchEntryIdsNotDistinct",
  "AWS.SimpleQueueService.BatchRequestTooLong": "BatchRequestTooLong",
  "AWS.SimpleQueueService.EmptyBatchRequest": "EmptyBatchRequest",
  "AWS.SimpleQueueService.InvalidBatchEntryId": "InvalidBatchEntryId",
  "KMS.AccessDeniedException": "KmsAccessDenied",
  "KMS.DisabledException": "KmsDisabled",
  "KMS.InvalidKeyUsageException": "KmsInvalidKeyUsage",
  "KMS.InvalidStateException": "KmsInvalidState",
  "KMS.NotFoundException": "KmsNotFound",
  "KMS.OptInRequired": "KmsOptInRequired",
  "KMS.ThrottlingException": "KmsThrottled",
  "AWS.SimpleQueueService.MessageNotInflight": "MessageNotInflight",
  "AWS.SimpleQueueService.PurgeQueueInProgress": "PurgeQueueInProgress",
  "AWS.SimpleQueueService.QueueDeletedRecently": "QueueDeletedRecently",
  "AWS.SimpleQueueService.NonExistentQueue": "QueueDoesNotExist",
  QueueAlreadyExists: "QueueNameExists",
  "AWS.SimpleQueueService.TooManyEntriesInBatchRequest": "TooManyEntriesInBatchRequest",
  "AWS.SimpleQueueService.UnsupportedOperation": "UnsupportedOperation",
};

const SQS: JsonService = {
  name: "sqs",
  targetPrefix: "AmazonSQS",
  errors: { exports: sqs, base: SQSServiceException, queryErrorNames: SQS_QUERY_ERRORS },
  // The SDK's SQS client: 3 attempts, 50 ms base delay, 900 s socket timeout.
  defaultMaxAttempts: 3,
  baseDelayMs: 50,
  socketTimeoutMs: 900_000,
};

const OPERATIONS: readonly HandledOperation[] = [
  { command: SendMessageCommand, name: "SendMessage" },
  { command: SendMessageBatchCommand, name: "SendMessageBatch" },
];

function md5Hex(text: string): string {
  return createHash("md5").update(text, "utf8").digest("hex");
}

/**
 * Checks the digests SQS returns of the bodies it queued, as the SDK does unless `md5: false`:
 * a message changed on the way is an error, not a silent difference.
 */
function checkDigests(operation: string, input: unknown, output: unknown): void {
  if (operation === "SendMessage") {
    const { MessageBody = "" } = input as { MessageBody?: string };
    if ((output as SendMessageResult).MD5OfMessageBody !== md5Hex(MessageBody)) throw new Error("InvalidChecksumError");
    return;
  }
  const { Entries = [] } = input as SendMessageBatchRequest;
  const successful = new Map(((output as SendMessageBatchResult).Successful ?? []).map((entry) => [entry.Id, entry]));
  const mismatched = Entries.flatMap((entry) => {
    const sent = successful.get(entry.Id);
    return sent && sent.MD5OfMessageBody !== md5Hex(entry.MessageBody ?? "") ? [sent.MessageId] : [];
  });
  if (mismatched.length > 0) throw new Error(`Invalid MD5 checksum on messages: ${mismatched.join(", ")}`);
}

/**
 * An SQSClient whose sends (SendMessage, SendMessageBatch) go as one signed keep-alive HTTP
 * request each, to the queue URL's host as the SDK does, with the SDK's retries, digest checks,
 * outputs and errors but without its per-call middleware. Every other command, a call with
 * options or a callback, and any configuration the lean path does not honour go through the SDK.
 */
export class LeanSQSClient extends SQSClient {
  private caller: JsonCaller | null | undefined;
  /** Each queue URL's origin, worked out once. */
  private readonly origins = new Map<string, URL>();

  constructor(private readonly leanConfig: SQSClientConfig = {}) {
    super(leanConfig);
  }

  override send<I extends ServiceInputTypes, O extends ServiceOutputTypes>(
    command: $Command<I, O, SQSClientResolvedConfig, ServiceInputTypes, ServiceOutputTypes>,
    options?: unknown,
    cb?: unknown,
  ): Promise<O> {
    const operation = options === undefined && cb === undefined ? operationFor(OPERATIONS, command) : undefined;
    const caller = operation && this.leanCaller();
    if (!operation || !caller) return Reflect.apply(SQSClient.prototype.send, this, sdkArguments(command, options, cb));
    return this.sendLean(caller, operation, command.input) as Promise<O>;
  }

  private async sendLean(caller: JsonCaller, operation: HandledOperation, input: unknown): Promise<unknown> {
    const { body, $metadata } = await caller.call(operation.name, jsonBody(input), this.endpointFor(input));
    const output = outputOf(operation, JSON.parse(body), $metadata, sqs);
    if (this.leanConfig.md5 !== false) checkDigests(operation.name, input, output);
    return output;
  }

  /** The queue URL's origin, as the SDK sends to unless given an endpoint or `useQueueUrlAsEndpoint: false`. */
  private endpointFor(input: unknown): URL | undefined {
    const { QueueUrl } = input as { QueueUrl?: unknown };
    if (this.leanConfig.endpoint !== undefined || this.leanConfig.useQueueUrlAsEndpoint === false) return undefined;
    if (typeof QueueUrl !== "string") return undefined;
    let origin = this.origins.get(QueueUrl);
    if (origin === undefined) {
      if (!URL.canParse(QueueUrl)) return undefined;
      origin = new URL(new URL(QueueUrl).origin);
      // A function sends to a handful of queues: the few origins it works out are kept.
      if (this.origins.size < 16) this.origins.set(QueueUrl, origin);
    }
    return origin;
  }

  private leanCaller(): JsonCaller | null {
    if (this.caller === undefined) {
      const settings = callerSettings({ name: "sqs", envName: "SQS", defaultMaxAttempts: 3 }, this.leanConfig);
      this.caller = settings ? new JsonCaller(SQS, settings) : null;
    }
    return this.caller;
  }
}
