import { fileURLToPath } from "node:url";
import { Duration, Validations } from "aws-cdk-lib";
import type { IAuthorizer, RestApi } from "aws-cdk-lib/aws-apigateway";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import { Construct } from "constructs";
import { checkpointerRoutes, checkpointPublisherRoutes, logReaderRoutes } from "../../api/logs.ts";
import {
  checkpointerEnvironment,
  checkpointsEnvironment,
  exchangeLogEnvironment,
  logVerificationEnvironment,
} from "../../lambdas/exchange-log/environment.ts";
import type { StageConfig } from "../stage.ts";
import { addRoutes } from "./api-routes.ts";
import { DscpFunction } from "./dscp-function.ts";
import { grantObjects, grantTable } from "./grants.ts";
import { type WorkQueue, workQueueFactory } from "./work-queue.ts";

export interface ExchangeLogProps {
  readonly api: RestApi;
  readonly authorizer: IAuthorizer;
  readonly logTable: ITable;
  /** The FIFO queue entries arrive on (see {@link exchangeLogQueue}). */
  readonly queue: WorkQueue;
  readonly encryptionKey: IKey;
  /** The log-archive bucket (Object Lock): signed checkpoints and the entries they cover. */
  readonly archiveBucket: IBucket;
  /** The platform's signing key (ES256 in KMS): signs checkpoints; its public half is published. */
  readonly signingKey: IKey;
  /** The platform's identity (audience), named as the issuer of checkpoints. */
  readonly issuer: string;
  readonly stage: StageConfig;
  readonly version: string;
}

/** How long the appender may take per batch; the log queue's visibility follows from it. */
const APPENDER_TIMEOUT = Duration.seconds(30);

/**
 * The log's FIFO queue, made before the functions that write to it (the authoriser logs
 * refused exchanges too) and handed to {@link ExchangeLog}, which consumes it.
 */
export const exchangeLogQueue = workQueueFactory({
  consumerTimeout: APPENDER_TIMEOUT,
  fifo: true,
  // Throughput and deduplication per message group (per shard): the queue's ceiling grows with the shards.
  highThroughput: true,
});

/** Lets a function send entries to the log's queue, and nothing else. */
export function grantLogWrite(queue: WorkQueue, encryptionKey: IKey, fn: IFunction): void {
  fn.addToRolePolicy(new PolicyStatement({ actions: ["sqs:SendMessage"], resources: [queue.queue.queueArn] }));
  // Producers to a KMS-encrypted queue need a data key and its decryption, nothing more.
  encryptionKey.grant(fn, "kms:GenerateDataKey", "kms:Decrypt");
}

/**
 * The tamper-evident exchange log (Art. 13): entries queue on a FIFO queue grouped by shard,
 * an appender chains them (each entry hashes the previous one), a checkpointer signs every
 * chain's head with the platform key every few minutes and archives it under Object Lock with
 * the entries it covers, and the API reads entries scoped to the caller, publishes the
 * checkpoints to anyone and verifies the chains against the latest one.
 */
export class ExchangeLog extends Construct {
  readonly queue: WorkQueue;
  /** The scheduled chain verifier, for monitoring. */
  readonly verifier: IFunction;
  /** Checkpoints the chains' heads on a schedule and on demand, for monitoring. */
  readonly checkpointer: IFunction;
  private readonly encryptionKey: IKey;

