import * as z from "zod/mini";
import type { PublicDataset } from "../domain/catalog/catalog-service.ts";
import {
  CLASSIFICATIONS,
  type Dataset,
  datasetField,
  MANDATORY_LISTS,
  SHARING_METHODS,
} from "../domain/catalog/model.ts";
import type { DeliveryRecord, InboxMessage, Subscription } from "../domain/delivery/model.ts";
import type { ValidationReport } from "../domain/dictionary/dictionary-service.ts";
import {
  type CodeEntry,
  type CodeList,
  FIELD_STATUSES,
  FIELD_TYPES,
  type Field,
  RELATIONS,
  type SchemaSummary,
  type SchemaVersion,
} from "../domain/dictionary/model.ts";
import type { StandardisationReport } from "../domain/dictionary/standardisation.ts";
import type { ExchangeEntry } from "../domain/exchange/model.ts";
import type { ChainedEntry, LogFinding, ShardVerdict } from "../domain/exchange-log/chain.ts";
import type { Checkpoint, SignedCheckpoint } from "../domain/exchange-log/checkpoint.ts";
import type { LogVerification } from "../domain/exchange-log/checkpointing.ts";
import type { MetricsSummary } from "../domain/exchange-log/metrics.ts";
import type { ExportJob } from "../domain/export/model.ts";
import type { HealthReport } from "../domain/health.ts";
import { MASTER_DATA_LEVELS, type MasterDataItem } from "../domain/master-data/master-data.ts";
import { type AccessRequest, type Permission, PURPOSE_CLASSES } from "../domain/permissions/model.ts";
import type { ProblemDetails } from "../domain/problem.ts";
import {
  AGENCY_LEVELS,
  type Agency,
  CAPABILITIES,
  ENDPOINT_STATUSES,
  type KeyRecord,
  publicJwk,
  ROLES,
  type SystemRecord,
} from "../domain/registry/model.ts";
import type { Batch } from "../domain/sync/model.ts";

/*
 * What the API answers with, as schemas: the OpenAPI document's response components. The
 * domain's own types are the source of truth; the checks at the end of this file fail to
 * compile when a schema here and the type it describes drift apart.
 */

const instant = z.string().check(z.describe("ISO 8601 date-time"));

export const problemDetails = z.object({
  type: z.string().check(z.describe("urn:dscp:problem:<kind>; clients branch on this, never on title or detail")),
  title: z.string(),
  status: z.number().check(z.int()),
  detail: z.optional(z.string()),
  instance: z.optional(z.string()),
  transactionId: z.optional(z.string()),
  invalidParams: z.optional(
    z.array(
      z.object({
        name: z.string().check(z.describe("Path of the offending field, e.g. keys/0/jwk/crv")),
        reason: z.string(),
      }),
    ),
  ),
});

export const agency = z.object({
  code: z.string(),
  name: z.string(),
  nameEn: z.optional(z.string()),
  level: z.enum(AGENCY_LEVELS),
  parentCode: z.optional(z.string()),
  country: z.string(),
  createdAt: instant,
});

export const system = z.object({
  id: z.string(),
  agencyCode: z.string(),
  name: z.string(),
  capabilities: z.array(z.enum(CAPABILITIES)),
  roles: z.array(z.enum(ROLES)),
  endpoint: z.optional(z.string()),
  endpointStatus: z.optional(
    z.enum(ENDPOINT_STATUSES).check(z.describe("The platform calls the endpoint only once the operator approved it")),
  ),
  endpointApprovedBy: z.optional(z.string()),
  endpointApprovedAt: z.optional(instant),
  status: z.enum(["active", "suspended"]),
  createdAt: instant,
});

export const key = z.object({
  systemId: z.string(),
  kid: z.string(),
  alg: z.enum(["EdDSA", "ES256"]),
  jwk: publicJwk,
  status: z.enum(["active", "revoked"]),
  createdAt: instant,
  revokedAt: z.optional(instant),
});

const datasetShape = {
  id: z.string(),
  managingAgency: z.string(),
  providerSystem: z.string(),
  title: z.string(),
  titleEn: z.optional(z.string()),
  description: z.string(),
  scope: z.string(),
  qualityStatement: z.string(),
  accessConditions: z.string(),
  updateFrequency: z.optional(z.string()),
  classification: z.enum(CLASSIFICATIONS.filter((value) => value !== "secret") as ["public", "internal", "restricted"]),
  mandatory: z.enum(MANDATORY_LISTS),
  crossBorderAllowed: z.boolean(),
  methods: z.array(z.enum(SHARING_METHODS)),
  schema: z.optional(z.object({ id: z.string(), version: z.string() })),
  standardisedAt: z.optional(instant),
  keyFields: z.array(z.string()),
  fields: z.array(datasetField),
  createdAt: instant,
  updatedAt: instant,
  revision: z.number().check(z.int(), z.describe("Increments with every change")),
};

