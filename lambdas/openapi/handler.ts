import document from "../../api/openapi.json" with { type: "json" };
import { httpHandler } from "../shared/http.ts";

/**
 * `GET /v1/openapi.json`: the OpenAPI 3.1 document generated from the handlers' own schemas
 * (`npm run openapi`), with the server set to the stage that answered.
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
  return {
    status: 200,
    body: { ...document, servers },
    headers: { "Cache-Control": "public, max-age=300" },
  };
});
