import { fileURLToPath } from "node:url";
import { Duration, type RemovalPolicy } from "aws-cdk-lib";
import { type IAuthorizer, LambdaIntegration, type RestApi } from "aws-cdk-lib/aws-apigateway";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import { exchangeLogEnvironment } from "../../lambdas/exchange-log/environment.ts";
import type { StageConfig } from "../stage.ts";
import { DscpFunction } from "./dscp-function.ts";
import { grantTable } from "./grants.ts";
import { WorkQueue } from "./work-queue.ts";

/** Independent hash chains of the log: appends to different shards never wait for each other. */
export const LOG_SHARDS = 8;

export interface ExchangeLogProps {
  readonly api: RestApi;
  readonly authorizer: IAuthorizer;
  readonly logTable: ITable;
  readonly encryptionKey: IKey;
  readonly stage: StageConfig;
  readonly version: string;
  readonly removalPolicy: RemovalPolicy;
}

/**
 * The tamper-evident exchange log (Art. 13): entries queue on a FIFO queue grouped by shard,
 * an appender chains them (each entry hashes the previous one), and the API reads them scoped
 * to the caller and verifies the chains.
 */
export class ExchangeLog extends Construct {
  readonly queue: WorkQueue;
  private readonly encryptionKey: IKey;

  constructor(scope: Construct, id: string, props: ExchangeLogProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    const common = {
      environmentSchema: exchangeLogEnvironment,
      environment: { LOG_TABLE_NAME: props.logTable.tableName, LOG_SHARDS: String(LOG_SHARDS) },
      stage: props.stage,
      version: props.version,
    };
    const appender = new DscpFunction(this, "Appender", {
      ...common,
      entry: fileURLToPath(new URL("../../lambdas/exchange-log/appender.ts", import.meta.url)),
      description: "DSCP exchange log: appends queued entries to their hash chain",
      serviceName: "dscp-log-appender",
      // Its event source mapping invokes it synchronously; failed batches go to the queue's DLQ.
      synchronous: true,
      timeout: Duration.seconds(30),
    });
    grantTable(appender, props.logTable, ["dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"], {
      writes: true,
    });
    this.queue = new WorkQueue(this, "Queue", {
      encryptionKey: props.encryptionKey,
      consumerTimeout: Duration.seconds(30),
      removalPolicy: props.removalPolicy,
      fifo: true,
    });
    this.queue.connect(appender, { batchSize: 10 });

    const reader = new DscpFunction(this, "Reader", {
      ...common,
      entry: fileURLToPath(new URL("../../lambdas/exchange-log/handler.ts", import.meta.url)),
      description: "DSCP exchange log: scoped reading and chain verification",
      serviceName: "dscp-log-reader",
      synchronous: true,
      timeout: Duration.seconds(28),
      memorySize: 512,
    });
    grantTable(reader, props.logTable, ["dynamodb:GetItem", "dynamodb:Query"], {
      indexes: ["byConsumer", "byProvider", "byTime"],
    });
    const integration = new LambdaIntegration(reader, { proxy: true });
    const logs = props.api.root.resourceForPath("v1/logs");
    logs.addMethod("GET", integration, { authorizer: props.authorizer });
    logs.addResource("verify").addMethod("GET", integration, { authorizer: props.authorizer });
  }

  /** Lets a function send entries to the log, and nothing else. */
  grantWrite(fn: IFunction): void {
    fn.addToRolePolicy(new PolicyStatement({ actions: ["sqs:SendMessage"], resources: [this.queue.queue.queueArn] }));
    // Producers to a KMS-encrypted queue need a data key and its decryption, nothing more.
    this.encryptionKey.grant(fn, "kms:GenerateDataKey", "kms:Decrypt");
  }
}
