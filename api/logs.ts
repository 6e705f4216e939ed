import * as z from "zod/mini";
import { type ExchangeEntry, exchangeEntryFields } from "../domain/exchange/model.ts";
import type { ChainedEntry, LogFinding, ShardVerdict } from "../domain/exchange-log/chain.ts";
import type { Checkpoint, SignedCheckpoint } from "../domain/exchange-log/checkpoint.ts";
import type { LogVerification } from "../domain/exchange-log/checkpointing.ts";
import { type MetricsSummary, metricsQuery } from "../domain/exchange-log/metrics.ts";
import { checkpointPageQuery, logQuery } from "../domain/exchange-log/model.ts";
import { pageQuery } from "../lambdas/shared/routes.ts";
import { type AllTrue, type Describes, instant, named, page, signedProblems } from "./responses.ts";
import { routes } from "./route.ts";

/*
 * The exchange log (Art. 13): its entries, figures and verification; its signed checkpoints,
 * published to anyone, and taken on demand. Three functions serve them.
 */

const entryShape = {
  ...exchangeEntryFields,
  time: instant,
  endUser: z.optional(
    z
      .string()
      .check(z.describe("The end user on whose behalf the consumer called, as its token's usr claim named them")),
  ),
  caseRef: z.optional(
    z.string().check(z.describe("The case the consumer called for, as its token's case claim named it")),
  ),
  deliveryId: z.optional(z.string().check(z.describe("The delivery message (sync-delivery)"))),
  attempt: z.optional(z.number().check(z.int(), z.describe("Which attempt at the delivery this was"))),
  fieldsReturned: z.array(z.string()),
  recordCount: z.number().check(z.int()),
  invalidRecords: z.optional(z.number().check(z.int())),
  status: z.number().check(z.int()),
  bytes: z.number().check(z.int()),
};

export const logEntry = z.object({
  ...entryShape,
  shard: z.number().check(z.int()),
  seq: z.number().check(z.int()),
  prevHash: z.string().check(z.describe("Hash of the previous entry of the shard (hex SHA-256)")),
  hash: z.string().check(z.describe("SHA-256 over prevHash, shard, seq and the entry's canonical JSON")),
});

export const logFinding = z.object({
  kind: z
    .enum(["broken", "truncated", "rewound", "rewritten"])
    .check(
      z.describe(
        "broken: the table's chain does not hold; against the latest signed checkpoint, truncated: entries it commits to are gone; rewound: the head is behind it; rewritten: an entry it commits to was replaced",
      ),
    ),
  seq: z.number().check(z.int(), z.describe("The first entry concerned")),
  reason: z.string(),
});

export const shardVerdict = z.object({
  shard: z.number().check(z.int()),
  entries: z.number().check(z.int()),
  valid: z.boolean(),
  brokenAt: z.optional(z.number().check(z.int())),
  reason: z.optional(z.string()),
  findings: z.optional(z.array(logFinding)),
  checkpointed: z.optional(
    z.object({
      checkpoint: z.number().check(z.int()),
      seq: z.number().check(z.int()),
      hash: z.string(),
    }),
  ),
});

export const verification = z.object({
  valid: z.boolean(),
  checkedAt: instant,
  entries: z.number().check(z.int()),
  checkpoint: z.optional(
    z
      .object({ number: z.number().check(z.int()), time: instant })
      .check(z.describe("The signed checkpoint the table was checked against; absent before the first")),
  ),
  checkpointProblem: z.optional(
    z.string().check(z.describe("Why the latest archived checkpoint could not be used: it does not verify")),
  ),
  shards: z.array(shardVerdict),
});

export const checkpointShard = z.object({
  shard: z.number().check(z.int()),
  seq: z.number().check(z.int(), z.describe("The last entry of the shard the checkpoint commits to")),
  hash: z.string().check(z.describe("Its hash (hex SHA-256)")),
  segment: z.optional(
    z
      .object({
        key: z.string(),
        fromSeq: z.number().check(z.int()),
        toSeq: z.number().check(z.int()),
        sha256: z.string(),
      })
      .check(z.describe("The entries since the previous checkpoint, archived beside it in the log-archive bucket")),
  ),
});

export const checkpoint = z.object({
  issuer: z.string(),
  number: z.number().check(z.int()),
  time: instant,
  previous: z.nullable(z.string().check(z.describe("SHA-256 (hex) of the previous checkpoint's JWS"))),
  shards: z.array(checkpointShard),
});

export const signedCheckpoint = z.object({
  checkpoint,
  jws: z
    .string()
    .check(
      z.describe(
        "Compact JWS (ES256, typ dscp-log-checkpoint+jws) whose payload is the checkpoint's canonical JSON; verify it with GET /v1/platform/keys",
      ),
    ),
});

const tallyShape = {
  total: z.number().check(z.int()),
  allowed: z.number().check(z.int()),
  denied: z.number().check(z.int()),
  failed: z.number().check(z.int()),
  records: z.number().check(z.int()),
  bytes: z.number().check(z.int()),
};

