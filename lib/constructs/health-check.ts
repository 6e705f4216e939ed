import { fileURLToPath } from "node:url";
import type { RestApi } from "aws-cdk-lib/aws-apigateway";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Construct } from "constructs";
import { healthRoutes } from "../../api/platform.ts";
import { healthEnvironment } from "../../lambdas/health/environment.ts";
import type { StageConfig } from "../stage.ts";
import { addRoutes } from "./api-routes.ts";
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

    addRoutes({ api: props.api, handler: this.function, routes: healthRoutes });
  }
}
