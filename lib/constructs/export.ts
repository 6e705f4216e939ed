import { fileURLToPath } from "node:url";
import { Duration } from "aws-cdk-lib";
import type { IAuthorizer, RestApi } from "aws-cdk-lib/aws-apigateway";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { IBucket } from "aws-cdk-lib/aws-s3";
import { Fail, type StateMachine, Succeed, TaskInput } from "aws-cdk-lib/aws-stepfunctions";
import { LambdaInvoke } from "aws-cdk-lib/aws-stepfunctions-tasks";
import { Construct } from "constructs";
import { INTEGRATED_KEY_PREFIXES as KEY } from "../../adapters/dynamodb/integrated-keys.ts";
import { exportRoutes } from "../../api/exports.ts";
import { exportApiEnvironment, exportEnvironment } from "../../lambdas/export/environment.ts";
import type { StageConfig } from "../stage.ts";
import { addRoutes } from "./api-routes.ts";
import { DscpFunction } from "./dscp-function.ts";
import type { ExchangeLog } from "./exchange-log.ts";
import { grantItemWrites, grantObjects, grantTable } from "./grants.ts";
import { taskStateMachine } from "./task-machine.ts";

export interface ExportProps {
  readonly api: RestApi;
  readonly authorizer: IAuthorizer;
  readonly registryTable: ITable;
  readonly permissionsTable: ITable;
  readonly integratedTable: ITable;
  /** Where packages are written (SSE-KMS, lifecycle expiry). */
  readonly exportsBucket: IBucket;
  /** Signs every package's manifest. */
  readonly signingKey: IKey;
  readonly issuer: string;
  readonly log: ExchangeLog;
  readonly stage: StageConfig;
  readonly version: string;
}

/**
 * Export packages (Art. 7.2d): the API checks the request and starts a job; the job streams the
 * dataset's records from the integrated store into a signed BagIt package in the exports bucket.
 */
export class Export extends Construct {
  /** The job's state machine, for monitoring. */
  readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: ExportProps) {
    super(scope, id);
    const environment = {
      REGISTRY_TABLE_NAME: props.registryTable.tableName,
      PERMISSIONS_TABLE_NAME: props.permissionsTable.tableName,
      INTEGRATED_TABLE_NAME: props.integratedTable.tableName,
      EXPORTS_BUCKET_NAME: props.exportsBucket.bucketName,
      PLATFORM_KEY_ID: props.signingKey.keyId,
      PLATFORM_ISSUER: props.issuer,
      LOG_QUEUE_URL: props.log.queue.queue.queueUrl,
      LOG_SHARDS: String(props.stage.logShards),
    };
    const entry = (file: string) => fileURLToPath(new URL(`../../lambdas/export/${file}`, import.meta.url));

    const job = new DscpFunction(this, "JobFunction", {
      stage: props.stage,
      version: props.version,
      environmentSchema: exportEnvironment,
      environment,
      entry: entry("job.ts"),
      description: "DSCP export: streams a dataset into a signed BagIt package (state machine task)",
      serviceName: "dscp-export-job",
      synchronous: true,
      memorySize: 1024,
      timeout: Duration.minutes(15),
    });
    grantTable(job, props.registryTable, ["dynamodb:GetItem", "dynamodb:Query"]);
    grantTable(job, props.integratedTable, ["dynamodb:GetItem", "dynamodb:Query"], { indexes: ["byDataset"] });
    // It reads the records it packages and writes its own job's progress, nothing else.
    grantItemWrites(job, props.integratedTable, ["dynamodb:UpdateItem"], [KEY.export]);
    grantObjects(job, props.exportsBucket, { write: ["exports/"] });
    props.signingKey.grant(job, "kms:Sign");
    props.log.grantWrite(job);

    const markFailed = new LambdaInvoke(this, "MarkFailed", {
      lambdaFunction: job,
      payload: TaskInput.fromObject({ action: "fail", "exportId.$": "$.exportId", "error.$": "$.error" }),
      payloadResponseOnly: true,
    }).next(new Fail(this, "Failed", { error: "ExportFailed", cause: "The package could not be written" }));
    const run = new LambdaInvoke(this, "WritePackage", {
      lambdaFunction: job,
      payload: TaskInput.fromObject({ action: "run", "exportId.$": "$.exportId" }),
      payloadResponseOnly: true,
      resultPath: "$.result",
    });
    run.addRetry({ errors: ["Lambda.ServiceException", "Lambda.TooManyRequestsException"], maxAttempts: 3 });
    run.addCatch(markFailed, { resultPath: "$.error" });
    const machine = taskStateMachine(
      this,
      { machine: "ExportJob", logs: "JobLogs" },
      {
        definition: run.next(new Succeed(this, "Written")),
        tasks: job,
        timeout: Duration.hours(1),
        stage: props.stage,
      },
    );
    this.stateMachine = machine;

    const api = new DscpFunction(this, "ApiFunction", {
      stage: props.stage,
      version: props.version,
      environmentSchema: exportApiEnvironment,
      environment: { ...environment, EXPORT_STATE_MACHINE_ARN: machine.stateMachineArn },
      entry: entry("handler.ts"),
      description: "DSCP export: checks export requests, starts jobs, hands out download links",
      serviceName: "dscp-export",
      synchronous: true,
      timeout: Duration.seconds(28),
    });
    grantTable(api, props.registryTable, ["dynamodb:GetItem", "dynamodb:Query"]);
    grantTable(api, props.permissionsTable, ["dynamodb:Query"], { indexes: ["byConsumer"] });
    grantTable(api, props.integratedTable, ["dynamodb:GetItem"]);
    grantItemWrites(api, props.integratedTable, ["dynamodb:PutItem"], [KEY.export]);
    // Download links carry the API's permission to read packages, and nothing else.
    grantObjects(api, props.exportsBucket, { read: ["exports/"] });
    props.log.grantWrite(api);
    machine.grantStartExecution(api);

    addRoutes({ api: props.api, authorizer: props.authorizer, handler: api, routes: exportRoutes });
  }
}
