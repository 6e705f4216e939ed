import { DynamoCatalogStore } from "../../adapters/dynamodb/catalog-store.ts";
import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoDictionaryStore } from "../../adapters/dynamodb/dictionary-store.ts";
import { DynamoRegistryStore } from "../../adapters/dynamodb/registry-store.ts";
import { catalogRoutes } from "../../api/catalog.ts";
import { CatalogService } from "../../domain/catalog/catalog-service.ts";
import { type CatalogFilter, catalogQuery } from "../../domain/catalog/model.ts";
import { parseInput, parseJsonBody } from "../../domain/validation.ts";
import { authenticatedCaller } from "../shared/caller.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { created, httpHandler, ok } from "../shared/http.ts";
import { dispatch, pagination, pathParameter } from "../shared/routes.ts";
import { catalogEnvironment } from "./environment.ts";

const environment = lazyEnvironment(catalogEnvironment);
let service: CatalogService | undefined;
const catalog = () => {
  const table = environment().REGISTRY_TABLE_NAME;
  service ??= new CatalogService(
    new DynamoCatalogStore(dynamoDbClient(), table),
    new DynamoRegistryStore(dynamoDbClient(), table),
    new DynamoDictionaryStore(dynamoDbClient(), table),
  );
  return service;
};

/** The catalog of shared datasets (Art. 4.5): publishing is signed, reading is public. */
export const handler = httpHandler(
  dispatch(catalogRoutes, {
    publishDataset: async (event) => created(catalog().publish(authenticatedCaller(event), parseJsonBody(event.body))),
    amendDataset: async (event) =>
      ok(catalog().amend(authenticatedCaller(event), pathParameter(event, "datasetId"), parseJsonBody(event.body))),
    listCatalog: async (event) => {
      const { limit: _limit, cursor: _cursor, ...filters } = event.queryStringParameters ?? {};
      const query = parseInput(catalogQuery, filters, "catalog filter");
      const filter: CatalogFilter = {
        ...(query.agency ? { agency: query.agency } : {}),
        ...(query.classification ? { classification: query.classification } : {}),
        ...(query.mandatory ? { mandatory: query.mandatory } : {}),
        ...(query.method ? { method: query.method } : {}),
        ...(query.crossBorderAllowed ? { crossBorderAllowed: query.crossBorderAllowed === "true" } : {}),
      };
      return {
        status: 200,
        body: await catalog().list(filter, pagination(event)),
        headers: { "Cache-Control": "public, max-age=60" },
      };
    },
    getCatalogDataset: async (event) => ({
      status: 200,
      body: await catalog().get(pathParameter(event, "datasetId")),
      headers: { "Cache-Control": "public, max-age=60" },
    }),
  }),
);
