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

/** The SDK's type registries a client package exports as `errorTypeRegistries`. */
export interface ErrorRegistry {
  getSchema(shapeId: string): unknown;
  getErrorCtor(schema: never): unknown;
  find(predicate: (schema: unknown) => boolean): unknown;
}

/** How a service's errors are built: its SDK package's registries and base exception class. */
export interface ServiceErrors {
  readonly registries: readonly ErrorRegistry[];
  readonly base: new (options: { name: string; $fault: "client" | "server"; $metadata: ResponseMetadata }) => Error;
  /** SQS: its JSON protocol also carries the query protocol's error code (`x-amzn-query-error`). */
  readonly queryCompatible: boolean;
}

type ErrorSchema = readonly [number, string, string, Record<string, unknown>, readonly string[], ...unknown[]];
type ErrorCtor = new (options: Record<string, never>) => Error;

function isErrorSchema(schema: unknown): schema is ErrorSchema {
  return Array.isArray(schema) && schema[0] === -3 && typeof schema[2] === "string" && Array.isArray(schema[4]);
}

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

function findSchema(errors: ServiceErrors, name: string): { schema: ErrorSchema; ctor: ErrorCtor } | undefined {
  for (const registry of errors.registries) {
    let schema: unknown;
    try {
      schema = registry.getSchema(name);
    } catch {
      schema = errors.queryCompatible
        ? registry.find((candidate) => {
            const traits = isErrorSchema(candidate) ? candidate[3] : undefined;
            const queryError = traits?.awsQueryError;
            return Array.isArray(queryError) && queryError[0] === name;
          })
        : undefined;
    }
    if (!isErrorSchema(schema)) continue;
    const ctor = registry.getErrorCtor(schema as never);
    if (typeof ctor === "function") return { schema, ctor: ctor as ErrorCtor };
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
 * members its model declares (read by `readMember`, e.g. a DynamoDB item with binary values),
 * else the service's base exception named after the code; `$fault` and `$metadata` set.
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
  const queryError = headers["x-amzn-query-error"];
  if (errors.queryCompatible && typeof queryError === "string") {
    const [Code, Type] = queryError.split(";");
    const detail: Record<string, unknown> = { Code, Type };
    for (const [key, value] of Object.entries(data)) detail[key === "message" ? "Message" : key] = value;
    delete detail.__type;
    data = { ...data, Code, Type, Error: detail };
  }
  const name = errorCode(data, headers, errors.queryCompatible);
  const fault = statusCode < 500 ? "client" : "server";
  const found = findSchema(errors, name);
  if (!found) {
    data.message = data.message ?? data.Message ?? "UnknownError";
    return decorate(
      Object.assign(new errors.base({ name, $fault: fault, $metadata: metadata }), { $fault: fault }),
      data,
    );
  }
  const { schema, ctor } = found;
  const members: Record<string, unknown> = {};
  for (const member of schema[4]) {
    if (data[member] != null) members[member] = readMember(member, data[member]);
  }
  if (errors.queryCompatible) {
    for (const key of ["Error", "Type", "Code"]) if (data[key]) members[key] = data[key];
  }
  const exception = Object.assign(new ctor({}), { $metadata: metadata, $fault: schema[3].error ?? fault }, members);
  exception.message = String(data.message ?? data.Message ?? "UnknownError");
  decorate(exception, data);
  if (errors.queryCompatible) {
    const target = exception as unknown as Record<string, unknown>;
    const detail = (target.Error ?? {}) as Record<string, unknown>;
    target.Error = { ...detail, Message: detail.message ?? detail.Message ?? exception.message };
    if (metadata.requestId) target.RequestId = metadata.requestId;
  }
  return exception;
}
