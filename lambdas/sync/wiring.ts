import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { cached } from "../../adapters/cache/ttl-cache.ts";
import { DynamoBatchStore } from "../../adapters/dynamodb/batch-store.ts";
import { DynamoCatalogStore } from "../../adapters/dynamodb/catalog-store.ts";
import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoDeliveryStore } from "../../adapters/dynamodb/delivery-store.ts";
import { cachedSchemaVersions, DynamoDictionaryStore } from "../../adapters/dynamodb/dictionary-store.ts";
import { DynamoIntegratedStore } from "../../adapters/dynamodb/integrated-store.ts";
import { DynamoSubscriptionStore } from "../../adapters/dynamodb/subscription-store.ts";
import { s3ObjectStore } from "../../adapters/s3/object-store.ts";
import { stepFunctionsPipeline } from "../../adapters/sfn/pipeline.ts";
import { sqsChunkQueue } from "../../adapters/sqs/chunk-queue.ts";
import { sqsDeliveryQueue } from "../../adapters/sqs/delivery-queue.ts";
import { queuedExchangeLog } from "../../adapters/sqs/exchange-log-queue.ts";
import { FanOut as DeliveryFanOut } from "../../domain/delivery/fan-out.ts";
import { RecordValidator } from "../../domain/dictionary/validator.ts";
import { type ApplicationPorts, ChunkApplication, PartitionApplication } from "../../domain/sync/application.ts";
import { Completion } from "../../domain/sync/completion.ts";
import type { Batch, FanOut } from "../../domain/sync/model.ts";
import { Preparation } from "../../domain/sync/preparation.ts";
import { BatchReader } from "../../domain/sync/status.ts";
import { Submission } from "../../domain/sync/submission.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { metrics } from "../shared/observability.ts";
import { syncApiEnvironment, syncWorkerEnvironment } from "./environment.ts";

/*
 * The sync jobs of this execution environment, each built on first use from the adapters it
 * needs: the API takes submissions and reads batches, the chunk worker applies chunks, the upload
 * pipeline prepares, applies and fails uploaded batches.
 */

const environment = lazyEnvironment(syncWorkerEnvironment);
/** Only the API function has (and reads) the exchange log and the upload state machine. */
const apiEnvironment = lazyEnvironment(syncApiEnvironment);
const SUBSCRIBERS_TTL_MS = 5_000;
/** How long a part waits for another batch of its dataset before it is deferred (the chunk worker's is shorter). */
const LEASE_WAIT_MS = 30_000;

/** A value built on first use, then kept. */
function lazy<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= build();
    return value;
  };
}

const batches = lazy(() => new DynamoBatchStore(dynamoDbClient(), environment().INTEGRATED_TABLE_NAME));
const integrated = lazy(() => new DynamoIntegratedStore(dynamoDbClient(), environment().INTEGRATED_TABLE_NAME));
const catalog = lazy(() => new DynamoCatalogStore(dynamoDbClient(), environment().REGISTRY_TABLE_NAME));
const schemas = lazy(() =>
  cachedSchemaVersions(new DynamoDictionaryStore(dynamoDbClient(), environment().REGISTRY_TABLE_NAME)),
);
const validator = lazy(() => new RecordValidator());
const objects = lazy(() => s3ObjectStore(environment().UPLOADS_BUCKET_NAME));
const chunkQueue = lazy(() => sqsChunkQueue(environment().SYNC_QUEUE_URL));

/** Hands the changes a batch makes to its dataset's subscribers (7.2b). */
const fanOut = lazy((): FanOut => {
  const client = dynamoDbClient();
  const env = environment();
  const subscriptions = new DynamoSubscriptionStore(client, env.INTEGRATED_TABLE_NAME);
  // A new subscription reaches the workers' fan-out within this time.
  const subscribers = cached((datasetId: string) => subscriptions.ofDataset(datasetId), { ttlMs: SUBSCRIBERS_TTL_MS });
  const deliveries = new DeliveryFanOut({
    subscriptions: { ofDataset: async (datasetId) => (await subscribers(datasetId)) ?? [] },
    deliveries: new DynamoDeliveryStore(client, env.INTEGRATED_TABLE_NAME),
    batches: batches(),
    queue: sqsDeliveryQueue(env.DELIVERY_QUEUE_URL),
  });
  return (batch, source, changes) => deliveries.run(batch, source, changes);
});

/** Per-batch figures (Art. 13), published by whichever function finished the batch. */
function batchMetrics(batch: Batch): void {
  metrics.addMetric(batch.state === "completed" ? "batchesCompleted" : "batchesFailed", MetricUnit.Count, 1);
  metrics.addMetric("batchRecordsReceived", MetricUnit.Count, batch.received);
  metrics.addMetric("batchRecordsRejected", MetricUnit.Count, batch.rejected);
  if (batch.completedAt) {
    metrics.addMetric(
      "batchDuration",
      MetricUnit.Milliseconds,
      Date.parse(batch.completedAt) - Date.parse(batch.submittedAt),
    );
  }
  metrics.addMetadata("batchId", batch.batchId);
  metrics.addMetadata("datasetId", batch.datasetId);
}

let completionJob: Completion | undefined;
/**
 * Completes and fails batches. `leaseWaitMs`: how long a full sync waits for another batch of its
 * dataset (the first caller of this execution environment sets it).
 */
export function completion(leaseWaitMs = LEASE_WAIT_MS): Completion {
  completionJob ??= new Completion({
    batches: batches(),
    integrated: integrated(),
    fanOut: fanOut(),
    onFinished: batchMetrics,
    leaseWaitMs,
  });
  return completionJob;
}

/** What applying a part of a batch needs, whether a chunk or a partition. */
function applicationPorts(leaseWaitMs: number): ApplicationPorts {
  return {
    catalog: catalog(),
    batches: batches(),
    integrated: integrated(),
    completion: completion(leaseWaitMs),
    fanOut: fanOut(),
    leaseWaitMs,
  };
}

let chunkJob: ChunkApplication | undefined;
/**
 * Applies chunks of inline batches (the chunk worker's job). The worker takes five chunks an
 * invocation within its minute, so it passes a shorter `leaseWaitMs`.
 */
export function chunkApplication(leaseWaitMs = LEASE_WAIT_MS): ChunkApplication {
  chunkJob ??= new ChunkApplication({ ...applicationPorts(leaseWaitMs), queue: chunkQueue() });
  return chunkJob;
}

/** Applies partitions of uploaded batches (a task of the upload state machine). */
export const partitionApplication = lazy(
  () => new PartitionApplication({ ...applicationPorts(LEASE_WAIT_MS), objects: objects() }),
);

/** Prepares uploaded batches into partitions (the upload state machine's first task). */
export const preparation = lazy(
  () =>
    new Preparation({
      catalog: catalog(),
      schemas: schemas(),
      validator: validator(),
      batches: batches(),
      objects: objects(),
      completion: completion(),
    }),
);

/** Takes inline batches and uploads, logging each submission (the API's job). */
export const submission = lazy(() => {
  const env = apiEnvironment();
  return new Submission({
    catalog: catalog(),
    schemas: schemas(),
    validator: validator(),
    batches: batches(),
    queue: chunkQueue(),
    log: queuedExchangeLog(env.LOG_QUEUE_URL, Number(env.LOG_SHARDS)),
    objects: objects(),
    pipeline: stepFunctionsPipeline(env.SYNC_STATE_MACHINE_ARN),
    completion: completion(),
  });
});

/** Reads batches for those who may (the API's job). */
export const batchReader = lazy(() => new BatchReader({ batches: batches(), objects: objects() }));
