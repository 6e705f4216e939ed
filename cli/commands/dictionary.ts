import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { dictionaryRoutes } from "../../api/dictionary.ts";
import type { DscpClient } from "../../client/dscp-client.ts";
import { RecordValidator } from "../../domain/dictionary/validator.ts";
import type { Command, Page, Values } from "../command.ts";
import { throwIfProblem } from "../context.ts";
import { errorLine } from "../format.ts";
import { optional, pageOf, paging } from "../options.ts";

/** The dictionary's listings that take no path parameter. */
type Listing = (typeof dictionaryRoutes)["listFields" | "listCodeLists" | "listSchemas" | "listMasterData"];

/** A page of one of the dictionary's listings, with the filters given. */
function listPage(client: DscpClient, route: Listing, values: Values, filters: Record<string, string> = {}) {
  return client.invoke<Page, Listing["path"]>(route, { query: { ...filters, ...pageOf(values) } });
}

/** The Common Data Dictionary (fields, code lists, schemas), master data and standardisation. */
export const dictionaryCommands: readonly Command[] = [
  {
    name: "fields list",
    args: [],
    summary: "The dictionary's fields (no key needed)",
    options: {
      status: { type: "string", hint: "draft, published or deprecated" },
      owner: { type: "string" },
      ...paging,
    },
    async run(context, _args, values) {
      const page = await listPage(
        context.client(false),
        dictionaryRoutes.listFields,
        values,
        optional({ status: values.status, owner: values.owner }),
      );
      context.table(page, ["code", "type", "codeList", "status", "owner", "name", "nameEn"]);
      return 0;
    },
  },
  {
    name: "fields add",
    args: ["file"],
    summary:
      "Define dictionary fields from a JSON file holding one field or a list; existing ones are skipped (operator)",
    async run(context, [file]) {
      const content = context.readJson(String(file));
      const client = context.client();
      // Importing a file again is harmless: fields already defined are named and left as they are.
      for (const field of Array.isArray(content) ? content : [content]) {
        const response = await client.sendRoute(dictionaryRoutes.createField, { body: field });
        if (response.status === 409) context.io.stderr(`exists: ${(field as { code?: string }).code}\n`);
        else {
          throwIfProblem(response);
          context.print(response.body);
        }
      }
      return 0;
    },
  },
  {
    name: "codes list",
    args: ["codeList?"],
    summary: "The code lists, or one list's codes (no key needed)",
    options: paging,
    async run(context, [code], values) {
      const client = context.client(false);
      if (code === undefined) {
        const page = await listPage(client, dictionaryRoutes.listCodeLists, values);
        context.table(page, ["code", "entryCount", "owner", "name", "nameEn"]);
      } else {
        const page: Page = await client.invoke(dictionaryRoutes.listCodeEntries, {
          path: { code },
          query: pageOf(values),
        });
        context.table(page, ["code", "label", "labelEn", "parent"]);
      }
      return 0;
    },
  },
  {
    name: "codes add",
    args: ["file"],
    summary: "Define a code list from a JSON file, or add its entries to the existing list (operator)",
    async run(context, [file]) {
      const { entries = [], ...list } = context.readJson(String(file)) as { code: string; entries?: unknown[] };
      const client = context.client();
      const first = await client.sendRoute(dictionaryRoutes.createCodeList, {
        body: { ...list, entries: entries.slice(0, 500) },
      });
      if (first.status !== 409) throwIfProblem(first);
      // The rest (or, for a list that exists, all of it) in batches of 500: new codes added, known ones relabelled.
      let result: unknown = first.body;
      for (let start = first.status === 409 ? 0 : 500; start < entries.length; start += 500) {
        result = await client.invoke(dictionaryRoutes.addCodeEntries, {
          path: { code: list.code },
          body: { entries: entries.slice(start, start + 500) },
        });
      }
      context.print(result);
      return 0;
    },
  },
  {
    name: "schemas list",
    args: ["schemaId?"],
    summary: "The dictionary's schemas, or one schema's versions (no key needed)",
    options: paging,
    async run(context, [id], values) {
      const client = context.client(false);
      if (id === undefined) {
        const page = await listPage(client, dictionaryRoutes.listSchemas, values);
        context.table(page, ["id", "latestVersion", "owner", "updatedAt", "title"]);
      } else {
        const page: Page = await client.invoke(dictionaryRoutes.listSchemaVersions, {
          path: { schemaId: id },
          query: pageOf(values),
        });
        context.table(page, ["version", "publishedAt", "publishedBy", "keyFields", "changes"]);
      }
      return 0;
    },
  },
  {
    name: "schemas show",
    args: ["schemaId", "version?"],
    summary: "A schema version (default latest) as its JSON Schema document (no key needed)",
    async run(context, [id, version]) {
      context.printDocument(await context.client(false).getJsonSchema(String(id), version));
      return 0;
    },
  },
  {
    name: "schemas publish",
    args: ["file"],
    summary: "Publish a schema version described in a JSON file (operator, or the agency it belongs to)",
    async run(context, [file]) {
      context.print(
        await context.client().invoke(dictionaryRoutes.publishSchemaVersion, { body: context.readJson(String(file)) }),
      );
      return 0;
    },
  },
  {
    name: "validate",
    args: ["schemaId", "version", "file"],
    summary: "Validate an NDJSON file against a schema version, here, line by line; exit 1 if a record fails",
    options: { max: { type: "string", hint: "stop reporting after this many failing records (default 100)" } },
    async run(context, [id, version, file], values) {
      const schema = await context.client(false).getJsonSchema(String(id), String(version));
      const summary = await validateNdjson(context.existing(String(file)), schema, Number(values.max ?? 100), (line) =>
        context.io.stdout(line),
      );
      context.io.stdout(
        `${summary.valid} valid, ${summary.invalid} invalid of ${summary.records} records (${schema.$id as string})\n`,
      );
      return summary.invalid > 0 ? 1 : 0;
    },
  },
  {
    name: "master-data list",
    args: [],
    summary: "The master data items and their one source each (no key needed)",
    options: { level: { type: "string", hint: "national or sectoral" }, agency: { type: "string" }, ...paging },
    async run(context, _args, values) {
      const page = await listPage(
        context.client(false),
        dictionaryRoutes.listMasterData,
        values,
        optional({ level: values.level, agency: values.agency }),
      );
      context.table(page, ["code", "level", "sector", "sourceDataset", "managingAgency", "name"]);
      return 0;
    },
  },
  {
    name: "master-data add",
    args: ["file"],
    summary: "Register a master data item from a JSON file (operator, or the agency managing its source)",
    async run(context, [file]) {
      context.print(
        await context.client().invoke(dictionaryRoutes.registerMasterData, { body: context.readJson(String(file)) }),
      );
      return 0;
    },
  },
  {
    name: "standardisation",
    args: [],
    summary: "Standardisation of each dataset against its Art. 24 deadline, and per agency",
    options: { agency: { type: "string" } },
    async run(context, _args, values) {
      const report: { agencies: object[]; datasets: object[] } = await context
        .client()
        .invoke(dictionaryRoutes.getStandardisation, { query: optional({ agency: values.agency }) });
      if (context.json) {
        context.print(report);
        return 0;
      }
      context.table({ items: report.datasets }, [
        "datasetId",
        "status",
        "deadline",
        "daysLeft",
        "standardisedOn",
        "schema",
      ]);
      context.io.stdout("\n");
      context.table({ items: report.agencies }, [
        "agency",
        "datasets",
        "standardised",
        "standardisedLate",
        "pending",
        "overdue",
        "late",
      ]);
      return 0;
    },
  },
];

/**
 * Validates an NDJSON file against a JSON Schema one line at a time (memory stays flat
 * whatever the file's size), printing each failing record's line, path and rule.
 */
async function validateNdjson(
  path: string,
  schema: Record<string, unknown>,
  maxReported: number,
  print: (line: string) => void,
): Promise<{ records: number; valid: number; invalid: number }> {
  const check = new RecordValidator().check(schema);
  const lines = createInterface({ input: createReadStream(path, "utf8"), crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  let records = 0;
  let invalid = 0;
  for await (const line of lines) {
    number++;
    if (line.trim() === "") continue;
    records++;
    let errors: { path: string; rule: string; message: string }[];
    try {
      errors = check(JSON.parse(line));
    } catch {
      errors = [{ path: "(line)", rule: "json", message: "is not valid JSON" }];
    }
    if (errors.length === 0) continue;
    invalid++;
    if (invalid <= maxReported) {
      for (const error of errors) print(errorLine(number, error));
    } else if (invalid === maxReported + 1) print(`(more failing records not shown; --max raises the limit)\n`);
  }
  return { records, valid: records - invalid, invalid };
}
