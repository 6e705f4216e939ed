import { CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { DataStores } from "../constructs/data-stores.ts";
import { deliveryQueue } from "../constructs/delivery.ts";
import { exchangeLogQueue } from "../constructs/exchange-log.ts";
import { oversightQueue } from "../constructs/oversight.ts";
import { syncChunkQueue } from "../constructs/sync.ts";
import type { WorkQueue } from "../constructs/work-queue.ts";
import type { StageConfig } from "../stage.ts";

export interface DataStackProps extends StackProps {
  readonly stage: StageConfig;
}

/** The platform's work queues, each with its dead letters, by what they carry. */
export interface PlatformQueues {
  /** Entries of the exchange log, before they are chained (FIFO, grouped by shard). */
  readonly exchangeLog: WorkQueue;
  /** Changes of sync batches, to push to each subscriber. */
  readonly deliveries: WorkQueue;
  /** Chunks of inline sync batches, to apply to the integrated store. */
  readonly syncChunks: WorkQueue;
  /** Audits and rankings to run. */
  readonly oversight: WorkQueue;
}

/**
 * Everything that holds data, with its own lifecycle: keys, tables, buckets (the log archive
 * among them) and the work queues. Queues are here too: log entries not yet chained, deliveries
 * waiting for a consumer and dead letters waiting days for an operator's redrive are data that
 * must outlive a redeployment of the compute, and every capability that sends to a queue then
 * depends on this stack alone, never on another capability's. Retained in prod, destroyed with
 * the stack elsewhere (the log archive is always retained: its objects are locked).
 */
export class DataStack extends Stack {
  readonly stores: DataStores;
  readonly queues: PlatformQueues;

  constructor(scope: Construct, id: string, props: DataStackProps) {
    super(scope, id, props);
    this.stores = new DataStores(this, "DataStores", { stage: props.stage });
    const queue = { encryptionKey: this.stores.key, removalPolicy: props.stage.removalPolicy };
    this.queues = {
      exchangeLog: exchangeLogQueue(this, "ExchangeLogQueue", queue),
      deliveries: deliveryQueue(this, "DeliveryQueue", queue),
      syncChunks: syncChunkQueue(this, "SyncChunkQueue", queue),
      oversight: oversightQueue(this, "OversightQueue", queue),
    };

    new CfnOutput(this, "RegistryTableName", { value: this.stores.registryTable.tableName });
    new CfnOutput(this, "ExchangeLogTableName", { value: this.stores.exchangeLogTable.tableName });
    new CfnOutput(this, "IntegratedTableName", { value: this.stores.integratedTable.tableName });
    new CfnOutput(this, "UploadsBucketName", { value: this.stores.uploadsBucket.bucketName });
    new CfnOutput(this, "ExportsBucketName", { value: this.stores.exportsBucket.bucketName });
    new CfnOutput(this, "LogArchiveBucketName", { value: this.stores.logArchiveBucket.bucketName });
  }
}
