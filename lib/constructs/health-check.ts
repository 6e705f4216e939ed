import { fileURLToPath } from "node:url";
import { Validations } from "aws-cdk-lib";
import { LambdaIntegration, type RestApi } from "aws-cdk-lib/aws-apigateway";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import { healthEnvironment } from "../../lambdas/health/environment.ts";
import type { StageConfig } from "../stage.ts";
import { DscpFunction } from "./dscp-function.ts";

export interface HealthCheckProps {
  readonly api: RestApi;
  readonly registryTable: ITable;
  readonly stage: StageConfig;
  readonly version: string;
}

/** `GET /v1/health`: public, unauthenticated, reports version, stage, time and the data tier. */
export class HealthCheck extends Construct {
  readonly function: DscpFunction<typeof healthEnvironment>;

  constructor(scope: Construct, id: string, props: HealthCheckProps) {
    super(scope, id);
    this.function = new DscpFunction(this, "Function", {
      entry: fileURLToPath(new URL("../../lambdas/health/handler.ts", import.meta.url)),
      description: "DSCP health: version, stage, time and data-tier reachability",
      environmentSchema: healthEnvironment,
      environment: { REGISTRY_TABLE_NAME: props.registryTable.tableName },
      stage: props.stage,
      version: props.version,
      serviceName: "dscp-health",
    });
    // The probe reads one key of the table itself, never its indexes.
    this.function.addToRolePolicy(
      new PolicyStatement({ actions: ["dynamodb:GetItem"], resources: [props.registryTable.tableArn] }),
    );
    props.registryTable.encryptionKey?.grantDecrypt(this.function);
    Validations.of(this.function).acknowledge({
      id: "Serverless-LambdaDLQ",
      reason: "Invoked synchronously by API Gateway only; a dead-letter target applies to asynchronous invocations.",
    });

    const method = props.api.root
      .resourceForPath("v1/health")
      .addMethod("GET", new LambdaIntegration(this.function, { proxy: true }));
    for (const rule of ["AwsSolutions-APIG4", "AwsSolutions-COG4"]) {
      Validations.of(method).acknowledge({
        id: rule,
        reason:
          "GET /v1/health is public by design (design.md: every route but health, the catalog and the dictionary needs a signed token), so load balancers and status pages can call it.",
      });
    }
  }
}
