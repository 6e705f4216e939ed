import { fileURLToPath } from "node:url";
import { Validations } from "aws-cdk-lib";
import type { RestApi } from "aws-cdk-lib/aws-apigateway";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Construct } from "constructs";
import { healthEnvironment } from "../../lambdas/health/environment.ts";
import type { StageConfig } from "../stage.ts";
import { apiIntegration } from "./api-integration.ts";
import { DscpFunction } from "./dscp-function.ts";
import { grantTable } from "./grants.ts";

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
      synchronous: true,
    });
    // The probe reads one key of the table itself, never its indexes.
    grantTable(this.function, props.registryTable, ["dynamodb:GetItem"]);

    const method = props.api.root
      .resourceForPath("v1/health")
      .addMethod("GET", apiIntegration(props.api, this.function));
    Validations.of(method).acknowledge({
      id: "AwsSolutions-APIG4",
      reason:
        "GET /v1/health is public by design (design.md: every route but health, the catalog and the dictionary needs a signed token), so load balancers and status pages can call it.",
    });
  }
}
