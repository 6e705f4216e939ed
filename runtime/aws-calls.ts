import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import { requestUnits } from "./request-units.ts";

/** Calls counted per caller, then per `service:Operation` (e.g. `dynamodb:GetItem`). */
export type AwsCallCounts = Record<string, Record<string, number>>;

/** The caller of requests whose SDK names no application (the runtime itself, tools, tests). */
export const RUNTIME_CALLER = "runtime";

/** The application id the runtime's SQS event source mappings send, as Lambda's pollers would. */
export const EVENT_SOURCE_CALLER = "lambda-event-source";

/** The application id of the state machines' SDK tasks (Step Functions service integrations). */
export const STEP_FUNCTIONS_CALLER = "StepFunctions";

/** The most the SDK accepts as an application id (`AWS_SDK_UA_APP_ID`) without a warning. */
export const MAX_APP_ID_LENGTH = 50;

/**
 * What the runtime ends a function's application id with. Powertools appends its own mark
 * (`/PT/NO-OP/<version>/PTEnv/<runtime>`) to an id that does not hold `/PTEnv/` yet; after a
 * logical id that passes 50 characters, and the SDK then warns on every call it makes (a line of
 * log and some CPU that a function on AWS, whose id is Powertools' alone, does not spend).
 */
export const APP_ID_MARK = "/PTEnv/local";

/** The application id the runtime gives a function: its logical id, within the SDK's limit. */
export function functionAppId(logicalId: string): string {
  return `${logicalId.slice(0, MAX_APP_ID_LENGTH - APP_ID_MARK.length)}${APP_ID_MARK}`;
}