export const metricsSummary = z.object({
  from: instant,
  to: instant,
  entries: z.number().check(z.int()),
  truncated: z.boolean().check(z.describe("More entries fell in the window than were summarised: narrow it")),
  outcomes: z.object({
    allowed: z.number().check(z.int()),
    denied: z.number().check(z.int()),
    failed: z.number().check(z.int()),
  }),
  errorRate: z.number().check(z.describe("Failed attempts, in percent of all")),
  denialRate: z.number().check(z.describe("Denied attempts, in percent of all")),
  latencyMs: z.object({ p50: z.number(), p95: z.number(), p99: z.number(), max: z.number() }),
  records: z.number().check(z.int()),
  bytes: z.number().check(z.int()),
  byOperation: z.array(z.object({ operation: z.string(), ...tallyShape })),
  byMethod: z.array(z.object({ method: z.string(), ...tallyShape })),
  byDataset: z.array(z.object({ datasetId: z.string(), ...tallyShape })),
  byConsumer: z.array(z.object({ consumerSystem: z.string(), ...tallyShape })),
  problems: z.array(z.object({ problemType: z.string(), count: z.number().check(z.int()) })),
});

/** Served by the log reader function. */
export const logReaderRoutes = routes({
  listLogEntries: {
    method: "GET",
    path: "/v1/logs",
    tag: "Exchange log",
    summary: "Exchange log entries (Art. 13): a consumer its calls, a provider its datasets', the supervisor all",
    auth: "signed",
    query: [logQuery, pageQuery],
    success: {
      status: 200,
      description: "A page of entries",
      schema: named("LogEntryPage", page(logEntry)),
    },
    problems: signedProblems,
  },
  getMetrics: {
    method: "GET",
    path: "/v1/metrics",
    tag: "Exchange log",
    summary:
      "Exchange figures over a time window, from the log (Art. 13): outcomes, error and denial rates, latency, volume, per operation, method, dataset and consumer",
    description:
      "The same figures the CloudWatch dashboard shows on AWS, computed from the exchange log, so they are there locally too. A consumer sees its agency's calls, a provider (view=provider) its datasets', the supervisor and the operator everything. At most 100,000 entries are summarised; `truncated` says when the window held more.",
    auth: "signed",
    query: [metricsQuery],
    success: { status: 200, description: "The summary", schema: named("Metrics", metricsSummary) },
    problems: signedProblems,
  },
  verifyLog: {
    method: "GET",
    path: "/v1/logs/verify",
    tag: "Exchange log",
    summary: "Verify every hash chain of the log, and against the latest signed checkpoint (operator, supervisor)",
    description:
      "Reports, by shard, entry and reason: a chain that does not hold (broken), and against the latest signed checkpoint, entries it commits to that are gone (truncated), a head behind it (rewound), or an entry it commits to that was replaced with its hash and the chain after it recomputed (rewritten).",
    auth: "signed",
    success: {
      status: 200,
      description: "The verdict, shard by shard",
      schema: named("Verification", verification),
    },
    problems: [401, 403],
  },
});

/** Served by the published checkpoints' function, which reads the archive only. */
export const checkpointPublisherRoutes = routes({
  listLogCheckpoints: {
    method: "GET",
    path: "/v1/logs/checkpoints",
    tag: "Exchange log",
    summary: "The log's signed checkpoints, newest first (public)",
    description:
      "Every few minutes each shard's chain head (sequence and hash) is signed by the platform key and archived under S3 Object Lock with the entries it covers. Anyone can fetch the checkpoints and check them offline with GET /v1/platform/keys (dscp checkpoints verify); once one is published, the log below its heads cannot be truncated, rewound or rewritten unnoticed.",
    auth: {
      public:
        "The log's signed checkpoints are public by design (Art. 13: public disclosure): anyone holding the published key set can check that the log was not rewritten.",
    },
    query: [checkpointPageQuery],
    success: {
      status: 200,
      description: "A page of checkpoints",
      schema: named("CheckpointPage", page(signedCheckpoint)),
    },
    problems: [400],
  },
  getLatestLogCheckpoint: {
    method: "GET",
    path: "/v1/logs/checkpoints/latest",
    tag: "Exchange log",
    summary: "The latest signed checkpoint of the log (public)",
    auth: {
      public:
        "The log's signed checkpoints are public by design (Art. 13: public disclosure): anyone holding the published key set can check that the log was not rewritten.",
    },
    success: {
      status: 200,
      description: "The checkpoint and its JWS",
      schema: named("SignedCheckpoint", signedCheckpoint),
    },
    problems: [404],
  },
});

/** Served by the checkpointer, which also runs on a schedule. */
export const checkpointerRoutes = routes({
  takeLogCheckpoint: {
    method: "POST",
    path: "/v1/logs/checkpoints",
    tag: "Exchange log",
    summary: "Take a checkpoint now, besides the schedule's (operator, supervisor)",
    auth: "signed",
    success: {
      status: 201,
      description: "The checkpoint taken, signed and archived",
      schema: named("SignedCheckpoint", signedCheckpoint),
    },
    problems: [401, 403],
  },
});

export type LogDriftChecks = AllTrue<
  [
    Describes<typeof logEntry, ChainedEntry>,
    Describes<typeof shardVerdict, ShardVerdict>,
    Describes<typeof logFinding, LogFinding>,
    Describes<typeof verification, LogVerification>,
    Describes<typeof checkpoint, Checkpoint>,
    Describes<typeof signedCheckpoint, SignedCheckpoint>,
    Describes<z.ZodMiniObject<typeof entryShape>, ExchangeEntry>,
    Describes<typeof metricsSummary, MetricsSummary>,
  ]
>;
