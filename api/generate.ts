import { readFileSync, writeFileSync } from "node:fs";
import { openApiDocument } from "./openapi.ts";

/** `npm run openapi`: writes the OpenAPI document the platform serves. A unit test keeps it current. */
export const OPENAPI_FILE = new URL("./openapi.json", import.meta.url);

export function renderOpenApi(): string {
  const { version } = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return `${JSON.stringify(openApiDocument({ version }), null, 2)}\n`;
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\//, "/"))) {
  writeFileSync(OPENAPI_FILE, renderOpenApi());
  process.stdout.write(`wrote ${OPENAPI_FILE.pathname}\n`);
}
