import { fileURLToPath } from "node:url";
import { Duration, Size } from "aws-cdk-lib";
import type { IAuthorizer, RestApi } from "aws-cdk-lib/aws-apigateway";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import type { IQueue } from "aws-cdk-lib/aws-sqs";
import { Fail, JsonPath, Map as MapState, type StateMachine, Succeed, TaskInput } from "aws-cdk-lib/aws-stepfunctions";
import { LambdaInvoke } from "aws-cdk-lib/aws-stepfunctions-tasks";
import { Construct } from "constructs";
import { syncRoutes } from "../../api/sync.ts";
import { syncApiEnvironment, syncWorkerEnvironment } from "../../lambdas/sync/environment.ts";
import type { StageConfig } from "../stage.ts";
import { addRoutes } from "./api-routes.ts";
import { DscpFunction } from "./dscp-function.ts";
import type { ExchangeLog } from "./exchange-log.ts";
import { grantObjects, grantTable } from "./grants.ts";
import { taskStateMachine } from "./task-machine.ts";
import { type WorkQueue, workQueueFactory } from "./work-queue.ts";

export interface SyncProps {
  /** The queue of batches' chunks (see {@link syncChunkQueue}), kept with the stateful stores. */
  readonly queue: WorkQueue;
  readonly api: RestApi;
  readonly authorizer: IAuthorizer;
  readonly registryTable: ITable;
  readonly integratedTable: ITable;
  /** Uploaded batch files and their partitions. */
  readonly uploadsBucket: IBucket;
  readonly encryptionKey: IKey;
  /** The exchange log, which records every batch submitted. */
  readonly log: ExchangeLog;
  /** Where the workers queue each change for delivery to subscribers. */
  readonly deliveryQueue: IQueue;
  readonly stage: StageConfig;
  readonly version: string;
}

const WORKER_TIMEOUT = Duration.seconds(60);

/**
 * The queue of batches' chunks (and their dead letters), made with the stateful stores and
 * handed to {@link Sync}, whose workers consume it.
 */
export const syncChunkQueue = workQueueFactory({ consumerTimeout: WORKER_TIMEOUT });

/** Another batch of the dataset holds its lease: wait for it (up to about an hour); no failure. */
const waitingForLease = {
  errors: ["DatasetBusy"],
  maxAttempts: 60,
  interval: Duration.seconds(5),
  backoffRate: 1.5,
  maxDelay: Duration.seconds(60),
};

/**
 * Sync batches (Art. 7.2b, 7.2c): the API validates a batch and queues its valid operations in
 * chunks; workers apply each chunk to the integrated store exactly once, the last one finishing
 * the batch (and, for a full sync, deleting what it did not carry).
 */
