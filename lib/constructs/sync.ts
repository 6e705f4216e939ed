import { fileURLToPath } from "node:url";
import { Duration } from "aws-cdk-lib";
import { type IAuthorizer, LambdaIntegration, type RestApi } from "aws-cdk-lib/aws-apigateway";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";
import { syncApiEnvironment, syncWorkerEnvironment } from "../../lambdas/sync/environment.ts";
import type { StageConfig } from "../stage.ts";
import { DscpFunction } from "./dscp-function.ts";
import { type ExchangeLog, LOG_SHARDS } from "./exchange-log.ts";
import { grantTable } from "./grants.ts";
import { WorkQueue } from "./work-queue.ts";

export interface SyncProps {
  readonly api: RestApi;
  readonly authorizer: IAuthorizer;
  readonly registryTable: ITable;
  readonly integratedTable: ITable;
  readonly encryptionKey: IKey;
  /** The exchange log, which records every batch submitted. */
  readonly log: ExchangeLog;
  readonly stage: StageConfig;
  readonly version: string;
}

const WORKER_TIMEOUT = Duration.seconds(60);

/**
 * Sync batches (Art. 7.2b, 7.2c): the API validates a batch and queues its valid operations in
 * chunks; workers apply each chunk to the integrated store exactly once, the last one finishing
 * the batch (and, for a full sync, deleting what it did not carry).
 */
export class Sync extends Construct {
  constructor(scope: Construct, id: string, props: SyncProps) {
    super(scope, id);
    const queue = new WorkQueue(this, "Chunks", {
      encryptionKey: props.encryptionKey,
      consumerTimeout: WORKER_TIMEOUT,
      removalPolicy: props.stage.removalPolicy,
    });
    const tables = {
      REGISTRY_TABLE_NAME: props.registryTable.tableName,
      INTEGRATED_TABLE_NAME: props.integratedTable.tableName,
      SYNC_QUEUE_URL: queue.queue.queueUrl,
    };
    const common = { stage: props.stage, version: props.version, memorySize: 1024 };

    const api = new DscpFunction(this, "ApiFunction", {
      ...common,
      environmentSchema: syncApiEnvironment,
      environment: { ...tables, LOG_QUEUE_URL: props.log.queue.queue.queueUrl, LOG_SHARDS: String(LOG_SHARDS) },
      entry: fileURLToPath(new URL("../../lambdas/sync/handler.ts", import.meta.url)),
      description: "DSCP sync: takes batches, validates them, queues their chunks",
      serviceName: "dscp-sync",
      synchronous: true,
      timeout: Duration.seconds(28),
    });
    grantTable(api, props.registryTable, ["dynamodb:GetItem"]);
    grantTable(api, props.integratedTable, ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem"], {
      writes: true,
    });
    api.addToRolePolicy(new PolicyStatement({ actions: ["sqs:SendMessage"], resources: [queue.queue.queueArn] }));
    props.encryptionKey.grant(api, "kms:GenerateDataKey", "kms:Decrypt");
    props.log.grantWrite(api);

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
    queue.connect(worker, { batchSize: 5 });

    const integration = new LambdaIntegration(api, { proxy: true });
    const signed = { authorizer: props.authorizer };
    props.api.root.resourceForPath("v1/sync/{datasetId}/batches").addMethod("POST", integration, signed);
    props.api.root.resourceForPath("v1/sync/batches/{batchId}").addMethod("GET", integration, signed);
  }
}
