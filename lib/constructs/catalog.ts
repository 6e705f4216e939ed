import { fileURLToPath } from "node:url";
import { Validations } from "aws-cdk-lib";
import type { IAuthorizer, RestApi } from "aws-cdk-lib/aws-apigateway";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Construct } from "constructs";
import { catalogEnvironment } from "../../lambdas/catalog/environment.ts";
import type { StageConfig } from "../stage.ts";
import { apiIntegration } from "./api-integration.ts";
import { DscpFunction } from "./dscp-function.ts";
import { grantItemWrites, grantTable } from "./grants.ts";

export interface CatalogProps {
  readonly api: RestApi;
  readonly authorizer: IAuthorizer;
  readonly registryTable: ITable;
  readonly stage: StageConfig;
  readonly version: string;
}

/** The public catalog of datasets (Art. 4.5) and the signed routes that publish and amend it. */
export class Catalog extends Construct {
  readonly function: DscpFunction<typeof catalogEnvironment>;

  constructor(scope: Construct, id: string, props: CatalogProps) {
    super(scope, id);
    this.function = new DscpFunction(this, "Function", {
      entry: fileURLToPath(new URL("../../lambdas/catalog/handler.ts", import.meta.url)),
      description: "DSCP catalog: datasets published by providers, public listing",
      environmentSchema: catalogEnvironment,
      environment: { REGISTRY_TABLE_NAME: props.registryTable.tableName },
      stage: props.stage,
      version: props.version,
      serviceName: "dscp-catalog",
      synchronous: true,
    });
    // The catalog's route is public: it may read the registry table, and write datasets only.
    grantTable(this.function, props.registryTable, ["dynamodb:GetItem", "dynamodb:Query"], { indexes: ["gsi1"] });
    grantItemWrites(this.function, props.registryTable, ["dynamodb:PutItem"], ["DATASET#"]);

    const integration = apiIntegration(props.api, this.function);
    const signed = { authorizer: props.authorizer };
    const datasets = props.api.root.resourceForPath("v1/datasets");
    datasets.addMethod("POST", integration, signed);
    datasets.addResource("{datasetId}").addMethod("PATCH", integration, signed);

    const catalog = props.api.root.resourceForPath("v1/catalog/datasets");
    for (const method of [
      catalog.addMethod("GET", integration),
      catalog.addResource("{datasetId}").addMethod("GET", integration),
    ]) {
      Validations.of(method).acknowledge({
        id: "AwsSolutions-APIG4",
        reason:
          "The catalog is public by design (Art. 4.5: agencies publish what data they manage, for everyone to see).",
      });
    }
  }
}
