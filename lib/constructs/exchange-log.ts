import { fileURLToPath } from "node:url";
import { Duration, type RemovalPolicy, Validations } from "aws-cdk-lib";
import { type IAuthorizer, LambdaIntegration, type RestApi } from "aws-cdk-lib/aws-apigateway";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
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
  /** The FIFO queue entries arrive on (see {@link exchangeLogQueue}). */
  readonly queue: WorkQueue;
  readonly encryptionKey: IKey;
  readonly stage: StageConfig;
  readonly version: string;
}

/** How long the appender may take per batch; the log queue's visibility follows from it. */
const APPENDER_TIMEOUT = Duration.seconds(30);

/**
 * The log's FIFO queue, made before the functions that write to it (the authoriser logs
 * refused exchanges too) and handed to {@link ExchangeLog}, which consumes it.
 */
export function exchangeLogQueue(
  scope: Construct,
  id: string,
  props: { encryptionKey: IKey; removalPolicy: RemovalPolicy },
): WorkQueue {
  return new WorkQueue(scope, id, {
    encryptionKey: props.encryptionKey,
    consumerTimeout: APPENDER_TIMEOUT,
    removalPolicy: props.removalPolicy,
    fifo: true,
  });
}

/** Lets a function send entries to the log's queue, and nothing else. */
export function grantLogWrite(queue: WorkQueue, encryptionKey: IKey, fn: IFunction): void {
  fn.addToRolePolicy(new PolicyStatement({ actions: ["sqs:SendMessage"], resources: [queue.queue.queueArn] }));
  // Producers to a KMS-encrypted queue need a data key and its decryption, nothing more.
  encryptionKey.grant(fn, "kms:GenerateDataKey", "kms:Decrypt");
}

/**
 * The tamper-evident exchange log (Art. 13): entries queue on a FIFO queue grouped by shard,
 * an appender chains them (each entry hashes the previous one), and the API reads them scoped
 * to the caller and verifies the chains.
 */
export class ExchangeLog extends Construct {
  readonly queue: WorkQueue;
  /** The scheduled chain verifier, for monitoring. */
  readonly verifier: IFunction;
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
      timeout: APPENDER_TIMEOUT,
    });
    grantTable(appender, props.logTable, ["dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"], {
      writes: true,
    });
    this.queue = props.queue;
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
    // Every chain verified hourly: a broken one is published as `logChainsBroken`, alarmed on.
    const verifier = new DscpFunction(this, "Verifier", {
      ...common,
      entry: fileURLToPath(new URL("../../lambdas/exchange-log/verifier.ts", import.meta.url)),
      description: "DSCP exchange log: verifies every hash chain on a schedule",
      serviceName: "dscp-log-verifier",
      synchronous: true,
      timeout: Duration.minutes(10),
      memorySize: 512,
    });
    grantTable(verifier, props.logTable, ["dynamodb:GetItem", "dynamodb:Query"]);
    const rule = new Rule(this, "VerifyHourly", {
      schedule: Schedule.rate(Duration.hours(1)),
      targets: [new LambdaFunction(verifier, { retryAttempts: 2 })],
    });
    Validations.of(rule).acknowledge({
      id: "Serverless-EventBusDLQ",
      reason:
        "A lost hourly run leaves nothing to replay (the next run verifies everything again); a failing verifier raises the monitoring's LogVerifierErrors alarm.",
    });
    this.verifier = verifier;

    const integration = new LambdaIntegration(reader, { proxy: true });
    const logs = props.api.root.resourceForPath("v1/logs");
    logs.addMethod("GET", integration, { authorizer: props.authorizer });
    logs.addResource("verify").addMethod("GET", integration, { authorizer: props.authorizer });
    props.api.root.resourceForPath("v1/metrics").addMethod("GET", integration, { authorizer: props.authorizer });
  }

  /** Lets a function send entries to the log, and nothing else. */
  grantWrite(fn: IFunction): void {
    grantLogWrite(this.queue, this.encryptionKey, fn);
  }
}