/** One request as an emulator receives it. */
export interface AwsRequest {
  readonly method: string;
  /** Path and query, as in `IncomingMessage.url`. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

const TARGET_PREFIXES: Record<string, string> = {
  DynamoDB_20120810: "dynamodb",
  DynamoDBStreams_20120810: "dynamodbstreams",
  AmazonSQS: "sqs",
  TrentService: "kms",
  AWSStepFunctions: "states",
};

/**
 * Names the AWS operation a request calls, `service:Operation`: from the JSON protocol's
 * `X-Amz-Target` (DynamoDB, SQS, KMS, Step Functions), the query protocol's `Action` (SQS), the
 * Lambda Invoke path, or an S3 request's method and path shape (path-style addressing).
 */
export function awsOperation(request: AwsRequest): string {
  const target = header(request.headers, "x-amz-target");
  if (target) {
    const dot = target.indexOf(".");
    const prefix = dot < 0 ? target : target.slice(0, dot);
    return `${TARGET_PREFIXES[prefix] ?? prefix}:${dot < 0 ? "Unknown" : target.slice(dot + 1)}`;
  }
  const url = new URL(request.url, "http://127.0.0.1");
  const action = url.searchParams.get("Action");
  if (action) return `sqs:${action}`;
  if (/^\/2015-03-31\/functions\/[^/]+\/invocations$/.test(url.pathname)) return "lambda:Invoke";
  if (url.pathname.startsWith("/_dscp/")) return "local:Control";
  return `s3:${s3Operation(request.method.toUpperCase(), url, request.headers)}`;
}

function s3Operation(method: string, url: URL, headers: IncomingHttpHeaders): string {
  const segments = url.pathname.split("/").filter((segment) => segment.length > 0);
  const query = url.searchParams;
  if (segments.length === 0) return method === "GET" ? "ListBuckets" : "Unknown";
  if (segments.length === 1) {
    if (method === "PUT") return "CreateBucket";
    if (method === "HEAD") return "HeadBucket";
    if (method === "DELETE") return "DeleteBucket";
    if (method === "POST" && query.has("delete")) return "DeleteObjects";
    if (method === "GET") {
      if (query.has("uploads")) return "ListMultipartUploads";
      return query.get("list-type") === "2" ? "ListObjectsV2" : "ListObjects";
    }
    return "Unknown";
  }
  const uploadId = query.has("uploadId");
  switch (method) {
    case "GET":
      return uploadId ? "ListParts" : "GetObject";
    case "HEAD":
      return "HeadObject";
    case "PUT":
      if (uploadId && query.has("partNumber"))
        return header(headers, "x-amz-copy-source") ? "UploadPartCopy" : "UploadPart";
      return header(headers, "x-amz-copy-source") ? "CopyObject" : "PutObject";
    case "DELETE":
      return uploadId ? "AbortMultipartUpload" : "DeleteObject";
    case "POST":
      if (query.has("uploads")) return "CreateMultipartUpload";
      if (uploadId) return "CompleteMultipartUpload";
      return "Unknown";
    default:
      return "Unknown";
  }
}

/** Who sent a request: the SDK's application id (`app/<id>` in its user agent), else the runtime. */
export function awsCaller(headers: IncomingHttpHeaders): string {
  const agent = `${header(headers, "x-amz-user-agent") ?? ""} ${header(headers, "user-agent") ?? ""}`;
  const appId = /(?:^|\s)app\/([^\s]+)/.exec(agent)?.[1];
  // The runtime's and Powertools' marks after the id (`<id>-PTEnv-local`, `<id>-PT-<feature>-…`).
  return appId ? appId.replace(/-PT(?:Env)?-.*$/, "") : RUNTIME_CALLER;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

const DYNAMODB_READS = new Set(["GetItem", "Query", "Scan", "BatchGetItem", "TransactGetItems"]);
const DYNAMODB_WRITES = new Set(["PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"]);

/**
 * DynamoDB request units one call is estimated to use when its bodies are not at hand, from its
 * bytes on the wire: a read,
 * one unit per 4 KB of response (strongly consistent); a write, one per 1 KB of request.
 * Wire JSON is larger than DynamoDB's item size (so this overstates) and index writes are not
 * seen (so writes to indexed tables are understated). Undefined for anything but DynamoDB
 * reads and writes.
 */
export function estimatedRequestUnits(
  operation: string,
  bytes: { readonly request: number; readonly response: number },
): { readonly kind: "read" | "write"; readonly units: number } | undefined {
  const [service, name = ""] = operation.split(":");
  if (service !== "dynamodb") return undefined;
  if (DYNAMODB_READS.has(name)) return { kind: "read", units: Math.max(1, Math.ceil(bytes.response / 4096)) };
  if (DYNAMODB_WRITES.has(name)) return { kind: "write", units: Math.max(1, Math.ceil(bytes.request / 1024)) };
  return undefined;
}

/** Request units from a DynamoDB call's JSON bodies; undefined if they do not parse (or it is no read or write). */
function unitsFromBodies(
  operation: string,
  bodies: { readonly request: string; readonly response: string },
): { readonly kind: "read" | "write"; readonly units: number } | undefined {
  const [service, name = ""] = operation.split(":");
  if (service !== "dynamodb") return undefined;
  try {
    return requestUnits(name, JSON.parse(bodies.request || "{}"), JSON.parse(bodies.response || "{}"));
  } catch {
    return undefined;
  }
}

/** Counts the requests the emulators receive, per caller and operation. */
export class AwsCallCounter {
  private readonly counts = new Map<string, Map<string, number>>();

  /**
   * Counts one request; with its bytes (request and response), also the DynamoDB request units
   * it is estimated to use, as the pseudo-operations `dynamodb:ReadRequestUnits` and
   * `dynamodb:WriteRequestUnits`: from the items in its bodies when they are given (as
   * DynamoDB computes them), else from its bytes on the wire.
   */
  record(
    request: AwsRequest,
    bytes?: { readonly request: number; readonly response: number },
    bodies?: { readonly request: string; readonly response: string },
  ): void {
    const caller = awsCaller(request.headers);
    const operation = awsOperation(request);
    this.add(caller, operation);
    const estimate =
      (bodies && unitsFromBodies(operation, bodies)) ?? (bytes && estimatedRequestUnits(operation, bytes));
    if (estimate)
      this.add(
        caller,
        estimate.kind === "read" ? "dynamodb:ReadRequestUnits" : "dynamodb:WriteRequestUnits",
        estimate.units,
      );
  }

  /** Counts a request once its response is sent, with its bytes (and a DynamoDB call's bodies). */
  observe(request: IncomingMessage, response: ServerResponse): void {
    const dynamodb = /^DynamoDB_/.test(header(request.headers, "x-amz-target") ?? "");
    const requestChunks: Buffer[] = [];
    const responseChunks: Buffer[] = [];
    if (dynamodb) {
      request.on("data", (chunk: Buffer) => requestChunks.push(chunk));
      const write = response.write.bind(response) as (...args: unknown[]) => boolean;
      const end = response.end.bind(response) as (...args: unknown[]) => ServerResponse;
      const keep = (chunk: unknown) => {
        if (typeof chunk === "string" || chunk instanceof Uint8Array) responseChunks.push(Buffer.from(chunk));
      };
      response.write = ((chunk: unknown, ...rest: unknown[]) => {
        keep(chunk);
        return write(chunk, ...rest);
      }) as typeof response.write;
      response.end = ((chunk?: unknown, ...rest: unknown[]) => {
        if (typeof chunk !== "function") keep(chunk);
        return end(chunk, ...rest);
      }) as typeof response.end;
    }
    response.once("finish", () => {
      this.record(
        { method: request.method ?? "GET", url: request.url ?? "/", headers: request.headers },
        {
          request: Number(request.headers["content-length"] ?? 0) || 0,
          response: Number(response.getHeader("content-length") ?? 0) || 0,
        },
        dynamodb
          ? {
              request: Buffer.concat(requestChunks).toString("utf8"),
              response: Buffer.concat(responseChunks).toString("utf8"),
            }
          : undefined,
      );
    });
  }

  add(caller: string, operation: string, times = 1): void {
    let byOperation = this.counts.get(caller);
    if (!byOperation) {
      byOperation = new Map();
      this.counts.set(caller, byOperation);
    }
    byOperation.set(operation, (byOperation.get(operation) ?? 0) + times);
  }

  /** A copy of the counts so far. */
  snapshot(): AwsCallCounts {
    return Object.fromEntries(
      [...this.counts].map(([caller, byOperation]) => [caller, Object.fromEntries(byOperation)]),
    );
  }
}

/** What was counted between two snapshots, dropping what did not change. */
export function callsBetween(before: AwsCallCounts, after: AwsCallCounts): AwsCallCounts {
  const result: AwsCallCounts = {};
  for (const [caller, byOperation] of Object.entries(after)) {
    for (const [operation, count] of Object.entries(byOperation)) {
      const delta = count - (before[caller]?.[operation] ?? 0);
      if (delta > 0) result[caller] = { ...result[caller], [operation]: delta };
    }
  }
  return result;
}

/** Sums calls over callers (all of them unless some are named), per operation. */
export function callsByOperation(counts: AwsCallCounts, callers?: (caller: string) => boolean): Record<string, number> {
  const result: Record<string, number> = {};
  for (const [caller, byOperation] of Object.entries(counts)) {
    if (callers && !callers(caller)) continue;
    for (const [operation, count] of Object.entries(byOperation)) result[operation] = (result[operation] ?? 0) + count;
  }
  return Object.fromEntries(Object.entries(result).sort(([a], [b]) => a.localeCompare(b)));
}
