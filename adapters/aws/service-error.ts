import type { IncomingHttpHeaders } from "node:http";

/** What the SDK reports of a response, on outputs and errors alike. */
export interface ResponseMetadata {
  httpStatusCode?: number;
  requestId?: string;
  extendedRequestId?: string;
  cfId?: string;
  attempts?: number;
  totalRetryDelay?: number;
}

/** A service exception class of the SDK (`DynamoDBServiceException`, `SQSServiceException`). */
export type ServiceExceptionClass = new (options: {
  name: string;
  $fault: "client" | "server";
  $metadata: ResponseMetadata;
}) => Error;

/** How a service's errors are built: its SDK package's exports and base exception class. */
export interface ServiceErrors {
  /**
   * The client package's module namespace: its exception classes by name. Read by name, not
   * through the SDK's schemas, so that the code runs with whichever client version the Lambda
   * runtime provides (the bundles leave `@aws-sdk/client-*` to it).
   */
  readonly exports: Readonly<Record<string, unknown>>;
  readonly base: ServiceExceptionClass;
  /** SQS: the query protocol's error codes (`x-amzn-query-error`) of exceptions named otherwise. */
  readonly queryErrorNames?: Readonly<Record<string, string>>;
}

type ExceptionCtor = new (options: Record<string, unknown>) => Error;

/** The response metadata the SDK gives outputs and errors, before retries add their counts. */
export function responseMetadata(statusCode: number, headers: IncomingHttpHeaders): ResponseMetadata {
  const first = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  return {
    httpStatusCode: statusCode,
    requestId: first("x-amzn-requestid") ?? first("x-amzn-request-id") ?? first("x-amz-request-id"),
    extendedRequestId: first("x-amz-id-2"),
    cfId: first("x-amz-cf-id"),
  };
}

/** `smithy#Name:extra,more` → `Name`, as the SDK reads error codes. */
function sanitizeErrorCode(raw: unknown): string {
  let value = String(raw);
  value = value.split(",")[0] ?? value;
  value = value.split(":")[0] ?? value;
  return value.includes("#") ? (value.split("#")[1] ?? value) : value;
}

function errorCode(data: Record<string, unknown>, headers: IncomingHttpHeaders, queryCompatible: boolean): string {
  const fromCode = () => {
    const key = Object.keys(data).find((name) => name.toLowerCase() === "code");
    return key !== undefined && data[key] !== undefined ? sanitizeErrorCode(data[key]) : undefined;
  };
  const fromHeader = () => {
    const value = headers["x-amzn-errortype"];
    return value === undefined ? undefined : sanitizeErrorCode(value);
  };
  const fromType = () => (data.__type === undefined ? undefined : sanitizeErrorCode(data.__type));
  const code = queryCompatible
    ? (fromCode() ?? fromHeader() ?? fromType())
    : (fromType() ?? fromCode() ?? fromHeader());
  return code ?? "Unknown";
}

function exceptionClass(errors: ServiceErrors, name: string): ExceptionCtor | undefined {
  const candidates = [name, errors.queryErrorNames?.[name]];
  for (const candidate of candidates) {
    const value = candidate === undefined ? undefined : errors.exports[candidate];
    if (typeof value === "function" && value.prototype instanceof errors.base) return value as ExceptionCtor;
  }
  return undefined;
}

/** Copies what the exception lacks from the response body, as the SDK's `decorateServiceException`. */
function decorate(exception: Error, data: Record<string, unknown>): Error {
  const target = exception as unknown as Record<string, unknown>;
  for (const [key, value] of Object.entries(data)) {
    if (value !== undefined && (target[key] === undefined || target[key] === "")) target[key] = value;
  }
  exception.message = exception.message || String(target.Message ?? "") || "UnknownError";
  delete target.Message;
  return exception;
}

/**
 * The error the SDK would throw for an error response of a JSON-protocol service: an instance of
 * the SDK's exception class of that name (so `instanceof` and `name` checks hold), with the
 * response's members (read by `readMember`, e.g. a DynamoDB item with binary values), else the
 * service's base exception named after the code; `$fault` and `$metadata` set.
 */
export function serviceError(
  errors: ServiceErrors,
  statusCode: number,
  headers: IncomingHttpHeaders,
  body: string,
  metadata: ResponseMetadata,
  readMember: (name: string, value: unknown) => unknown = (_name, value) => value,
): Error {
  let data: Record<string, unknown> = {};
  try {
    const parsed: unknown = body.length > 0 ? JSON.parse(body) : {};
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) data = parsed as Record<string, unknown>;
  } catch {
    data = {};
  }
  const queryCompatible = errors.queryErrorNames !== undefined;
  const queryError = headers["x-amzn-query-error"];
  if (queryCompatible && typeof queryError === "string") {
    const [Code, Type] = queryError.split(";");
    const detail: Record<string, unknown> = { Code, Type };
    for (const [key, value] of Object.entries(data)) detail[key === "message" ? "Message" : key] = value;
    delete detail.__type;
    data = { ...data, Code, Type, Error: detail };
  }
  const name = errorCode(data, headers, queryCompatible);
  const Exception = exceptionClass(errors, name);
  if (!Exception) {
    const fault = statusCode < 500 ? "client" : "server";
    data.message = data.message ?? data.Message ?? "UnknownError";
    return decorate(new errors.base({ name, $fault: fault, $metadata: metadata }), data);
  }
  const members: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(data)) {
    if (value != null && !["__type", "message", "Message", "name", "$fault"].includes(key))
      members[key] = readMember(key, value);
  }
  const message = String(data.message ?? data.Message ?? "UnknownError");
  const exception = new Exception({ ...members, message, $metadata: metadata });
  exception.message = message;
  decorate(exception, data);
  if (queryCompatible) {
    const target = exception as unknown as Record<string, unknown>;
    const detail = (target.Error ?? {}) as Record<string, unknown>;
    target.Error = { ...detail, Message: detail.message ?? detail.Message ?? exception.message };
    if (metadata.requestId) target.RequestId = metadata.requestId;
  }
  return exception;
}
