import http, { type IncomingHttpHeaders } from "node:http";
import https from "node:https";
import { type ResponseMetadata, responseMetadata, type ServiceErrors, serviceError } from "./service-error.ts";
import { type AwsCredentials, amzDate, sha256Hex, signRequest } from "./sigv4.ts";

/** One AWS service spoken to with its JSON protocol (DynamoDB, SQS). */
export interface JsonService {
  /** Signing name and endpoint prefix: `dynamodb`, `sqs`. */
  readonly name: string;
  /** `X-Amz-Target` prefix: `DynamoDB_20120810`, `AmazonSQS`. */
  readonly targetPrefix: string;
  readonly errors: ServiceErrors;
  /** The SDK client's retry defaults for this service. */
  readonly defaultMaxAttempts: number;
  readonly baseDelayMs: number;
  /** The SDK's default socket timeout for this service, per attempt. */
  readonly socketTimeoutMs: number;
  /** Reads an error member the model declares (binary values decoded as in outputs). */
  readonly readErrorMember?: (name: string, value: unknown) => unknown;
}

/** Where and as whom a {@link JsonCaller} sends. */
export interface CallerSettings {
  readonly endpoint: URL;
  readonly region: string;
  readonly credentials: AwsCredentials;
  readonly maxAttempts: number;
  /** `AWS_SDK_UA_APP_ID`: carried in the user agent as `app/<id>`, as the SDK does. */
  readonly appId?: string;
}

/** A successful call's parsed body and the SDK-shaped metadata of its response. */
export interface CallResult {
  readonly body: string;
  readonly $metadata: ResponseMetadata;
}

