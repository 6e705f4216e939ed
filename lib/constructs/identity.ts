import { fileURLToPath } from "node:url";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";
import { authorizerEnvironment } from "../../lambdas/authorizer/environment.ts";
import { registryEnvironment } from "../../lambdas/registry/environment.ts";
import type { StageConfig } from "../stage.ts";
import { DscpFunction } from "./dscp-function.ts";
import { grantLogWrite } from "./exchange-log.ts";
import { grantTable } from "./grants.ts";
import type { WorkQueue } from "./work-queue.ts";

export interface IdentityProps {
  readonly registryTable: ITable;
  readonly replayTable: ITable;
  /** The `aud` request tokens must name. */
  readonly audience: string;
  /** The exchange log's queue, for refused exchange attempts. */
  readonly logQueue: WorkQueue;
  readonly encryptionKey: IKey;
  readonly stage: StageConfig;
  readonly version: string;
}

/**
 * Who is calling (design.md, "Identity and trust"): the function that verifies every signed
 * request token (the API's request authoriser invokes it), and the one-time bootstrap that
 * registers the operator's first key.
 */
export class Identity extends Construct {
  /** Verifies every signed request token; the API's request authoriser (PlatformApi) invokes it. */
  readonly authorizerFunction: DscpFunction<typeof authorizerEnvironment>;
  /** Invoked directly, once per deployment, to register the operator (`npm run bootstrap`). */
  readonly bootstrapFunction: DscpFunction<typeof registryEnvironment>;

  constructor(scope: Construct, id: string, props: IdentityProps) {
    super(scope, id);
    const common = { stage: props.stage, version: props.version, synchronous: true };

    this.authorizerFunction = new DscpFunction(this, "AuthorizerFunction", {
      ...common,
      entry: fileURLToPath(new URL("../../lambdas/authorizer/handler.ts", import.meta.url)),
      description: "DSCP request authoriser: verifies signed request tokens",
      environmentSchema: authorizerEnvironment,
      environment: {
        REGISTRY_TABLE_NAME: props.registryTable.tableName,
        REPLAY_TABLE_NAME: props.replayTable.tableName,
        PLATFORM_AUDIENCE: props.audience,
        LOG_QUEUE_URL: props.logQueue.queue.queueUrl,
        LOG_SHARDS: String(props.stage.logShards),
        REGISTRY_CACHE_SECONDS: String(props.stage.registryCache.toSeconds()),
      },
      serviceName: "dscp-authorizer",
      memorySize: 512,
    });
    grantTable(this.authorizerFunction, props.registryTable, ["dynamodb:Query"]);
    grantTable(this.authorizerFunction, props.replayTable, ["dynamodb:PutItem"], { writes: true });
    grantLogWrite(props.logQueue, props.encryptionKey, this.authorizerFunction);

    this.bootstrapFunction = new DscpFunction(this, "BootstrapFunction", {
      ...common,
      entry: fileURLToPath(new URL("../../lambdas/bootstrap/handler.ts", import.meta.url)),
      description: "DSCP one-time bootstrap: registers the operator system and its key",
      environmentSchema: registryEnvironment,
      environment: { REGISTRY_TABLE_NAME: props.registryTable.tableName },
      serviceName: "dscp-bootstrap",
    });
    grantTable(
      this.bootstrapFunction,
      props.registryTable,
      // UpdateItem revokes the old keys of a rotation; DeleteItem undoes a registration that failed part-way.
      ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
      { writes: true },
    );
  }
}
