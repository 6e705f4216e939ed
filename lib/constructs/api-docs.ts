import { fileURLToPath } from "node:url";
import { Validations } from "aws-cdk-lib";
import { LambdaIntegration, type RestApi } from "aws-cdk-lib/aws-apigateway";
import { Construct } from "constructs";
import { openApiEnvironment } from "../../lambdas/openapi/environment.ts";
import type { StageConfig } from "../stage.ts";
import { DscpFunction } from "./dscp-function.ts";

export interface ApiDocsProps {
  readonly api: RestApi;
  readonly stage: StageConfig;
  readonly version: string;
}

/** `GET /v1/openapi.json`: the API's OpenAPI 3.1 document, public, from a function with no grants. */
export class ApiDocs extends Construct {
  constructor(scope: Construct, id: string, props: ApiDocsProps) {
    super(scope, id);
    const docsFunction = new DscpFunction(this, "Function", {
      entry: fileURLToPath(new URL("../../lambdas/openapi/handler.ts", import.meta.url)),
      description: "DSCP OpenAPI document",
      environmentSchema: openApiEnvironment,
      environment: {},
      stage: props.stage,
      version: props.version,
      serviceName: "dscp-openapi",
      synchronous: true,
    });
    const method = props.api.root
      .resourceForPath("v1/openapi.json")
      .addMethod("GET", new LambdaIntegration(docsFunction, { proxy: true }));
    Validations.of(method).acknowledge({
      id: "AwsSolutions-APIG4",
      reason: "The API description is public by design: agencies build their clients from it before they hold a key.",
    });
  }
}
