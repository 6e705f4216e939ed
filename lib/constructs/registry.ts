import { fileURLToPath } from "node:url";
import type { IAuthorizer, RestApi } from "aws-cdk-lib/aws-apigateway";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Construct } from "constructs";
import { registryEnvironment } from "../../lambdas/registry/environment.ts";
import type { StageConfig } from "../stage.ts";
import { apiIntegration } from "./api-integration.ts";
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

    const integration = apiIntegration(props.api, this.function);
    const options = { authorizer: props.authorizer };
    const v1 = props.api.root.resourceForPath("v1");
    const agencies = v1.addResource("agencies");
    agencies.addMethod("POST", integration, options);
    agencies.addMethod("GET", integration, options);
    agencies.addResource("{agencyId}").addResource("systems").addMethod("POST", integration, options);
    const systems = v1.addResource("systems");
    systems.addMethod("GET", integration, options);
    const system = systems.addResource("{systemId}");
    system.addMethod("PATCH", integration, options);
    system.addResource("endpoint").addResource("approval").addMethod("POST", integration, options);
    const keys = system.addResource("keys");
    keys.addMethod("POST", integration, options);
    keys.addResource("{kid}").addMethod("DELETE", integration, options);
  }
}
