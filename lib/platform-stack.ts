import { CfnOutput, Stack, type StackProps, Tags } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { ApiDocs } from "./constructs/api-docs.ts";
import { Catalog } from "./constructs/catalog.ts";
import { DataStores } from "./constructs/data-stores.ts";
import { Delivery } from "./constructs/delivery.ts";
import { Dictionary } from "./constructs/dictionary.ts";
import { Exchange } from "./constructs/exchange.ts";
import { ExchangeLog, exchangeLogQueue } from "./constructs/exchange-log.ts";
import { Export } from "./constructs/export.ts";
import { HealthCheck } from "./constructs/health-check.ts";
import { Identity } from "./constructs/identity.ts";
import { Monitoring } from "./constructs/monitoring.ts";
import { Oversight } from "./constructs/oversight.ts";
import { Permissions } from "./constructs/permissions.ts";
import { PlatformApi } from "./constructs/platform-api.ts";
import { Registry } from "./constructs/registry.ts";
import { Sync } from "./constructs/sync.ts";
import type { StageConfig } from "./stage.ts";

export interface PlatformStackProps extends StackProps {
  readonly stage: StageConfig;
  /** Platform version, reported by `GET /v1/health`. */
  readonly version: string;
  /** The `aud` request tokens must name. @default `urn:dscp:<stage>` */
  readonly audience?: string;
}

/**
 * The whole platform in one stack: stateful data stores, the API, and one construct per
 * capability wired to both. Outputs are what the end-to-end suite and agencies' tools read.
 */
export class PlatformStack extends Stack {
  readonly dataStores: DataStores;
  readonly platformApi: PlatformApi;

