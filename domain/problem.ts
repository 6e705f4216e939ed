/** Media type of every error body (RFC 9457). */
export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** Header carrying the transaction id that names one exchange in the log. */
export const TRANSACTION_ID_HEADER = "X-Transaction-Id";

/** Stable URI naming a kind of problem; clients branch on it, never on `title` or `detail`. */
export function problemTypeUri(slug: string): string {
  return `urn:dscp:problem:${slug}`;
}

/** One offending input field of a validation failure. */
export interface InvalidParam {
  /** JSON pointer-like path of the field, e.g. `records/3/birthDate`. */
  readonly name: string;
  readonly reason: string;
}

/** An RFC 9457 problem details body, with DSCP's extensions. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly transactionId?: string;
  readonly invalidParams?: readonly InvalidParam[];
}

/**
 * Base of every error a caller may see. Its subclasses fix status and type; anything else that
 * escapes a handler becomes a generic 500 that reveals nothing but the transaction id.
 */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    detail: string,
    readonly invalidParams: readonly InvalidParam[] = [],
    options?: ErrorOptions,
  ) {
    super(detail, options);
  }

  override get name(): string {
    return this.constructor.name;
  }

  toProblem(context: { instance?: string; transactionId?: string } = {}): ProblemDetails {
    return {
      type: problemTypeUri(this.slug),
      title: this.title,
      status: this.status,
      detail: this.message,
      ...context,
      ...(this.invalidParams.length > 0 ? { invalidParams: this.invalidParams } : {}),
    };
  }
}

/** The request itself is malformed: every invalid field is named. */
export class ValidationError extends ProblemError {
  constructor(detail: string, invalidParams: readonly InvalidParam[], options?: ErrorOptions) {
    super(400, "validation-failed", "Request validation failed", detail, invalidParams, options);
  }
}

/** The named thing does not exist (or the caller may not know that it does). */
export class NotFoundError extends ProblemError {
  constructor(detail: string, options?: ErrorOptions) {
    super(404, "not-found", "Not found", detail, [], options);
  }
}

/** The caller is authenticated but may not do this. */
export class ForbiddenError extends ProblemError {
  constructor(detail: string, options?: ErrorOptions) {
    super(403, "forbidden", "Forbidden", detail, [], options);
  }
}

/** The thing to create exists already. */
export class ConflictError extends ProblemError {
  constructor(detail: string, options?: ErrorOptions) {
    super(409, "conflict", "Conflict", detail, [], options);
  }
}

/** A dependency the platform needs is down; the caller may retry later (`Retry-After` when known). */
export class DependencyUnavailableError extends ProblemError {
  /** Seconds after which a retry may succeed, sent as `Retry-After`. */
  readonly retryAfterSeconds?: number;

  constructor(detail: string, options?: ErrorOptions & { readonly retryAfterSeconds?: number }) {
    super(503, "dependency-unavailable", "Service unavailable", detail, [], options);
    if (options?.retryAfterSeconds !== undefined) this.retryAfterSeconds = options.retryAfterSeconds;
  }
}

/** Error names AWS services use when they refuse a call for load (the SDK's throttling codes). */
const THROTTLING_NAMES = new Set([
  "ThrottlingException",
  "ThrottledException",
  "Throttling",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "TooManyRequestsException",
  "SlowDown",
]);

/** Seconds a caller is asked to wait when a store or queue of the platform refused a call for load. */
export const THROTTLED_RETRY_AFTER_SECONDS = 1;

/**
 * A store, queue or key service that refused a call for load, or failed on its side, after its
 * client's own retries (an AWS error marked retryable for throttling, named as a throttle, or a
 * server fault) is a 503 with `Retry-After`, never a 500 or a refusal: the caller did nothing
 * wrong and may sign the request again and retry. Undefined for anything else.
 */
export function unavailableDependency(error: unknown): DependencyUnavailableError | undefined {
  if (error instanceof DependencyUnavailableError) return error;
  if (!(error instanceof Error)) return undefined;
  const { $retryable, $fault } = error as { $retryable?: { throttling?: boolean }; $fault?: string };
  if ($retryable?.throttling !== true && !THROTTLING_NAMES.has(error.name) && $fault !== "server") return undefined;
  return new DependencyUnavailableError(
    "the platform is at its capacity for this operation; sign the request again and retry after the time in Retry-After",
    { cause: error, retryAfterSeconds: THROTTLED_RETRY_AFTER_SECONDS },
  );
}

/** Body of the generic 500: no message, no stack, only what lets an operator find the log. */
export function internalProblem(context: { instance?: string; transactionId?: string }): ProblemDetails {
  return {
    type: problemTypeUri("internal-error"),
    title: "Internal error",
    status: 500,
    detail: "The platform could not complete the request. Quote the transaction id to the operator.",
    ...context,
  };
}

/** The request body is in a media type the route does not take (only JSON is). */
export class UnsupportedMediaTypeError extends ProblemError {
  constructor(detail: string) {
    super(415, "unsupported-media-type", "Unsupported media type", detail, [
      { name: "Content-Type", reason: "must be application/json" },
    ]);
  }
}
