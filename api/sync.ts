import * as z from "zod/mini";
import { type DeliveryRecord, deliveryListQuery } from "../domain/delivery/model.ts";
import { type Batch, batchInput, batchOwnerQuery, completionInput, uploadInput } from "../domain/sync/model.ts";
import { pageQuery } from "../lambdas/shared/routes.ts";
import { type AllTrue, type Describes, instant, named, page, recordError, signedProblems } from "./responses.ts";
import { routes } from "./route.ts";

/* Sync batches (Art. 7.2b-c): inline or uploaded, their state, and their deliveries to subscribers. */

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

/** Served by the sync API function. */
export const syncRoutes = routes({
  submitBatch: {
    method: "POST",
    path: "/v1/sync/{datasetId}/batches",
    tag: "Sync",
    summary: "Submit a batch of upserts and deletes (provider, Art. 7.2b-c), up to 1,000 operations",
    description:
      "Every operation is validated against the dataset's schema version; valid ones are applied to the integrated store, invalid ones reported by index, path and rule. The provider's batch id makes submission idempotent: the same batch again answers 200 and changes nothing, even while it is still being applied; other content under the same id 409. Batches of a dataset take effect in the order they were submitted (`sequence`): an operation of an earlier batch never overwrites a record a later one wrote. A full sync deletes every record it does not carry, unless some of its records were rejected.",
    auth: "signed",
    body: named("Batch", batchInput),
    success: {
      status: 202,
      description: "Accepted and being applied (200: submitted before)",
      schema: named("BatchResult", batch),
    },
    problems: [...signedProblems, 404, 409, 422],
    bulkBody: true,
  },
  startUpload: {
    method: "POST",
    path: "/v1/sync/{datasetId}/uploads",
    tag: "Sync",
    summary: "Open an upload for a large batch: a presigned URL to PUT an NDJSON file to (provider)",
    description:
      "One operation per line, as in inline batches. After the PUT, POST /v1/sync/batches/{batchId}/complete starts processing: the file is streamed, validated and partitioned by key, and the partitions applied in parallel, in bounded memory whatever its size.",
    auth: "signed",
    body: named("UploadRequest", uploadInput),
    success: {
      status: 201,
      description: "The batch, awaiting its file, and where to put it",
      schema: named("Upload", upload),
    },
    problems: [...signedProblems, 404, 409, 422],
  },
  completeUpload: {
    method: "POST",
    path: "/v1/sync/batches/{batchId}/complete",
    tag: "Sync",
    summary: "The file is uploaded: process the batch (once; asking again changes nothing)",
    auth: "signed",
    query: [batchOwnerQuery],
    body: named("UploadCompletion", completionInput),
    success: { status: 202, description: "Processing", schema: named("BatchResult", batch) },
    problems: [400, 401, 404, 409, 422],
    bulkBody: true,
  },
  getBatch: {
    method: "GET",
    path: "/v1/sync/batches/{batchId}",
    tag: "Sync",
    summary: "A batch's state and counts, with its rejections (its provider's agency, supervisor, operator)",
    description:
      "Batch ids are their provider system's own: another provider's batch of the same id is another batch. The provider reads its batch by id; its agency's other systems, the supervisor and the operator name the provider (`provider`). A batch the caller may not read answers 404, as one that does not exist.",
    auth: "signed",
    query: [batchOwnerQuery],
    success: { status: 200, description: "The batch", schema: named("BatchStatus", batchStatus) },
    problems: [400, 401, 404],
  },
  listBatchDeliveries: {
    method: "GET",
    path: "/v1/sync/batches/{batchId}/deliveries",
    tag: "Sync",
    summary: "Where each delivery of a batch's changes to a subscriber stands (readers of the batch)",
    auth: "signed",
    query: [deliveryListQuery, batchOwnerQuery, pageQuery],
    success: {
      status: 200,
      description: "A page of delivery messages with their state, attempts and last error",
      schema: named("DeliveryPage", page(deliveryRecord)),
    },
    problems: [400, 401, 403, 404],
  },
});

export type SyncDriftChecks = AllTrue<
  [Describes<typeof batch, Batch>, Describes<typeof deliveryRecord, DeliveryRecord>]
>;