  constructor(scope: Construct, id: string, props: PlatformStackProps) {
    super(scope, id, props);
    Tags.of(this).add("dscp:stage", props.stage.name);

    this.dataStores = new DataStores(this, "DataStores", { stage: props.stage });
    this.platformApi = new PlatformApi(this, "PlatformApi", { stage: props.stage });
    const { api } = this.platformApi;

    const audience = props.audience ?? `urn:dscp:${props.stage.name}`;
    const logQueue = exchangeLogQueue(this, "ExchangeLogQueue", {
      encryptionKey: this.dataStores.key,
      removalPolicy: props.stage.removalPolicy,
    });
    const identity = new Identity(this, "Identity", {
      logQueue,
      encryptionKey: this.dataStores.key,
      registryTable: this.dataStores.registryTable,
      replayTable: this.dataStores.replayTable,
      audience,
      stage: props.stage,
      version: props.version,
    });
    new Registry(this, "Registry", {
      api,
      authorizer: identity.authorizer,
      registryTable: this.dataStores.registryTable,
      stage: props.stage,
      version: props.version,
    });

    new Catalog(this, "Catalog", {
      api,
      authorizer: identity.authorizer,
      registryTable: this.dataStores.registryTable,
      stage: props.stage,
      version: props.version,
    });

    new Dictionary(this, "Dictionary", {
      api,
      authorizer: identity.authorizer,
      registryTable: this.dataStores.registryTable,
      stage: props.stage,
      version: props.version,
    });

    new Permissions(this, "Permissions", {
      api,
      authorizer: identity.authorizer,
      registryTable: this.dataStores.registryTable,
      permissionsTable: this.dataStores.permissionsTable,
      stage: props.stage,
      version: props.version,
    });

    const exchangeLog = new ExchangeLog(this, "ExchangeLog", {
      queue: logQueue,
      api,
      authorizer: identity.authorizer,
      logTable: this.dataStores.exchangeLogTable,
      encryptionKey: this.dataStores.key,
      archiveBucket: this.dataStores.logArchiveBucket,
      signingKey: this.dataStores.signingKey,
      issuer: audience,
      stage: props.stage,
      version: props.version,
    });

    const delivery = new Delivery(this, "Delivery", {
      api,
      authorizer: identity.authorizer,
      registryTable: this.dataStores.registryTable,
      permissionsTable: this.dataStores.permissionsTable,
      integratedTable: this.dataStores.integratedTable,
      encryptionKey: this.dataStores.key,
      signingKey: this.dataStores.signingKey,
      issuer: audience,
      log: exchangeLog,
      stage: props.stage,
      version: props.version,
    });
    const sync = new Sync(this, "Sync", {
      deliveryQueue: delivery.queue.queue,
      api,
      authorizer: identity.authorizer,
      registryTable: this.dataStores.registryTable,
      integratedTable: this.dataStores.integratedTable,
      uploadsBucket: this.dataStores.uploadsBucket,
      encryptionKey: this.dataStores.key,
      log: exchangeLog,
      stage: props.stage,
      version: props.version,
    });
    new Exchange(this, "Exchange", {
      log: exchangeLog,
      api,
      authorizer: identity.authorizer,
      registryTable: this.dataStores.registryTable,
      integratedTable: this.dataStores.integratedTable,
      permissionsTable: this.dataStores.permissionsTable,
      signingKey: this.dataStores.signingKey,
      issuer: audience,
      stage: props.stage,
      version: props.version,
    });

    const exports = new Export(this, "Export", {
      api,
      authorizer: identity.authorizer,
      registryTable: this.dataStores.registryTable,
      permissionsTable: this.dataStores.permissionsTable,
      integratedTable: this.dataStores.integratedTable,
      exportsBucket: this.dataStores.exportsBucket,
      signingKey: this.dataStores.signingKey,
      issuer: audience,
      log: exchangeLog,
      stage: props.stage,
      version: props.version,
    });

    const oversight = new Oversight(this, "Oversight", {
      api,
      authorizer: identity.authorizer,
      registryTable: this.dataStores.registryTable,
      permissionsTable: this.dataStores.permissionsTable,
      integratedTable: this.dataStores.integratedTable,
      logTable: this.dataStores.exchangeLogTable,
      encryptionKey: this.dataStores.key,
      stage: props.stage,
      version: props.version,
    });

    const monitoring = new Monitoring(this, "Monitoring", {
      api,
      queues: {
        SyncChunks: sync.queue,
        Deliveries: delivery.queue,
        ExchangeLog: exchangeLog.queue,
        Oversight: oversight.queue,
      },
      stateMachines: { UploadPipeline: sync.stateMachine, ExportJob: exports.stateMachine },
      functions: {
        LogVerifier: exchangeLog.verifier,
        LogCheckpointer: exchangeLog.checkpointer,
        OversightWorker: oversight.worker,
      },
      encryptionKey: this.dataStores.key,
    });
    new CfnOutput(this, "AlarmTopicArn", {
      value: monitoring.topic.topicArn,
      description: "Subscribe the operator's e-mail or pager to DSCP's alarms",
    });

    new HealthCheck(this, "Health", {
      api,
      registryTable: this.dataStores.registryTable,
      stage: props.stage,
      version: props.version,
    });

    new ApiDocs(this, "ApiDocs", {
      api,
      registryTable: this.dataStores.registryTable,
      stage: props.stage,
      version: props.version,
    });

    new CfnOutput(this, "ApiUrl", { value: api.url, description: "Base URL of the DSCP API (stage included)" });
    new CfnOutput(this, "ApiId", { value: api.restApiId, description: "REST API id (LocalStack builds URLs from it)" });
    new CfnOutput(this, "ApiStage", { value: api.deploymentStage.stageName, description: "API stage name" });
    new CfnOutput(this, "PlatformAudience", { value: audience, description: "The aud every request token names" });
    new CfnOutput(this, "BootstrapFunctionName", {
      value: identity.bootstrapFunction.functionName,
      description: "Invoke once to register the operator's key (npm run bootstrap)",
    });
    new CfnOutput(this, "RegistryTableName", { value: this.dataStores.registryTable.tableName });
    new CfnOutput(this, "ExchangeLogTableName", { value: this.dataStores.exchangeLogTable.tableName });
    new CfnOutput(this, "IntegratedTableName", { value: this.dataStores.integratedTable.tableName });
    new CfnOutput(this, "UploadsBucketName", { value: this.dataStores.uploadsBucket.bucketName });
    new CfnOutput(this, "ExportsBucketName", { value: this.dataStores.exportsBucket.bucketName });
    new CfnOutput(this, "LogArchiveBucketName", { value: this.dataStores.logArchiveBucket.bucketName });
  }
}
