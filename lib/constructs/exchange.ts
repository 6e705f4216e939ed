import { fileURLToPath } from "node:url";
import { Duration } from "aws-cdk-lib";
import type { IAuthorizer, RestApi } from "aws-cdk-lib/aws-apigateway";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";
import { exchangeRoutes } from "../../api/exchange.ts";
import { platformKeyRoutes } from "../../api/platform.ts";
import { exchangeEnvironment } from "../../lambdas/exchange/environment.ts";
import { platformKeysEnvironment } from "../../lambdas/platform-keys/environment.ts";
import type { StageConfig } from "../stage.ts";
import { addRoutes } from "./api-routes.ts";
import { DscpFunction } from "./dscp-function.ts";
import type { ExchangeLog } from "./exchange-log.ts";
import { grantTable } from "./grants.ts";

export interface ExchangeProps {
  readonly api: RestApi;
  readonly authorizer: IAuthorizer;
  readonly registryTable: ITable;
  readonly integratedTable: ITable;
  readonly permissionsTable: ITable;
  /** Token ids already used: the exchange routes authenticate their requests themselves. */
  readonly replayTable: ITable;
  /** The platform's asymmetric signing key (ECC_NIST_P256). */
  readonly signingKey: IKey;
  /** The platform's identity in the tokens it signs. */
  readonly issuer: string;
  /** Where every attempt is logged. */
  readonly log: ExchangeLog;
  readonly stage: StageConfig;
  readonly version: string;
}

/** How long the platform waits for a provider before answering 504. */
const UPSTREAM_TIMEOUT = Duration.seconds(8);

/** Request-based exchange (Art. 7.2a) and the published platform key that signs upstream calls. */
export class Exchange extends Construct {
  readonly function: DscpFunction<typeof exchangeEnvironment>;

  constructor(scope: Construct, id: string, props: ExchangeProps) {
    super(scope, id);
    this.function = new DscpFunction(this, "Function", {
      entry: fileURLToPath(new URL("../../lambdas/exchange/handler.ts", import.meta.url)),
      description: "DSCP exchange: consumers' requests, checked, proxied to providers, logged",
      environmentSchema: exchangeEnvironment,
      environment: {
        REGISTRY_TABLE_NAME: props.registryTable.tableName,
        PERMISSIONS_TABLE_NAME: props.permissionsTable.tableName,
        INTEGRATED_TABLE_NAME: props.integratedTable.tableName,
        PLATFORM_KEY_ID: props.signingKey.keyId,
        PLATFORM_ISSUER: props.issuer,
        UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT.toMilliseconds()),
        REPLAY_TABLE_NAME: props.replayTable.tableName,
        REGISTRY_CACHE_SECONDS: String(props.stage.registryCache.toSeconds()),
        PERMISSION_CACHE_SECONDS: String(props.stage.permissionCache.toSeconds()),
        LOG_QUEUE_URL: props.log.queue.queue.queueUrl,
        LOG_SHARDS: String(props.stage.logShards),
      },
      stage: props.stage,
      version: props.version,
      serviceName: "dscp-exchange",
      synchronous: true,
      memorySize: 512,
      timeout: Duration.seconds(UPSTREAM_TIMEOUT.toSeconds() + 4),
      // A slow provider holds an environment for up to UPSTREAM_TIMEOUT: at most this many.
      ...(props.stage.concurrency.exchange === undefined
        ? {}
        : { reservedConcurrentExecutions: props.stage.concurrency.exchange }),
    });
    grantTable(this.function, props.registryTable, ["dynamodb:GetItem", "dynamodb:Query"]);
    grantTable(this.function, props.permissionsTable, ["dynamodb:Query"], { indexes: ["byConsumer"] });
    grantTable(this.function, props.replayTable, ["dynamodb:PutItem"], { writes: true });
    // Reads only: records by key, and live records of a dataset for queries.
    grantTable(this.function, props.integratedTable, ["dynamodb:GetItem", "dynamodb:Query"], {
      indexes: ["byDataset"],
    });
    props.signingKey.grant(this.function, "kms:Sign");
    props.log.grantWrite(this.function);

    addRoutes({ api: props.api, authorizer: props.authorizer, handler: this.function, routes: exchangeRoutes });
    const keysFunction = new DscpFunction(this, "PlatformKeysFunction", {
      entry: fileURLToPath(new URL("../../lambdas/platform-keys/handler.ts", import.meta.url)),
      description: "DSCP platform key set: the public key that verifies the platform's calls",
      environmentSchema: platformKeysEnvironment,
      environment: { PLATFORM_KEY_ID: props.signingKey.keyId },
      stage: props.stage,
      version: props.version,
      serviceName: "dscp-platform-keys",
      synchronous: true,
    });
    props.signingKey.grant(keysFunction, "kms:GetPublicKey");
    addRoutes({ api: props.api, handler: keysFunction, routes: platformKeyRoutes });
  }
}