export class Sync extends Construct {
  /** The chunk queue (and its dead letters) and the upload state machine, for monitoring. */
  readonly queue: WorkQueue;
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: SyncProps) {
    super(scope, id);
    const queue = props.queue;
    const tables = {
      REGISTRY_TABLE_NAME: props.registryTable.tableName,
      INTEGRATED_TABLE_NAME: props.integratedTable.tableName,
      SYNC_QUEUE_URL: queue.queue.queueUrl,
      UPLOADS_BUCKET_NAME: props.uploadsBucket.bucketName,
      DELIVERY_QUEUE_URL: props.deliveryQueue.queueUrl,
    };
    const common = { stage: props.stage, version: props.version, memorySize: 1024 };

    // Uploaded batches: a state machine prepares partitions, then applies them four at a time.
    const pipelineFunction = new DscpFunction(this, "PipelineFunction", {
      ...common,
      environmentSchema: syncWorkerEnvironment,
      environment: tables,
      entry: fileURLToPath(new URL("../../lambdas/sync/pipeline.ts", import.meta.url)),
      description: "DSCP sync: prepares and applies uploaded batches (state machine tasks)",
      serviceName: "dscp-sync-pipeline",
      synchronous: true,
      timeout: Duration.minutes(15),
      ephemeralStorageSize: Size.gibibytes(4),
    });
    grantTable(pipelineFunction, props.registryTable, ["dynamodb:GetItem"]);
    grantTable(
      pipelineFunction,
      props.integratedTable,
      ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
      { indexes: ["byDataset"], writes: true },
    );
    grantObjects(pipelineFunction, props.uploadsBucket, {
      read: ["uploads/", "batches/"],
      write: ["batches/", "reports/"],
    });
    this.grantFanOut(pipelineFunction, props);
    const stateMachine = this.uploadPipeline(pipelineFunction, props.stage);
    this.queue = queue;
    this.stateMachine = stateMachine;

    const api = new DscpFunction(this, "ApiFunction", {
      ...common,
      environmentSchema: syncApiEnvironment,
      environment: {
        ...tables,
        LOG_QUEUE_URL: props.log.queue.queue.queueUrl,
        LOG_SHARDS: String(props.stage.logShards),
        SYNC_STATE_MACHINE_ARN: stateMachine.stateMachineArn,
      },
      entry: fileURLToPath(new URL("../../lambdas/sync/handler.ts", import.meta.url)),
      description: "DSCP sync: takes batches, validates them, queues their chunks",
      serviceName: "dscp-sync",
      synchronous: true,
      timeout: Duration.seconds(28),
    });
    grantTable(api, props.registryTable, ["dynamodb:GetItem"]);
    grantTable(
      api,
      props.integratedTable,
      ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
      { writes: true },
    );
    api.addToRolePolicy(new PolicyStatement({ actions: ["sqs:SendMessage"], resources: [queue.queue.queueArn] }));
    props.encryptionKey.grant(api, "kms:GenerateDataKey", "kms:Decrypt");
    props.log.grantWrite(api);
    // Presigned upload URLs carry the API's permission to put the file, and nothing else.
    // … and to read rejection reports, which it writes for inline batches.
    grantObjects(api, props.uploadsBucket, { read: ["uploads/", "reports/"], write: ["uploads/", "reports/"] });
    stateMachine.grantStartExecution(api);

    const worker = new DscpFunction(this, "WorkerFunction", {
      ...common,
      environmentSchema: syncWorkerEnvironment,
      environment: tables,
      entry: fileURLToPath(new URL("../../lambdas/sync/worker.ts", import.meta.url)),
      description: "DSCP sync: applies chunks of batches to the integrated store",
      serviceName: "dscp-sync-worker",
      // Its event source mapping invokes it synchronously; failing chunks go to the queue's DLQ.
      synchronous: true,
      timeout: WORKER_TIMEOUT,
    });
    grantTable(worker, props.registryTable, ["dynamodb:GetItem"]);
    grantTable(
      worker,
      props.integratedTable,
      ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
      { indexes: ["byDataset"], writes: true },
    );
    this.grantFanOut(worker, props);
    queue.connect(worker, { batchSize: 5 });

    addRoutes({ api: props.api, authorizer: props.authorizer, handler: api, routes: syncRoutes });
  }

  /** Applying a batch fans its changes out: subscribers read, delivery messages registered and queued. */
  private grantFanOut(fn: DscpFunction<typeof syncWorkerEnvironment>, props: SyncProps): void {
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ["sqs:SendMessage"], resources: [props.deliveryQueue.queueArn] }),
    );
    props.encryptionKey.grant(fn, "kms:GenerateDataKey", "kms:Decrypt");
  }

  /** Prepare (validate, partition by key) → apply each partition (Map, 4 at a time, retried) → done; any failure marks the batch failed. */
  private uploadPipeline(pipeline: DscpFunction<typeof syncWorkerEnvironment>, stage: StageConfig): StateMachine {
    const markFailed = new LambdaInvoke(this, "MarkFailed", {
      lambdaFunction: pipeline,
      payload: TaskInput.fromObject({ action: "fail", "batchId.$": "$.batchId", "error.$": "$.error" }),
      payloadResponseOnly: true,
    }).next(new Fail(this, "Failed", { error: "BatchFailed", cause: "The batch could not be processed" }));
    const prepare = new LambdaInvoke(this, "Prepare", {
      lambdaFunction: pipeline,
      payload: TaskInput.fromObject({ action: "prepare", "batchId.$": "$.batchId" }),
      payloadResponseOnly: true,
      resultPath: "$.prepared",
    });
    // An empty full sync deletes every record at once: it may wait for another batch's lease.
    prepare.addRetry(waitingForLease);
    prepare.addRetry({ errors: ["Lambda.ServiceException", "Lambda.TooManyRequestsException"], maxAttempts: 3 });
    prepare.addCatch(markFailed, { resultPath: "$.error" });
    const apply = new LambdaInvoke(this, "ApplyPartition", {
      lambdaFunction: pipeline,
      payload: TaskInput.fromObject({ action: "apply", "partition.$": "$" }),
      payloadResponseOnly: true,
    });
    apply.addRetry(waitingForLease);
    apply.addRetry({ errors: ["States.ALL"], maxAttempts: 3, interval: Duration.seconds(2), backoffRate: 2 });
    const partitions = new MapState(this, "ApplyPartitions", {
      itemsPath: "$.prepared.partitions",
      maxConcurrency: 8,
      resultPath: JsonPath.DISCARD,
    });
    partitions.itemProcessor(apply);
    partitions.addCatch(markFailed, { resultPath: "$.error" });
    return taskStateMachine(
      this,
      { machine: "UploadPipeline", logs: "PipelineLogs" },
      {
        definition: prepare.next(partitions).next(new Succeed(this, "Applied")),
        tasks: pipeline,
        timeout: Duration.hours(6),
        stage,
      },
    );
  }
}
