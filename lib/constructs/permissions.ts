import { fileURLToPath } from "node:url";
import type { IAuthorizer, RestApi } from "aws-cdk-lib/aws-apigateway";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Construct } from "constructs";
import { permissionsEnvironment } from "../../lambdas/permissions/environment.ts";
import type { StageConfig } from "../stage.ts";
import { apiIntegration } from "./api-integration.ts";
import { DscpFunction } from "./dscp-function.ts";
import { grantTable } from "./grants.ts";

export interface PermissionsProps {
  readonly api: RestApi;
  readonly authorizer: IAuthorizer;
  readonly registryTable: ITable;
  readonly permissionsTable: ITable;
  readonly stage: StageConfig;
  readonly version: string;
}

/** Access requests, decisions, mandatory grants (Art. 3.5) and revocations: one function, six routes. */
export class Permissions extends Construct {
  readonly function: DscpFunction<typeof permissionsEnvironment>;

  constructor(scope: Construct, id: string, props: PermissionsProps) {
    super(scope, id);
    this.function = new DscpFunction(this, "Function", {
      entry: fileURLToPath(new URL("../../lambdas/permissions/handler.ts", import.meta.url)),
      description: "DSCP permissions: access requests, decisions, grants, revocations",
      environmentSchema: permissionsEnvironment,
      environment: {
        REGISTRY_TABLE_NAME: props.registryTable.tableName,
        PERMISSIONS_TABLE_NAME: props.permissionsTable.tableName,
      },
      stage: props.stage,
      version: props.version,
      serviceName: "dscp-permissions",
      synchronous: true,
    });
    grantTable(this.function, props.registryTable, ["dynamodb:GetItem", "dynamodb:Query"]);
    grantTable(
      this.function,
      props.permissionsTable,
      ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
      { indexes: ["byConsumer", "byConsumerAgency", "byProviderAgency", "all"], writes: true },
    );

    const integration = apiIntegration(props.api, this.function);
    const signed = { authorizer: props.authorizer };
    const requests = props.api.root.resourceForPath("v1/access-requests");
    requests.addMethod("POST", integration, signed);
    requests.addMethod("GET", integration, signed);
    requests.addResource("{requestId}").addResource("decision").addMethod("POST", integration, signed);
    const permissions = props.api.root.resourceForPath("v1/permissions");
    permissions.addMethod("POST", integration, signed);
    permissions.addMethod("GET", integration, signed);
    permissions.addResource("{permissionId}").addMethod("DELETE", integration, signed);
  }
}