export const dataset = z.object({ ...datasetShape, upstreamPath: z.optional(z.string()) });
export const publicDataset = z.object(datasetShape);

const termsShape = {
  datasetId: z.string(),
  fields: z.array(z.string()),
  purpose: z.string(),
  purposeClass: z.enum(PURPOSE_CLASSES),
  methods: z.array(z.enum(SHARING_METHODS)),
  validFrom: instant,
  validUntil: instant,
  legalBasis: z.string(),
  consumerSystem: z.string(),
  consumerAgency: z.string(),
  providerAgency: z.string(),
};

export const accessRequest = z.object({
  ...termsShape,
  id: z.string(),
  requestedBy: z.string(),
  status: z.enum(["pending", "approved", "rejected"]),
  createdAt: instant,
  decidedAt: z.optional(instant),
  decidedBy: z.optional(z.string()),
  reason: z.optional(z.string()),
  permissionId: z.optional(z.string()),
});

export const permission = z.object({
  ...termsShape,
  id: z.string(),
  grantType: z.enum(["request", "mandatory"]),
  requestId: z.optional(z.string()),
  grantedBy: z.string(),
  commercial: z.boolean(),
  crossBorder: z.boolean(),
  status: z.enum(["active", "revoked"]),
  createdAt: instant,
  revokedAt: z.optional(instant),
  revokedBy: z.optional(z.string()),
  revokeReason: z.optional(z.string()),
});

export const decision = z.object({ request: accessRequest, permission: z.optional(permission) });

const record = z.record(z.string(), z.unknown());
const recordError = z.object({ path: z.string(), rule: z.string(), message: z.string() });

export const exchangeRecord = z.object({ datasetId: z.string(), key: z.string(), record });
export const exchangePage = z.object({
  datasetId: z.string(),
  items: z.array(record),
  nextCursor: z.optional(z.string()),
});

