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
import { sqsChunkQueue } from "../../adapters/sqs/chunk-queue.ts";
import { sqsDeliveryQueue } from "../../adapters/sqs/delivery-queue.ts";
import { FanOut } from "../../domain/delivery/fan-out.ts";
import { RecordValidator } from "../../domain/dictionary/validator.ts";
import type { ExchangeLog } from "../../domain/exchange/model.ts";
import type { Batch, UploadPipeline } from "../../domain/sync/model.ts";
import { SyncService } from "../../domain/sync/sync-service.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { metrics } from "../shared/observability.ts";
import { syncWorkerEnvironment } from "./environment.ts";

const environment = lazyEnvironment(syncWorkerEnvironment);
const SUBSCRIBERS_TTL_MS = 5_000;
let service: SyncService | undefined;

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

/** For the functions that apply batches but never take submissions (the worker, the pipeline). */
export const notLogging = (): ExchangeLog => async () => {
  throw new Error("this function applies batches; only the sync API takes (and logs) submissions");
};

/**
 * The sync service of this execution environment, built on first use, logging through `log`
 * and starting uploads' processing through `pipeline` (the API's; the workers have neither).
 * `leaseWaitMs`: how long a part waits for another batch of its dataset before it is deferred;
 * the chunk worker takes five chunks an invocation within its minute, so it waits 5 s.
 */
export function syncService(
  log: () => ExchangeLog,
  pipeline?: () => UploadPipeline,
  leaseWaitMs = 30_000,
): SyncService {
  if (service) return service;
  const env = environment();
  const client = dynamoDbClient();
  const batches = new DynamoBatchStore(client, env.INTEGRATED_TABLE_NAME);
  const subscriptions = new DynamoSubscriptionStore(client, env.INTEGRATED_TABLE_NAME);
  // A new subscription reaches the workers' fan-out within this time.
  const subscribers = cached((datasetId: string) => subscriptions.ofDataset(datasetId), { ttlMs: SUBSCRIBERS_TTL_MS });
  const fanOut = new FanOut({
    subscriptions: { ofDataset: async (datasetId) => (await subscribers(datasetId)) ?? [] },
    deliveries: new DynamoDeliveryStore(client, env.INTEGRATED_TABLE_NAME),
    batches,
    queue: sqsDeliveryQueue(env.DELIVERY_QUEUE_URL),
  });
  service = new SyncService({
    catalog: new DynamoCatalogStore(client, env.REGISTRY_TABLE_NAME),
    schemas: cachedSchemaVersions(new DynamoDictionaryStore(client, env.REGISTRY_TABLE_NAME)),
    validator: new RecordValidator(),
    batches,
    integrated: new DynamoIntegratedStore(client, env.INTEGRATED_TABLE_NAME),
    queue: sqsChunkQueue(env.SYNC_QUEUE_URL),
    onFinished: batchMetrics,
    log: log(),
    objects: s3ObjectStore(env.UPLOADS_BUCKET_NAME),
    fanOut: (batch, source, changes) => fanOut.run(batch, source, changes),
    leaseWaitMs,
    ...(pipeline ? { pipeline: pipeline() } : {}),
  });
  return service;
}
