import { fileURLToPath } from "node:url";
import type { IAuthorizer, RestApi } from "aws-cdk-lib/aws-apigateway";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Construct } from "constructs";
import { dictionaryRoutes } from "../../api/dictionary.ts";
import { dictionaryEnvironment } from "../../lambdas/dictionary/environment.ts";
import type { StageConfig } from "../stage.ts";
import { addRoutes } from "./api-routes.ts";
import { DscpFunction } from "./dscp-function.ts";
import { grantItemWrites, grantTable } from "./grants.ts";

export interface DictionaryProps {
  readonly api: RestApi;
  readonly authorizer: IAuthorizer;
  readonly registryTable: ITable;
  readonly stage: StageConfig;
  readonly version: string;
}

/**
 * The Common Data Dictionary (Art. 19: fields, code lists, versioned schemas), the master-data
 * registry (Art. 5-6) and standardisation status (Art. 24). Reading the dictionary and the
 * master-data list is public; changing them, validating records and the status are signed.
 */
export class Dictionary extends Construct {
  readonly function: DscpFunction<typeof dictionaryEnvironment>;

  constructor(scope: Construct, id: string, props: DictionaryProps) {
    super(scope, id);
    this.function = new DscpFunction(this, "Function", {
      entry: fileURLToPath(new URL("../../lambdas/dictionary/handler.ts", import.meta.url)),
      description: "DSCP dictionary: fields, code lists, schemas, master data, standardisation",
      environmentSchema: dictionaryEnvironment,
      environment: { REGISTRY_TABLE_NAME: props.registryTable.tableName },
      stage: props.stage,
      version: props.version,
      serviceName: "dscp-dictionary",
      synchronous: true,
      memorySize: 512,
    });
    // The dictionary's routes are public: it may read the registry table, and write fields, code
    // lists, schema versions and master data only.
    grantTable(this.function, props.registryTable, ["dynamodb:GetItem", "dynamodb:Query"], { indexes: ["gsi1"] });
    grantItemWrites(
      this.function,
      props.registryTable,
      ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"],
      ["FIELD#", "CODELIST#", "SCHEMA#", "MASTER#"],
    );

    addRoutes({ api: props.api, authorizer: props.authorizer, handler: this.function, routes: dictionaryRoutes });
  }
}
