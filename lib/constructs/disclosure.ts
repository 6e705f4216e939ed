import { fileURLToPath } from "node:url";
import { Duration } from "aws-cdk-lib";
import type { RestApi } from "aws-cdk-lib/aws-apigateway";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import { disclosureRoutes } from "../../api/disclosure.ts";
import { disclosureEnvironment } from "../../lambdas/disclosure/environment.ts";
import type { StageConfig } from "../stage.ts";
import { addRoutes } from "./api-routes.ts";
import { DscpFunction } from "./dscp-function.ts";
import { grantTable } from "./grants.ts";

export interface DisclosureProps {
  readonly api: RestApi;
  /** The catalog's datasets. */
  readonly registryTable: ITable;
  /** Where the rankings are kept (beside the National Integrated Database's records, which it may not read). */
  readonly integratedTable: ITable;
  readonly logTable: ITable;
  readonly stage: StageConfig;
  readonly version: string;
}

/**
 * Public disclosure (Art. 13.1a, 13.4, 15.6, 22.6): one function behind public, cacheable routes
 * that reads only what it publishes (the catalog, the rankings' items, the log's time index and
 * connection dates) and can write nothing.
 */
export class Disclosure extends Construct {
  constructor(scope: Construct, id: string, props: DisclosureProps) {
    super(scope, id);
    const fn = new DscpFunction(this, "Function", {
      stage: props.stage,
      version: props.version,
      environmentSchema: disclosureEnvironment,
      environment: {
        REGISTRY_TABLE_NAME: props.registryTable.tableName,
        INTEGRATED_TABLE_NAME: props.integratedTable.tableName,
        LOG_TABLE_NAME: props.logTable.tableName,
      },
      entry: fileURLToPath(new URL("../../lambdas/disclosure/handler.ts", import.meta.url)),
      description: "DSCP public disclosure: official ranking, compliance, connections, aggregate exchange figures",
      serviceName: "dscp-disclosure",
      synchronous: true,
      timeout: Duration.seconds(28),
      memorySize: 512,
    });
    grantTable(fn, props.registryTable, ["dynamodb:GetItem", "dynamodb:Query"], { indexes: ["gsi1"] });
    grantTable(fn, props.logTable, ["dynamodb:Query", "dynamodb:BatchGetItem"], { indexes: ["byTime"] });
    // The rankings' items only: never a record of the National Integrated Database.
    fn.addToRolePolicy(
      new PolicyStatement({
        actions: ["dynamodb:GetItem", "dynamodb:Query"],
        resources: [props.integratedTable.tableArn],
        conditions: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["RANKING#*"] } },
      }),
    );
    props.integratedTable.encryptionKey?.grant(fn, "kms:Decrypt", "kms:DescribeKey");
    addRoutes({ api: props.api, handler: fn, routes: disclosureRoutes });
  }
}
