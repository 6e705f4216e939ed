import { fileURLToPath } from "node:url";
import type { IAuthorizer, RestApi } from "aws-cdk-lib/aws-apigateway";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";
import { agentNodeRoutes } from "../../api/agent-nodes.ts";
import { registryRoutes } from "../../api/registry.ts";
import { registryFunctionEnvironment } from "../../lambdas/registry/environment.ts";
import type { StageConfig } from "../stage.ts";
import { addRoutes } from "./api-routes.ts";
import { DscpFunction } from "./dscp-function.ts";
import { grantTable } from "./grants.ts";

export interface RegistryProps {
  readonly api: RestApi;
  readonly authorizer: IAuthorizer;
  readonly registryTable: ITable;
  /** The platform's asymmetric signing key (ECC_NIST_P256): it certifies the key that signs Agent Node configurations. */
  readonly signingKey: IKey;
  /** The platform's identity in what it signs. */
  readonly issuer: string;
  readonly stage: StageConfig;
  readonly version: string;
}

/**
 * Agencies, their systems (Agent Nodes) and the systems' keys, and the Agent Nodes' central
 * configurations and heartbeats: one function, twelve routes.
 */
export class Registry extends Construct {
  readonly function: DscpFunction<typeof registryFunctionEnvironment>;

  constructor(scope: Construct, id: string, props: RegistryProps) {
    super(scope, id);
    this.function = new DscpFunction(this, "Function", {
      entry: fileURLToPath(new URL("../../lambdas/registry/handler.ts", import.meta.url)),
      description: "DSCP registry: agencies, systems and keys",
      environmentSchema: registryFunctionEnvironment,
      environment: {
        REGISTRY_TABLE_NAME: props.registryTable.tableName,
        PLATFORM_KEY_ID: props.signingKey.keyId,
        PLATFORM_ISSUER: props.issuer,
      },
      stage: props.stage,
      version: props.version,
      serviceName: "dscp-registry",
      synchronous: true,
    });
    grantTable(
      this.function,
      props.registryTable,
      ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
      { indexes: ["gsi1", "gsi2"], writes: true },
    );

    // Signs Agent Node configurations: one Sign per environment key it certifies, once an hour.
    props.signingKey.grant(this.function, "kms:Sign");

    addRoutes({ api: props.api, authorizer: props.authorizer, handler: this.function, routes: registryRoutes });
    addRoutes({ api: props.api, authorizer: props.authorizer, handler: this.function, routes: agentNodeRoutes });
  }
}
