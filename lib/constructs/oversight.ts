import { fileURLToPath } from "node:url";
import { Duration, Validations } from "aws-cdk-lib";
import type { IAuthorizer, RestApi } from "aws-cdk-lib/aws-apigateway";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Rule, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Construct } from "constructs";
import { oversightRoutes } from "../../api/oversight.ts";
import { violationRoutes } from "../../api/violations.ts";
import { oversightEnvironment } from "../../lambdas/oversight/environment.ts";
import type { StageConfig } from "../stage.ts";
import { addRoutes } from "./api-routes.ts";
import { DscpFunction } from "./dscp-function.ts";
import { grantItemWrites, grantTable } from "./grants.ts";
import { type WorkQueue, workQueueFactory } from "./work-queue.ts";

export interface OversightProps {
  /** The queue of audits and rankings to run (see {@link oversightQueue}), kept with the stateful stores. */
  readonly queue: WorkQueue;
  readonly api: RestApi;
  readonly authorizer: IAuthorizer;
  readonly registryTable: ITable;
  readonly permissionsTable: ITable;
  /** The records audited; audits and rankings are kept here too. */
  readonly integratedTable: ITable;
  readonly logTable: ITable;
  readonly encryptionKey: IKey;
  readonly stage: StageConfig;
  readonly version: string;
}

/** An audit reads a whole dataset: the worker gets Lambda's longest run. */
const WORKER_TIMEOUT = Duration.minutes(15);

/**
 * The queue of audits and rankings to run (and their dead letters), made with the stateful
 * stores and handed to {@link Oversight}, whose worker consumes it.
 */
export const oversightQueue = workQueueFactory({ consumerTimeout: WORKER_TIMEOUT, maxReceiveCount: 2 });

/**
 * Oversight (Art. 12-15, 24): the API takes audit and ranking requests and answers reports; a
 * worker runs audits and rankings from a queue, and queues an audit of every dataset daily.
 */
export class Oversight extends Construct {
  readonly queue: WorkQueue;
  /** The worker, whose errors the monitoring alarms on (its schedule has no one else watching). */
  readonly worker: IFunction;

  constructor(scope: Construct, id: string, props: OversightProps) {
    super(scope, id);
    this.queue = props.queue;
    const environment = {
      REGISTRY_TABLE_NAME: props.registryTable.tableName,
      PERMISSIONS_TABLE_NAME: props.permissionsTable.tableName,
      INTEGRATED_TABLE_NAME: props.integratedTable.tableName,
      LOG_TABLE_NAME: props.logTable.tableName,
      OVERSIGHT_QUEUE_URL: this.queue.queue.queueUrl,
    };
    const common = { stage: props.stage, version: props.version, environmentSchema: oversightEnvironment, environment };
    const entry = (file: string) => fileURLToPath(new URL(`../../lambdas/oversight/${file}`, import.meta.url));
    // Audits and rankings (and, for the API, violation cases) are its only writes to the
    // integrated table: never a record of the National Integrated Database, whose items the same
    // functions read.
    const grantOwnWrites = (fn: IFunction, actions: readonly string[], prefixes = ["AUDIT#", "RANKING#"]) =>
      grantItemWrites(fn, props.integratedTable, actions, prefixes);
    const grantReads = (fn: IFunction) => {
      grantTable(fn, props.registryTable, ["dynamodb:GetItem", "dynamodb:Query"], { indexes: ["gsi1"] });
      // When each dataset was first connected.
      grantTable(fn, props.logTable, ["dynamodb:BatchGetItem"]);
      fn.addToRolePolicy(new PolicyStatement({ actions: ["sqs:SendMessage"], resources: [this.queue.queue.queueArn] }));
      props.encryptionKey.grant(fn, "kms:GenerateDataKey", "kms:Decrypt");
    };

    const worker = new DscpFunction(this, "WorkerFunction", {
      ...common,
      entry: entry("worker.ts"),
      description: "DSCP oversight: runs data audits and rankings; queues the daily audits",
      serviceName: "dscp-oversight-worker",
      synchronous: true,
      memorySize: 1024,
      timeout: WORKER_TIMEOUT,
    });
    grantReads(worker);
    grantTable(worker, props.logTable, ["dynamodb:Query"], { indexes: ["byTime", "byProvider"] });
    grantTable(worker, props.permissionsTable, ["dynamodb:Query"], { indexes: ["byProviderAgency"] });
    grantTable(worker, props.integratedTable, ["dynamodb:GetItem", "dynamodb:Query"], {
      indexes: ["byDataset"],
      writes: true,
    });
    grantOwnWrites(worker, ["dynamodb:PutItem", "dynamodb:UpdateItem"]);
    this.queue.connect(worker, { batchSize: 1 });
    const daily = new Rule(this, "AuditDaily", {
      schedule: Schedule.cron({ minute: "0", hour: "1" }),
      targets: [new LambdaFunction(worker, { retryAttempts: 2 })],
    });
    Validations.of(daily).acknowledge({
      id: "Serverless-EventBusDLQ",
      reason:
        "A lost daily run only delays audits to the next day; a failing worker raises the monitoring's OversightWorkerErrors alarm.",
    });
    this.worker = worker;

    const api = new DscpFunction(this, "ApiFunction", {
      ...common,
      entry: entry("handler.ts"),
      description: "DSCP oversight: audit requests and reports, rankings, compliance reports",
      serviceName: "dscp-oversight",
      synchronous: true,
      timeout: Duration.seconds(28),
      memorySize: 512,
    });
    grantReads(api);
    grantTable(api, props.integratedTable, ["dynamodb:GetItem", "dynamodb:Query"], {
      indexes: ["byDataset"],
      writes: true,
    });
    grantOwnWrites(api, ["dynamodb:PutItem"], ["AUDIT#", "RANKING#", "VIOLATION#"]);

    addRoutes({ api: props.api, authorizer: props.authorizer, handler: api, routes: oversightRoutes });
    addRoutes({ api: props.api, authorizer: props.authorizer, handler: api, routes: violationRoutes });
  }
}
