import { cached } from "../../adapters/cache/ttl-cache.ts";
import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoDictionaryStore } from "../../adapters/dynamodb/dictionary-store.ts";
import document from "../../api/openapi.json" with { type: "json" };
import { lazyEnvironment } from "../shared/environment.ts";
import { httpHandler } from "../shared/http.ts";
import { openApiEnvironment } from "./environment.ts";

const environment = lazyEnvironment(openApiEnvironment);

/**
 * Every published version of every dictionary schema as an OpenAPI component named
 * `<schemaId>.<version>` (the JSON Schema it compiled to), read at most once a minute.
 */
const dictionaryComponents = cached(
  async (_: "all") => {
    const store = new DynamoDictionaryStore(dynamoDbClient(), environment().REGISTRY_TABLE_NAME);
    const components: Record<string, unknown> = {};
    let schemas: string | undefined;
    do {
      const page = await store.listSchemas({ limit: 100, ...(schemas ? { cursor: schemas } : {}) });
      for (const schema of page.items) {
        let versions: string | undefined;
        do {
          const found = await store.listSchemaVersions(schema.id, {
            limit: 100,
            ...(versions ? { cursor: versions } : {}),
          });
          for (const version of found.items) {
            const { $schema: _dialect, ...jsonSchema } = version.jsonSchema;
            components[`${version.id}.${version.version}`] = jsonSchema;
          }
          versions = found.nextCursor;
        } while (versions);
      }
      schemas = page.nextCursor;
    } while (schemas);
    return components;
  },
  { ttlMs: 60_000 },
);

/**
 * `GET /v1/openapi.json`: the OpenAPI 3.1 document generated from the handlers' own schemas
 * (`npm run openapi`), with the dictionary's schemas as components and the server set to the
 * stage that answered.
 */
export const handler = httpHandler(async (event) => {
  const host = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === "host")?.[1];
  const proto = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === "x-forwarded-proto")?.[1];
  // requestContext.path is the path as called, stage included; what precedes the resource is the base.
  const called = event.requestContext?.path ?? "";
  const base = called.endsWith(event.path) ? called.slice(0, -event.path.length) : "";
  const servers = host
    ? [{ url: `${proto ?? "https"}://${host}${base}`, description: "This stage" }]
    : document.servers;
  const dictionary = (await dictionaryComponents("all")) ?? {};
  return {
    status: 200,
    body: {
      ...document,
      servers,
      components: { ...document.components, schemas: { ...dictionary, ...document.components.schemas } },
    },
    headers: { "Cache-Control": "public, max-age=60" },
  };
});
