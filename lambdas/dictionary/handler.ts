import type { APIGatewayProxyEvent } from "aws-lambda";
import { DynamoCatalogStore } from "../../adapters/dynamodb/catalog-store.ts";
import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoDictionaryStore } from "../../adapters/dynamodb/dictionary-store.ts";
import { DynamoMasterDataStore } from "../../adapters/dynamodb/master-data-store.ts";
import { dictionaryRoutes } from "../../api/dictionary.ts";
import { DictionaryService } from "../../domain/dictionary/dictionary-service.ts";
import { fieldListQuery } from "../../domain/dictionary/model.ts";
import { standardisationQuery, standardisationReport } from "../../domain/dictionary/standardisation.ts";
import { RecordValidator } from "../../domain/dictionary/validator.ts";
import { MasterDataService, masterDataQuery } from "../../domain/master-data/master-data.ts";
import { parseJsonBody } from "../../domain/validation.ts";
import { authenticatedCaller } from "../shared/caller.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import type { HttpResult } from "../shared/http.ts";
import { created, httpHandler, ok } from "../shared/http.ts";
import { dispatch, pagination, pathParameter, queryParameters } from "../shared/routes.ts";
import { dictionaryEnvironment } from "./environment.ts";

const environment = lazyEnvironment(dictionaryEnvironment);
let services: { dictionary: DictionaryService; masterData: MasterDataService; catalog: DynamoCatalogStore } | undefined;
const deps = () => {
  if (services) return services;
  const table = environment().REGISTRY_TABLE_NAME;
  const client = dynamoDbClient();
  const catalog = new DynamoCatalogStore(client, table);
  services = {
    dictionary: new DictionaryService(new DynamoDictionaryStore(client, table), new RecordValidator()),
    masterData: new MasterDataService(new DynamoMasterDataStore(client, table), catalog),
    catalog,
  };
  return services;
};

/** Public reads may be cached a minute by intermediaries; published schema versions for good. */
const publicly = (body: unknown, maxAge = 60, contentType?: string): HttpResult => ({
  status: 200,
  body,
  headers: { "Cache-Control": `public, max-age=${maxAge}`, ...(contentType ? { "Content-Type": contentType } : {}) },
});
const schemaVersion = (event: APIGatewayProxyEvent) =>
  deps().dictionary.getSchemaVersion(pathParameter(event, "schemaId"), pathParameter(event, "version"));
const immutable = (event: APIGatewayProxyEvent) => (event.pathParameters?.version === "latest" ? 60 : 86_400);

/** The Common Data Dictionary (Art. 19), the master-data registry (Art. 5-6) and standardisation (Art. 24). */
export const handler = httpHandler(
  dispatch(dictionaryRoutes, {
    createField: (event) =>
      created(deps().dictionary.createField(authenticatedCaller(event), parseJsonBody(event.body))),
    listFields: async (event) =>
      publicly(await deps().dictionary.listFields(queryParameters(event, fieldListQuery), pagination(event))),
    getField: async (event) => publicly(await deps().dictionary.getField(pathParameter(event, "code"))),
    amendField: async (event) =>
      ok(
        deps().dictionary.amendField(
          authenticatedCaller(event),
          pathParameter(event, "code"),
          parseJsonBody(event.body),
        ),
      ),
    createCodeList: (event) =>
      created(deps().dictionary.createCodeList(authenticatedCaller(event), parseJsonBody(event.body))),
    listCodeLists: async (event) => publicly(await deps().dictionary.listCodeLists(pagination(event))),
    getCodeList: async (event) => publicly(await deps().dictionary.getCodeList(pathParameter(event, "code"))),
    listCodeEntries: async (event) =>
      publicly(await deps().dictionary.listCodeEntries(pathParameter(event, "code"), pagination(event))),
    addCodeEntries: async (event) =>
      ok(
        deps().dictionary.addCodeEntries(
          authenticatedCaller(event),
          pathParameter(event, "code"),
          parseJsonBody(event.body),
        ),
      ),
    publishSchemaVersion: (event) =>
      created(deps().dictionary.publishSchemaVersion(authenticatedCaller(event), parseJsonBody(event.body))),
    listSchemas: async (event) => publicly(await deps().dictionary.listSchemas(pagination(event))),
    listSchemaVersions: async (event) =>
      publicly(await deps().dictionary.listSchemaVersions(pathParameter(event, "schemaId"), pagination(event))),
    getSchemaVersion: async (event) => publicly(await schemaVersion(event), immutable(event)),
    getJsonSchema: async (event) =>
      publicly((await schemaVersion(event)).jsonSchema, immutable(event), "application/schema+json"),
    validateRecords: async (event) => {
      authenticatedCaller(event);
      return ok(
        deps().dictionary.validate(
          pathParameter(event, "schemaId"),
          pathParameter(event, "version"),
          parseJsonBody(event.body),
        ),
      );
    },
    registerMasterData: (event) =>
      created(deps().masterData.register(authenticatedCaller(event), parseJsonBody(event.body))),
    listMasterData: async (event) =>
      publicly(await deps().masterData.list(queryParameters(event, masterDataQuery), pagination(event))),
    getStandardisation: async (event) => {
      const caller = authenticatedCaller(event);
      const { agency } = queryParameters(event, standardisationQuery);
      return ok(standardisationReport(caller, deps().catalog, agency ? { agency } : {}));
    },
  }),
);
