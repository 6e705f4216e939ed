import { fileURLToPath } from "node:url";
import { Validations } from "aws-cdk-lib";
import type { RestApi } from "aws-cdk-lib/aws-apigateway";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Construct } from "constructs";
import { openApiEnvironment } from "../../lambdas/openapi/environment.ts";
import type { StageConfig } from "../stage.ts";
import { apiIntegration } from "./api-integration.ts";
import { DscpFunction } from "./dscp-function.ts";
import { grantTable } from "./grants.ts";

export interface ApiDocsProps {
  readonly api: RestApi;
  readonly registryTable: ITable;
  readonly stage: StageConfig;
  readonly version: string;
}

/** `GET /v1/openapi.json`: the API's OpenAPI 3.1 document, with the dictionary's schemas, public. */
export class ApiDocs extends Construct {
  constructor(scope: Construct, id: string, props: ApiDocsProps) {
    super(scope, id);
    const docsFunction = new DscpFunction(this, "Function", {
      entry: fileURLToPath(new URL("../../lambdas/openapi/handler.ts", import.meta.url)),
      description: "DSCP OpenAPI document",
      environmentSchema: openApiEnvironment,
      environment: { REGISTRY_TABLE_NAME: props.registryTable.tableName },
      stage: props.stage,
      version: props.version,
      serviceName: "dscp-openapi",
      synchronous: true,
    });
    // Lists the dictionary's schemas and their versions, nothing else.
    grantTable(docsFunction, props.registryTable, ["dynamodb:Query"], { indexes: ["gsi1"] });
    const method = props.api.root
      .resourceForPath("v1/openapi.json")
      .addMethod("GET", apiIntegration(props.api, docsFunction));
    Validations.of(method).acknowledge({
      id: "AwsSolutions-APIG4",
      reason: "The API description is public by design: agencies build their clients from it before they hold a key.",
    });
  }
}
