import * as z from "zod/mini";
import { storedNumber } from "../identifiers.ts";
import { ProblemError } from "../problem.ts";

/** One call the platform makes to a provider's Agent Node (7.2a). */
export interface UpstreamRequest {
  /** The provider system, `aud` of the platform's token. */
  readonly providerSystem: string;
  /** The provider system's registered endpoint. */
  readonly endpoint: string;
  /** The dataset's upstream path, then `/records/<key>` or `/query`. */
  readonly path: string;
  readonly method: "GET" | "POST";
  readonly query?: ReadonlyArray<readonly [string, string]>;
  readonly body?: unknown;
  readonly transactionId: string;
  readonly consumerSystem: string;
  readonly purpose: string;
  /** Forwarded to the provider in the platform's token (`usr`, `case`), when the consumer named them. */
  readonly endUser?: string;
  readonly caseRef?: string;
}

export interface UpstreamResponse {
  readonly status: number;
  readonly body: unknown;
  readonly bytes: number;
}

/** Calls providers, signed by the platform; throws the errors below when they do not answer. */
export type Upstream = (request: UpstreamRequest) => Promise<UpstreamResponse>;

/** The provider did not answer in time: 504. */
export class UpstreamTimeoutError extends ProblemError {
  constructor(detail: string, options?: ErrorOptions) {
    super(504, "upstream-timeout", "The provider did not answer in time", detail, [], options);
  }
}

/** The provider failed or answered something unusable: 502. */
export class UpstreamFailedError extends ProblemError {
  constructor(detail: string, options?: ErrorOptions) {
    super(502, "upstream-failed", "The provider's system failed", detail, [], options);
  }
}

/** Query parameters of `GET /v1/exchange/{datasetId}/records/{key}`. */
export const recordQuery = z.object({
  fields: z.optional(
    z
      .string()
      .check(
        z.regex(/^[A-Za-z0-9,]{0,2000}$/, "must be field names separated by commas"),
        z.describe("Comma-separated fields wanted; none means every permitted field"),
      ),
  ),
});

/** Body of `POST /v1/exchange/{datasetId}/query`. */
export const queryInput = z.object({
  /** Equality filters on permitted fields. */
  filters: z._default(
    z.record(
      z.string().check(z.regex(/^[a-z][A-Za-z0-9]{0,63}$/, "must be a field name")),
      z.union([z.string(), storedNumber, z.boolean()]),
    ),
    {},
  ),
  /** Fields wanted; none means every permitted field. */
  fields: z.optional(z.array(z.string()).check(z.minLength(1))),
  limit: z._default(z.number().check(z.int(), z.minimum(1), z.maximum(100)), 25),
  cursor: z.optional(z.string().check(z.maxLength(2000))),
});
export type QueryInput = z.infer<typeof queryInput>;

/** What happened to one exchange attempt, for the log (Art. 13). */
export type Outcome = "allowed" | "denied" | "failed";

/** One entry of the exchange log: every attempt, allowed, denied or failed. */
export interface ExchangeEntry {
  readonly transactionId: string;
  readonly time: string;
  readonly consumerSystem: string;
  readonly consumerAgency: string;
  /** For attempts refused at authentication: the system the unverified token named. */
  readonly claimedIssuer?: string;
  /** The end user on whose behalf the consumer called (its token's `usr`), when it named one (Art. 4.6, 13). */
  readonly endUser?: string;
  /** The case the consumer called for (its token's `case`), when it named one. */
  readonly caseRef?: string;
  readonly datasetId: string;
  readonly providerSystem?: string;
  readonly providerAgency?: string;
  readonly operation: "get-record" | "query" | "sync-batch" | "sync-delivery" | "export";
  /** For a batch: the system that submitted it. */
  readonly submittedBy?: string;
  /** For a batch and each delivery of it: the batch. */
  readonly batchId?: string;
  /** For a delivery to a subscriber (7.2b): the message delivered, and which attempt this was. */
  readonly deliveryId?: string;
  readonly attempt?: number;
  /** Served from the provider's system (7.2a) or from the integrated database (7.2c). */
  readonly method: "request" | "integrated" | "sync" | "export";
  readonly purpose?: string;
  readonly purposeClass?: string;
  readonly permissionId?: string;
  readonly fieldsReturned: readonly string[];
  readonly recordCount: number;
  /** Records the provider answered that broke the dataset's schema, withheld and reported. */
  readonly invalidRecords?: number;
  readonly outcome: Outcome;
  readonly status: number;
  readonly problemType?: string;
  readonly latencyMs: number;
  readonly bytes: number;
  readonly crossBorder: boolean;
}

/**
 * The fields of an exchange entry, as plain schemas: what the log's queue parses; the API's
 * description of an entry (api/logs.ts) takes them and adds its own checks and descriptions.
 */
export const exchangeEntryFields = {
  transactionId: z.string(),
  time: z.string(),
  consumerSystem: z.string(),
  consumerAgency: z.string(),
  claimedIssuer: z.optional(z.string()),
  endUser: z.optional(z.string()),
  caseRef: z.optional(z.string()),
  datasetId: z.string(),
  providerSystem: z.optional(z.string()),
  providerAgency: z.optional(z.string()),
  operation: z.enum(["get-record", "query", "sync-batch", "sync-delivery", "export"]),
  submittedBy: z.optional(z.string()),
  batchId: z.optional(z.string()),
  deliveryId: z.optional(z.string()),
  attempt: z.optional(z.number()),
  method: z.enum(["request", "integrated", "sync", "export"]),
  purpose: z.optional(z.string()),
  purposeClass: z.optional(z.string()),
  permissionId: z.optional(z.string()),
  fieldsReturned: z.readonly(z.array(z.string())),
  recordCount: z.number(),
  invalidRecords: z.optional(z.number()),
  outcome: z.enum(["allowed", "denied", "failed"]),
  status: z.number(),
  problemType: z.optional(z.string()),
  latencyMs: z.number(),
  bytes: z.number(),
  crossBorder: z.boolean(),
};

/** Where exchange entries go. Called exactly once per attempt. */
export type ExchangeLog = (entry: ExchangeEntry) => Promise<void>;
