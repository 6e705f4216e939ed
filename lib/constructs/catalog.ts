import { fileURLToPath } from "node:url";
import type { IAuthorizer, RestApi } from "aws-cdk-lib/aws-apigateway";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Construct } from "constructs";
import { catalogRoutes } from "../../api/catalog.ts";
import { catalogEnvironment } from "../../lambdas/catalog/environment.ts";
import type { StageConfig } from "../stage.ts";
import { addRoutes } from "./api-routes.ts";
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

    addRoutes({ api: props.api, authorizer: props.authorizer, handler: this.function, routes: catalogRoutes });
  }
}
