import { fileURLToPath } from "node:url";
import type { IAuthorizer, RestApi } from "aws-cdk-lib/aws-apigateway";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Construct } from "constructs";
import { registryRoutes } from "../../api/registry.ts";
import { registryEnvironment } from "../../lambdas/registry/environment.ts";
import type { StageConfig } from "../stage.ts";
import { addRoutes } from "./api-routes.ts";
import { DscpFunction } from "./dscp-function.ts";
import { grantTable } from "./grants.ts";

export interface RegistryProps {
  readonly api: RestApi;
  readonly authorizer: IAuthorizer;
  readonly registryTable: ITable;
  readonly stage: StageConfig;
  readonly version: string;
}

/** Agencies, their systems (Agent Nodes) and the systems' keys: one function, eight routes. */
export class Registry extends Construct {
  readonly function: DscpFunction<typeof registryEnvironment>;

  constructor(scope: Construct, id: string, props: RegistryProps) {
    super(scope, id);
    this.function = new DscpFunction(this, "Function", {
      entry: fileURLToPath(new URL("../../lambdas/registry/handler.ts", import.meta.url)),
      description: "DSCP registry: agencies, systems and keys",
      environmentSchema: registryEnvironment,
      environment: { REGISTRY_TABLE_NAME: props.registryTable.tableName },
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

    addRoutes({ api: props.api, authorizer: props.authorizer, handler: this.function, routes: registryRoutes });
  }
}