// The SDK's retry classification (@smithy/core/retry, standard mode).
const THROTTLING_CODES = new Set([
  "BandwidthLimitExceeded",
  "EC2ThrottledException",
  "LimitExceededException",
  "PriorRequestNotComplete",
  "ProvisionedThroughputExceededException",
  "RequestLimitExceeded",
  "RequestThrottled",
  "RequestThrottledException",
  "SlowDown",
  "ThrottledException",
  "Throttling",
  "ThrottlingException",
  "TooManyRequestsException",
  "TransactionInProgressException",
]);
const TRANSIENT_NAMES = new Set(["TimeoutError", "RequestTimeout", "RequestTimeoutException"]);
const TRANSIENT_STATUSES = new Set([500, 502, 503, 504]);
const TIMEOUT_CODES = new Set(["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT"]);
const TRANSIENT_NETWORK_CODES = new Set([...TIMEOUT_CODES, "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
const THROTTLING_DELAY_BASE_MS = 1_000;
const MAXIMUM_DELAY_MS = 20_000;
const INITIAL_RETRY_TOKENS = 500;
const THROTTLING_RETRY_COST = 5;
const RETRY_COST = 14;

type Failure = Error & { code?: string; $metadata?: ResponseMetadata; $retryable?: { throttling?: boolean } };

function retryKind(error: Failure): "throttling" | "transient" | undefined {
  if (error.name === "AbortError") return undefined;
  const status = error.$metadata?.httpStatusCode;
  if (status === 429 || THROTTLING_CODES.has(error.name) || error.$retryable?.throttling === true) return "throttling";
  if (
    error.$retryable !== undefined ||
    TRANSIENT_NAMES.has(error.name) ||
    TRANSIENT_NETWORK_CODES.has(error.code ?? "") ||
    TRANSIENT_STATUSES.has(status ?? 0)
  )
    return "transient";
  return undefined;
}

/** When a `Retry-After` header (seconds, or an HTTP date) allows the next attempt, in epoch ms. */
function retryAfterTime(header: string | string[] | undefined): number | undefined {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return undefined;
  if (/^\d+(?:\.\d+)?$/.test(value)) return Date.now() + Number(value) * 1000;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : time;
}

// One keep-alive agent per process and scheme, shared by every client: what makes a call cheap
// is reusing the connection (no TCP or TLS handshake); 50 sockets as the SDK's handler allows.
let httpAgent: http.Agent | undefined;
let httpsAgent: https.Agent | undefined;

function agentFor(endpoint: URL): http.Agent {
  if (endpoint.protocol === "https:") {
    httpsAgent ??= new https.Agent({ keepAlive: true, maxSockets: 50 });
    return httpsAgent;
  }
  httpAgent ??= new http.Agent({ keepAlive: true, maxSockets: 50 });
  return httpAgent;
}

interface RawResponse {
  readonly statusCode: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/**
 * Calls one JSON-protocol operation over a signed keep-alive HTTP request, with the SDK's
 * standard retries: up to `maxAttempts` attempts on throttling and transient failures (5xx
 * 500/502/503/504, timeouts, reset connections), backoff with full jitter, a retry quota.
 */
export class JsonCaller {
  private capacity = INITIAL_RETRY_TOKENS;
  private readonly userAgent: string;

  constructor(
    private readonly service: JsonService,
    private readonly settings: CallerSettings,
  ) {
    const appId = settings.appId?.replace(/[^!#$%&'*+\-.^_`|~\w]/g, "-");
    this.userAgent = `dscp-lean-aws/1 api/${service.name}${appId ? ` app/${appId}` : ""}`;
  }

  /** Sends `body` (JSON text) to `operation`; `endpoint` overrides the settings' (SQS queue URLs). */
  async call(operation: string, body: string, endpoint: URL = this.settings.endpoint): Promise<CallResult> {
    let totalRetryDelay = 0;
    let retryCost: number | undefined;
    for (let attempt = 1; ; attempt++) {
      let failure: Failure;
      let retryAfter: number | undefined;
      try {
        const response = await this.attempt(operation, body, endpoint);
        const metadata = responseMetadata(response.statusCode, response.headers);
        if (response.statusCode < 300) {
          this.capacity = Math.min(INITIAL_RETRY_TOKENS, this.capacity + (retryCost ?? 1));
          return { body: response.body, $metadata: { ...metadata, attempts: attempt, totalRetryDelay } };
        }
        failure = serviceError(
          this.service.errors,
          response.statusCode,
          response.headers,
          response.body,
          metadata,
          this.service.readErrorMember,
        );
        // As the SDK: the raw response rides along, hidden from enumeration (and from logs).
        Object.defineProperty(failure, "$response", { value: response, enumerable: false });
        retryAfter = retryAfterTime(response.headers["retry-after"]);
      } catch (error) {
        failure = error instanceof Error ? error : new Error(String(error));
      }
      const kind = retryKind(failure);
      const cost = kind === "throttling" ? THROTTLING_RETRY_COST : RETRY_COST;
      if (!kind || attempt >= this.settings.maxAttempts || this.capacity < cost) {
        failure.$metadata = { ...failure.$metadata, attempts: attempt, totalRetryDelay };
        throw failure;
      }
      this.capacity -= cost;
      retryCost = cost;
      const base = kind === "throttling" ? THROTTLING_DELAY_BASE_MS : this.service.baseDelayMs;
      const backoff = Math.floor(Math.random() * Math.min(base * 2 ** (attempt - 1), MAXIMUM_DELAY_MS));
      // A server's Retry-After lengthens the wait, by 5 s at most, as in the SDK.
      const delay =
        retryAfter === undefined ? backoff : Math.max(backoff, Math.min(retryAfter - Date.now(), backoff + 5_000));
      totalRetryDelay += delay;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }

  private attempt(operation: string, body: string, endpoint: URL): Promise<RawResponse> {
    const { credentials, region } = this.settings;
    const now = new Date();
    const headers: Record<string, string> = {
      "content-type": "application/x-amz-json-1.0",
      host: endpoint.host,
      "x-amz-date": amzDate(now),
      "x-amz-target": `${this.service.targetPrefix}.${operation}`,
    };
    if (credentials.sessionToken) headers["x-amz-security-token"] = credentials.sessionToken;
    if (this.service.errors.queryErrorNames) headers["x-amzn-query-mode"] = "true";
    const { authorization } = signRequest({
      method: "POST",
      path: "/",
      headers,
      payloadHash: sha256Hex(body),
      credentials,
      scope: { region, service: this.service.name },
      date: now,
    });
    const payload = Buffer.from(body, "utf8");
    const send = endpoint.protocol === "https:" ? https.request : http.request;
    return new Promise<RawResponse>((resolve, reject) => {
      const request = send(
        {
          protocol: endpoint.protocol,
          hostname: endpoint.hostname.replace(/^\[|\]$/g, ""),
          port: endpoint.port || undefined,
          path: endpoint.pathname.endsWith("/") ? endpoint.pathname : `${endpoint.pathname}/`,
          method: "POST",
          agent: agentFor(endpoint),
          headers: {
            ...headers,
            authorization,
            "content-length": String(payload.byteLength),
            "user-agent": this.userAgent,
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          response.on("data", (chunk: Buffer) => chunks.push(chunk));
          response.on("error", reject);
          response.on("end", () =>
            resolve({
              statusCode: response.statusCode ?? -1,
              headers: response.headers,
              body: Buffer.concat(chunks).toString("utf8"),
            }),
          );
        },
      );
      request.setTimeout(this.service.socketTimeoutMs, () => {
        request.destroy(
          Object.assign(new Error(`the request socket timed out after ${this.service.socketTimeoutMs} ms`), {
            name: "TimeoutError",
          }),
        );
      });
      request.on("error", (error: Failure) => {
        // As the SDK's handler: a connection that failed or broke is a timeout.
        if (TIMEOUT_CODES.has(error.code ?? "")) error.name = "TimeoutError";
        reject(error);
      });
      request.end(payload);
    });
  }
}