const entryShape = {
  transactionId: z.string(),
  time: instant,
  consumerSystem: z.string(),
  consumerAgency: z.string(),
  claimedIssuer: z.optional(z.string()),
  datasetId: z.string(),
  providerSystem: z.optional(z.string()),
  providerAgency: z.optional(z.string()),
  operation: z.enum(["get-record", "query", "sync-batch", "sync-delivery", "export"]),
  submittedBy: z.optional(z.string()),
  batchId: z.optional(z.string()),
  deliveryId: z.optional(z.string().check(z.describe("The delivery message (sync-delivery)"))),
  attempt: z.optional(z.number().check(z.int(), z.describe("Which attempt at the delivery this was"))),
  method: z.enum(["request", "integrated", "sync", "export"]),
  purpose: z.optional(z.string()),
  purposeClass: z.optional(z.string()),
  permissionId: z.optional(z.string()),
  fieldsReturned: z.array(z.string()),
  recordCount: z.number().check(z.int()),
  invalidRecords: z.optional(z.number().check(z.int())),
  outcome: z.enum(["allowed", "denied", "failed"]),
  status: z.number().check(z.int()),
  problemType: z.optional(z.string()),
  latencyMs: z.number(),
  bytes: z.number().check(z.int()),
  crossBorder: z.boolean(),
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

export const health = z.object({
  status: z.enum(["ok", "degraded"]),
  version: z.string(),
  stage: z.string(),
  time: instant,
  checks: z.record(
    z.string(),
    z.object({ status: z.enum(["ok", "failing"]), latencyMs: z.number(), error: z.optional(z.string()) }),
  ),
});

export const keySet = z.object({
  keys: z.array(
    z.object({ kty: z.literal("EC"), crv: z.literal("P-256"), x: z.string(), y: z.string(), kid: z.string() }),
  ),
});

export const field = z.object({
  code: z.string(),
  name: z.string(),
  nameEn: z.string(),
  description: z.string(),
  type: z.enum(FIELD_TYPES),
  format: z.optional(z.string()),
  pattern: z.optional(z.string()),
  minLength: z.optional(z.number()),
  maxLength: z.optional(z.number()),
  minimum: z.optional(z.number()),
  maximum: z.optional(z.number()),
  unit: z.optional(z.string()),
  allowedValues: z.optional(z.array(z.union([z.string(), z.number()]))),
  codeList: z.optional(z.string()),
  relationships: z.array(z.object({ relation: z.enum(RELATIONS), field: z.string() })),
  owner: z.string(),
  status: z.enum(FIELD_STATUSES),
  createdAt: instant,
  updatedAt: instant,
  revision: z.number().check(z.int()),
});

export const codeList = z.object({
  code: z.string(),
  name: z.string(),
  nameEn: z.string(),
  description: z.string(),
  owner: z.string(),
  source: z.optional(z.string()),
  entryCount: z.number().check(z.int()),
  createdAt: instant,
  updatedAt: instant,
});

export const codeEntry = z.object({
  code: z.string(),
  label: z.string(),
  labelEn: z.optional(z.string()),
  parent: z.optional(z.string()),
});

export const schemaVersion = z.object({
  id: z.string(),
  version: z.string(),
  owner: z.string(),
  title: z.string(),
  description: z.optional(z.string()),
  fields: z.array(z.object({ field: z.string(), required: z.boolean(), multiple: z.boolean() })),
  keyFields: z.array(z.string()),
  changes: z.optional(z.string()),
  status: z.enum(["published"]),
  publishedAt: instant,
  publishedBy: z.string(),
  jsonSchema: z.record(z.string(), z.unknown()).check(z.describe("The compiled JSON Schema (2020-12)")),
});

export const schemaSummary = z.object({
  id: z.string(),
  owner: z.string(),
  title: z.string(),
  latestVersion: z.string(),
  updatedAt: instant,
});

export const validationReport = z.object({
  schema: z.object({ id: z.string(), version: z.string() }),
  checked: z.number().check(z.int()),
  valid: z.number().check(z.int()),
  invalid: z.array(z.object({ index: z.number().check(z.int()), errors: z.array(recordError) })),
});

export const masterDataItem = z.object({
  code: z.string(),
  name: z.string(),
  nameEn: z.string(),
  description: z.optional(z.string()),
  level: z.enum(MASTER_DATA_LEVELS),
  sector: z.optional(z.string()),
  keyIdentifier: z.object({ field: z.string(), name: z.string() }),
  sourceDataset: z.string(),
  managingAgency: z.string(),
  registeredBy: z.string(),
  registeredAt: instant,
});

const standardisationStatus = z.enum(["standardised", "standardised-late", "pending", "overdue"]);

export const standardisation = z.object({
  asOf: instant,
  deadlines: z.object({ "appendix-i": z.string(), other: z.string() }),
  agencies: z.array(
    z.object({
      agency: z.string(),
      datasets: z.number().check(z.int()),
      standardised: z.number().check(z.int()),
      standardisedLate: z.number().check(z.int()),
      pending: z.number().check(z.int()),
      overdue: z.number().check(z.int()),
      late: z.array(z.string()),
    }),
  ),
  datasets: z.array(
    z.object({
      datasetId: z.string(),
      managingAgency: z.string(),
      mandatory: z.enum(MANDATORY_LISTS),
      status: standardisationStatus,
      deadline: z.string(),
      schema: z.optional(z.object({ id: z.string(), version: z.string() })),
      standardisedOn: z.optional(z.string()),
      daysLeft: z.optional(z.number().check(z.int())),
    }),
  ),
});

const rejection = z.object({
  index: z.number().check(z.int()),
  key: z.optional(z.string()),
  errors: z.array(recordError),
});

const batchShape = {
  batchId: z.string(),
  datasetId: z.string(),
  providerSystem: z.string(),
  providerAgency: z.string(),
  mode: z.enum(["incremental", "full"]),
  schema: z.object({ id: z.string(), version: z.string() }),
  digest: z.string().check(z.describe("SHA-256 of the batch as submitted")),
  state: z.enum(["awaiting-upload", "processing", "completed", "failed"]),
  received: z.number().check(z.int()),
  rejected: z.number().check(z.int()),
  collapsed: z.number().check(z.int(), z.describe("Superseded by a later operation on the same key")),
  applied: z.number().check(z.int()),
  unchanged: z.number().check(z.int(), z.describe("Applied upserts identical to the stored record: no new version")),
  superseded: z.optional(
    z
      .number()
      .check(
        z.int(),
        z.describe("Applied operations on records a later batch of the dataset had already written: no new version"),
      ),
  ),
  tombstoned: z.number().check(z.int(), z.describe("Records a full sync deleted because it did not carry them")),
  chunks: z.number().check(z.int()),
  chunksDone: z.number().check(z.int()),
  rejections: z
    .array(rejection)
    .check(z.describe("Each rejected operation by index, key, path and rule (the first 200)")),
  submittedAt: instant,
  completedAt: z.optional(instant),
  transactionId: z.string(),
  sequence: z.optional(
    z
      .number()
      .check(
        z.int(),
        z.describe(
          "The batch's place among its dataset's batches, given when it is submitted: no operation of an earlier batch overwrites a record a later one wrote",
        ),
      ),
  ),
  queued: z.optional(z.boolean().check(z.describe("False until the batch's chunks are queued for the workers"))),
  upload: z.optional(
    z.object({
      key: z.string().check(z.describe("Where the uploaded file is kept")),
      uploadId: z.optional(z.string()),
    }),
  ),
  failure: z.optional(z.string()),
  rejectionReport: z.optional(
    z.string().check(z.describe("When more were rejected than listed: where the full report is kept")),
  ),
  deliveries: z
    .object({
      expected: z.number().check(z.int(), z.describe("Record versions queued for subscribers, summed over them")),
      delivered: z.number().check(z.int()),
      failed: z.number().check(z.int(), z.describe("Dead-lettered after every attempt failed; redrive to retry")),
      refused: z.number().check(z.int(), z.describe("Refused at delivery: permission lapsed or subscription ended")),
    })
    .check(z.describe("Deliveries of the batch's changes to subscribed consumers (7.2b)")),
};

export const batch = z.object(batchShape);
export const upload = z.object({
  batch,
  upload: z.optional(
    z
      .object({
        method: z.literal("PUT"),
        expiresAt: instant,
        url: z.optional(
          z.string().check(z.describe("PUT the NDJSON file here (one operation per line), then POST …/complete")),
        ),
        parts: z.optional(
          z
            .array(z.object({ partNumber: z.number().check(z.int()), url: z.string() }))
            .check(
              z.describe(
                "For a multipart upload: PUT each part to its URL, keep each ETag, name them all on …/complete",
              ),
            ),
        ),
      })
      .check(z.describe("Only while the batch awaits its file")),
  ),
});
export const batchStatus = z.object({
  ...batchShape,
  pending: z.number().check(z.int(), z.describe("Valid operations not applied yet")),
  rejectionReportUrl: z.optional(
    z
      .string()
      .check(z.describe("GET it for every rejection, one JSON line each (index, key, errors); valid 15 minutes")),
  ),
  deliveries: z.object({
    ...batchShape.deliveries.shape,
    pending: z.number().check(z.int(), z.describe("Queued or being retried")),
  }),
});

export const subscription = z.object({
  id: z.string().check(z.describe("<datasetId>@<consumerSystem>: one per consumer system and dataset")),
  datasetId: z.string(),
  consumerSystem: z.string(),
  consumerAgency: z.string(),
  delivery: z.enum(["push", "inbox"]),
  path: z.optional(z.string().check(z.describe("Push: the path below the system's endpoint that takes deliveries"))),
  fields: z.array(z.string()),
  permissionId: z.string().check(z.describe("The permission that allowed it; every delivery checks again")),
  createdAt: instant,
  createdBy: z.string(),
});

export const subscriptionList = z.object({ items: z.array(subscription) });

const deliveredRecord = z.object({
  idempotencyKey: z
    .string()
    .check(z.describe("<datasetId>:<key>:v<version>, the same on every delivery of this version: apply it once")),
  key: z.string(),
  version: z.number().check(z.int(), z.describe("Apply only if newer than the version you hold")),
  op: z.enum(["upsert", "delete"]),
  record: z.optional(z.record(z.string(), z.unknown()).check(z.describe("The subscription's fields (upserts)"))),
  changedAt: instant,
});

export const inboxMessage = z.object({
  receipt: z.string().check(z.describe("Pass to POST /v1/inbox/ack once applied")),
  messageId: z.string(),
  batchId: z.string(),
  datasetId: z.string(),
  providerSystem: z.string(),
  records: z.array(deliveredRecord),
  deliveredAt: instant,
});

export const acknowledgement = z.object({
  acknowledged: z.number().check(z.int()),
  unknown: z.array(z.string()).check(z.describe("Receipts not in the caller's inbox (acknowledged before?)")),
});

export const redriven = z.object({
  redriven: z.number().check(z.int()),
  messages: z.array(z.string()),
});

export const deliveryRecord = z.object({
  messageId: z.string(),
  batchId: z.string(),
  datasetId: z.string(),
  consumerSystem: z.string(),
  delivery: z.enum(["push", "inbox"]),
  records: z.number().check(z.int()),
  state: z.enum(["pending", "delivered", "failed", "refused"]),
  attempts: z.number().check(z.int()),
  createdAt: instant,
  updatedAt: instant,
  lastError: z.optional(z.string()),
});

const party = z.object({ system: z.string(), agency: z.string() });
const exportShape = {
  exportId: z.string(),
  datasetId: z.string(),
  format: z.enum(["ndjson", "csv"]),
  fields: z.array(z.string()),
  filter: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  schema: z.object({ id: z.string(), version: z.string() }),
  requester: party,
  consumer: party.check(z.describe("Whom the package is for; its permission governs the fields")),
  purpose: z.string(),
  purposeClass: z.optional(z.string()),
  permissionId: z.optional(z.string()),
  legalBasis: z.optional(z.string()),
  state: z.enum(["running", "completed", "failed"]),
  progress: z.number().check(z.int(), z.describe("Records written so far")),
  createdAt: instant,
  completedAt: z.optional(instant),
  transactionId: z.string(),
  archive: z.optional(
    z.object({
      key: z.string(),
      bytes: z.number().check(z.int()),
      sha256: z.string().check(z.describe("SHA-256 of the whole .tar.gz as stored")),
      records: z.number().check(z.int()),
      withheld: z.number().check(z.int(), z.describe("Records that broke the schema, listed in the manifest")),
      files: z.number().check(z.int()),
    }),
  ),
  failure: z.optional(z.string()),
};
export const exportJob = z.object(exportShape);
export const exportStatus = z.object({
  ...exportShape,
  download: z.optional(
    z
      .object({ url: z.string(), expiresAt: instant })
      .check(z.describe("Once completed: GET the package here (a BagIt bag, .tar.gz), for 15 minutes")),
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

/** A page of a listing. */
export function page<T extends z.ZodMiniType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z.optional(z.string().check(z.describe("Pass as `cursor` for the next page; absent on the last"))),
  });
}

// ---- Drift checks: each schema describes exactly its domain type (compile-time only). ----

type Plain<T> = T extends readonly (infer U)[]
  ? Plain<U>[]
  : T extends object
    ? { -readonly [K in keyof T]: Plain<T[K]> }
    : T;
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Describes<S extends z.ZodMiniType, T> = Same<Plain<z.output<S>>, Plain<T>>;

/** Compiles only if every element is `true`. */
type AllTrue<T extends readonly true[]> = T;
export type DriftChecks = AllTrue<
  [
    Describes<typeof problemDetails, ProblemDetails>,
    Describes<typeof agency, Agency>,
    Describes<typeof system, SystemRecord>,
    Describes<typeof key, KeyRecord>,
    Describes<typeof dataset, Dataset>,
    Describes<typeof publicDataset, PublicDataset>,
    Describes<typeof accessRequest, AccessRequest>,
    Describes<typeof permission, Permission>,
    Describes<typeof logEntry, ChainedEntry>,
    Describes<typeof shardVerdict, ShardVerdict>,
    Describes<typeof logFinding, LogFinding>,
    Describes<typeof verification, LogVerification>,
    Describes<typeof checkpoint, Checkpoint>,
    Describes<typeof signedCheckpoint, SignedCheckpoint>,
    Describes<typeof health, HealthReport>,
    Describes<z.ZodMiniObject<typeof entryShape>, ExchangeEntry>,
    Describes<typeof field, Field>,
    Describes<typeof codeList, CodeList>,
    Describes<typeof codeEntry, CodeEntry>,
    Describes<typeof schemaVersion, SchemaVersion>,
    Describes<typeof schemaSummary, SchemaSummary>,
    Describes<typeof validationReport, ValidationReport>,
    Describes<typeof masterDataItem, MasterDataItem>,
    Describes<typeof standardisation, StandardisationReport>,
    Describes<typeof batch, Batch>,
    Describes<typeof subscription, Subscription>,
    Describes<typeof inboxMessage, InboxMessage>,
    Describes<typeof deliveryRecord, DeliveryRecord>,
    Describes<typeof exportJob, ExportJob>,
    Describes<typeof metricsSummary, MetricsSummary>,
  ]
>;
