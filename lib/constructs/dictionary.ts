import { fileURLToPath } from "node:url";
import { Validations } from "aws-cdk-lib";
import type { IAuthorizer, Method, RestApi } from "aws-cdk-lib/aws-apigateway";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { Construct } from "constructs";
import { dictionaryEnvironment } from "../../lambdas/dictionary/environment.ts";
import type { StageConfig } from "../stage.ts";
import { apiIntegration } from "./api-integration.ts";
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

    const integration = apiIntegration(props.api, this.function);
    const signed = { authorizer: props.authorizer };
    const publicMethods: Method[] = [];
    const dictionary = props.api.root.resourceForPath("v1/dictionary");

    const fields = dictionary.addResource("fields");
    fields.addMethod("POST", integration, signed);
    publicMethods.push(fields.addMethod("GET", integration));
    const field = fields.addResource("{code}");
    publicMethods.push(field.addMethod("GET", integration));
    field.addMethod("PATCH", integration, signed);

    const codeLists = dictionary.addResource("code-lists");
    codeLists.addMethod("POST", integration, signed);
    publicMethods.push(codeLists.addMethod("GET", integration));
    const codeList = codeLists.addResource("{code}");
    publicMethods.push(codeList.addMethod("GET", integration));
    const entries = codeList.addResource("entries");
    publicMethods.push(entries.addMethod("GET", integration));
    entries.addMethod("POST", integration, signed);

    const schemas = dictionary.addResource("schemas");
    schemas.addMethod("POST", integration, signed);
    publicMethods.push(schemas.addMethod("GET", integration));
    const versions = schemas.addResource("{schemaId}").addResource("versions");
    publicMethods.push(versions.addMethod("GET", integration));
    const version = versions.addResource("{version}");
    publicMethods.push(version.addMethod("GET", integration));
    publicMethods.push(version.addResource("json-schema").addMethod("GET", integration));
    version.addResource("validate").addMethod("POST", integration, signed);

    const masterData = props.api.root.resourceForPath("v1/master-data");
    masterData.addMethod("POST", integration, signed);
    publicMethods.push(masterData.addMethod("GET", integration));

    props.api.root.resourceForPath("v1/standardisation").addMethod("GET", integration, signed);

    for (const method of publicMethods) {
      Validations.of(method).acknowledge({
        id: "AwsSolutions-APIG4",
        reason:
          "The dictionary and the master-data list are public by design (design.md: every route but health, the catalog and the dictionary needs a signed token; Art. 19 and 5 make them common references).",
      });
    }
  }
}