  constructor(scope: Construct, id: string, props: ExchangeLogProps) {
    super(scope, id);
    this.encryptionKey = props.encryptionKey;
    const common = {
      environmentSchema: exchangeLogEnvironment,
      environment: { LOG_TABLE_NAME: props.logTable.tableName, LOG_SHARDS: String(props.stage.logShards) },
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
    grantTable(
      appender,
      props.logTable,
      ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem"],
      {
        writes: true,
      },
    );
    this.queue = props.queue;
    this.queue.connect(appender, { batchSize: 10 });

    const verification = {
      ...common,
      environmentSchema: logVerificationEnvironment,
      environment: {
        ...common.environment,
        ARCHIVE_BUCKET_NAME: props.archiveBucket.bucketName,
        PLATFORM_KEY_ID: props.signingKey.keyId,
      },
    };
    /** Verifying against the checkpoints: read the archive, and the public half of the platform key. */
    const grantVerification = (fn: IFunction) => {
      grantObjects(fn, props.archiveBucket, { read: ["checkpoints/", "segments/"] });
      grantListing(fn, props.archiveBucket, ["checkpoints/", "segments/"]);
      props.signingKey.grant(fn, "kms:GetPublicKey");
    };
    const reader = new DscpFunction(this, "Reader", {
      ...verification,
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
    grantVerification(reader);
    // Every chain verified hourly: a broken one is published as `logChainsBroken`, alarmed on.
    const verifier = new DscpFunction(this, "Verifier", {
      ...verification,
      entry: fileURLToPath(new URL("../../lambdas/exchange-log/verifier.ts", import.meta.url)),
      description: "DSCP exchange log: verifies every hash chain on a schedule",
      serviceName: "dscp-log-verifier",
      synchronous: true,
      timeout: Duration.minutes(10),
      memorySize: 512,
    });
    grantTable(verifier, props.logTable, ["dynamodb:GetItem", "dynamodb:Query"]);
    grantVerification(verifier);
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

    // Chain heads checkpointed every few minutes: signed by the platform key and archived under
    // Object Lock with the entries they cover. It reads the table and writes the archive only.
    const checkpointer = new DscpFunction(this, "Checkpointer", {
      ...verification,
      environmentSchema: checkpointerEnvironment,
      environment: { ...verification.environment, PLATFORM_ISSUER: props.issuer },
      entry: fileURLToPath(new URL("../../lambdas/exchange-log/checkpointer.ts", import.meta.url)),
      description: "DSCP exchange log: checkpoints every chain's head, signed and archived",
      serviceName: "dscp-log-checkpointer",
      synchronous: true,
      timeout: Duration.minutes(5),
      memorySize: 1024,
    });
    grantTable(checkpointer, props.logTable, ["dynamodb:Query"]);
    grantObjects(checkpointer, props.archiveBucket, {
      read: ["checkpoints/"],
      write: ["checkpoints/", "segments/"],
    });
    grantListing(checkpointer, props.archiveBucket, ["checkpoints/"]);
    props.signingKey.grant(checkpointer, "kms:Sign", "kms:GetPublicKey");
    const checkpoints = new Rule(this, "CheckpointSchedule", {
      schedule: Schedule.rate(props.stage.checkpointInterval),
      targets: [new LambdaFunction(checkpointer, { retryAttempts: 2 })],
    });
    Validations.of(checkpoints).acknowledge({
      id: "Serverless-EventBusDLQ",
      reason:
        "A lost run leaves nothing to replay: the next checkpoint covers every entry since the last one; a failing checkpointer raises the monitoring's LogCheckpointerErrors alarm.",
    });
    this.checkpointer = checkpointer;

    // The published checkpoints: read from the archive, by anyone; this function reads nothing else.
    const publisher = new DscpFunction(this, "CheckpointsFunction", {
      entry: fileURLToPath(new URL("../../lambdas/exchange-log/checkpoints.ts", import.meta.url)),
      description: "DSCP exchange log: the published, signed checkpoints",
      environmentSchema: checkpointsEnvironment,
      environment: { ARCHIVE_BUCKET_NAME: props.archiveBucket.bucketName },
      stage: props.stage,
      version: props.version,
      serviceName: "dscp-log-checkpoints",
      synchronous: true,
      timeout: Duration.seconds(15),
    });
    grantObjects(publisher, props.archiveBucket, { read: ["checkpoints/"] });
    grantListing(publisher, props.archiveBucket, ["checkpoints/"]);

    addRoutes({ api: props.api, authorizer: props.authorizer, handler: reader, routes: logReaderRoutes });
    addRoutes({ api: props.api, handler: publisher, routes: checkpointPublisherRoutes });
    addRoutes({ api: props.api, authorizer: props.authorizer, handler: checkpointer, routes: checkpointerRoutes });
  }

  /** Lets a function send entries to the log, and nothing else. */
  grantWrite(fn: IFunction): void {
    grantLogWrite(this.queue, this.encryptionKey, fn);
  }
}

/** Lets a function list keys under `prefixes` of a bucket, and nothing else of it. */
function grantListing(fn: IFunction, bucket: IBucket, prefixes: readonly string[]): void {
  fn.addToRolePolicy(
    new PolicyStatement({
      actions: ["s3:ListBucket"],
      resources: [bucket.bucketArn],
      conditions: { StringLike: { "s3:prefix": prefixes.map((prefix) => `${prefix}*`) } },
    }),
  );
}
