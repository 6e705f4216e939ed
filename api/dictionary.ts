import * as z from "zod/mini";
import { MANDATORY_LISTS } from "../domain/catalog/model.ts";
import type { ValidationReport } from "../domain/dictionary/dictionary-service.ts";
import {
  type CodeEntry,
  type CodeList,
  codeEntriesInput,
  FIELD_STATUSES,
  FIELD_TYPES,
  type Field,
  fieldListQuery,
  fieldPatch,
  newCodeListInput,
  newFieldInput,
  newSchemaVersionInput,
  RELATIONS,
  type SchemaSummary,
  type SchemaVersion,
  validationInput,
} from "../domain/dictionary/model.ts";
import { type StandardisationReport, standardisationQuery } from "../domain/dictionary/standardisation.ts";
import {
  MASTER_DATA_LEVELS,
  type MasterDataItem,
  masterDataQuery,
  newMasterDataInput,
} from "../domain/master-data/master-data.ts";
import { pageQuery } from "../lambdas/shared/routes.ts";
import { type AllTrue, type Describes, instant, named, page, recordError, signedProblems } from "./responses.ts";
import { routes } from "./route.ts";

/*
 * The Common Data Dictionary (Art. 19: fields, code lists, versioned schemas), the master-data
 * registry (Art. 5-6) and standardisation status (Art. 24): one function serves them.
 */

export const field = z.object({
  code: z.string(),
  name: z.string(),
  nameEn: z.string(),
  description: z.string(),
  type: z.enum(FIELD_TYPES),
  format: z.optional(z.string()),
  pattern: z.optional(z.string()),
  minLength: z.optional(z.number()),
  maxLength: z.optional(z.number()),
  minimum: z.optional(z.number()),
  maximum: z.optional(z.number()),
  unit: z.optional(z.string()),
  allowedValues: z.optional(z.array(z.union([z.string(), z.number()]))),
  codeList: z.optional(z.string()),
  relationships: z.array(z.object({ relation: z.enum(RELATIONS), field: z.string() })),
  owner: z.string(),
  status: z.enum(FIELD_STATUSES),
  createdAt: instant,
  updatedAt: instant,
  revision: z.number().check(z.int()),
});

export const codeList = z.object({
  code: z.string(),
  name: z.string(),
  nameEn: z.string(),
  description: z.string(),
  owner: z.string(),
  source: z.optional(z.string()),
  entryCount: z.number().check(z.int()),
  createdAt: instant,
  updatedAt: instant,
});

export const codeEntry = z.object({
  code: z.string(),
  label: z.string(),
  labelEn: z.optional(z.string()),
  parent: z.optional(z.string()),
});

export const schemaVersion = z.object({
  id: z.string(),
  version: z.string(),
  owner: z.string(),
  title: z.string(),
  description: z.optional(z.string()),
  fields: z.array(z.object({ field: z.string(), required: z.boolean(), multiple: z.boolean() })),
  keyFields: z.array(z.string()),
  changes: z.optional(z.string()),
  status: z.enum(["published"]),
  publishedAt: instant,
  publishedBy: z.string(),
  jsonSchema: z.record(z.string(), z.unknown()).check(z.describe("The compiled JSON Schema (2020-12)")),
});

export const schemaSummary = z.object({
  id: z.string(),
  owner: z.string(),
  title: z.string(),
  latestVersion: z.string(),
  updatedAt: instant,
});

export const validationReport = z.object({
  schema: z.object({ id: z.string(), version: z.string() }),
  checked: z.number().check(z.int()),
  valid: z.number().check(z.int()),
  invalid: z.array(z.object({ index: z.number().check(z.int()), errors: z.array(recordError) })),
});

export const masterDataItem = z.object({
  code: z.string(),
  name: z.string(),
  nameEn: z.string(),
  description: z.optional(z.string()),
  level: z.enum(MASTER_DATA_LEVELS),
  sector: z.optional(z.string()),
  keyIdentifier: z.object({ field: z.string(), name: z.string() }),
  sourceDataset: z.string(),
  managingAgency: z.string(),
  registeredBy: z.string(),
  registeredAt: instant,
});

const standardisationStatus = z.enum(["standardised", "standardised-late", "pending", "overdue"]);

export const standardisation = z.object({
  asOf: instant,
  deadlines: z.object({ "appendix-i": z.string(), other: z.string() }),
  agencies: z.array(
    z.object({
      agency: z.string(),
      datasets: z.number().check(z.int()),
      standardised: z.number().check(z.int()),
      standardisedLate: z.number().check(z.int()),
      pending: z.number().check(z.int()),
      overdue: z.number().check(z.int()),
      late: z.array(z.string()),
    }),
  ),
  datasets: z.array(
    z.object({
      datasetId: z.string(),
      managingAgency: z.string(),
      mandatory: z.enum(MANDATORY_LISTS),
      status: standardisationStatus,
      deadline: z.string(),
      schema: z.optional(z.object({ id: z.string(), version: z.string() })),
      standardisedOn: z.optional(z.string()),
      daysLeft: z.optional(z.number().check(z.int())),
    }),
  ),
});

const PUBLIC_DICTIONARY = {
  public:
    "The dictionary and the master-data list are public by design (design.md: every route but health, the catalog and the dictionary needs a signed token; Art. 19 and 5 make them common references).",
};

/** Served by the dictionary function. */
export const dictionaryRoutes = routes({
  createField: {
    method: "POST",
    path: "/v1/dictionary/fields",
    tag: "Dictionary",
    summary: "Define a field of the Common Data Dictionary (operator, Art. 19)",
    auth: "signed",
    body: named("NewField", newFieldInput),
    success: { status: 201, description: "Defined", schema: named("Field", field) },
    problems: [...signedProblems, 409],
  },
  listFields: {
    method: "GET",
    path: "/v1/dictionary/fields",
    tag: "Dictionary",
    summary: "The dictionary's fields",
    auth: PUBLIC_DICTIONARY,
    query: [fieldListQuery, pageQuery],
    success: {
      status: 200,
      description: "A page of fields",
      schema: named("FieldPage", page(field)),
    },
    problems: [400],
  },
  getField: {
    method: "GET",
    path: "/v1/dictionary/fields/{code}",
    tag: "Dictionary",
    summary: "One field of the dictionary",
    auth: PUBLIC_DICTIONARY,
    success: { status: 200, description: "The field", schema: named("Field", field) },
    problems: [404],
  },
  amendField: {
    method: "PATCH",
    path: "/v1/dictionary/fields/{code}",
    tag: "Dictionary",
    summary:
      "Change a field's names, description, relationships or status; its definition only while a draft (operator)",
    auth: "signed",
    body: named("FieldPatch", fieldPatch),
    success: { status: 200, description: "Changed", schema: named("Field", field) },
    problems: [...signedProblems, 404, 409],
  },
  createCodeList: {
    method: "POST",
    path: "/v1/dictionary/code-lists",
    tag: "Dictionary",
    summary: "Define a code list (administrative units, gender, nationality…), with its first entries (operator)",
    auth: "signed",
    body: named("NewCodeList", newCodeListInput),
    success: { status: 201, description: "Defined", schema: named("CodeList", codeList) },
    problems: [...signedProblems, 409],
    bulkBody: true,
  },
  listCodeLists: {
    method: "GET",
    path: "/v1/dictionary/code-lists",
    tag: "Dictionary",
    summary: "The dictionary's code lists",
    auth: PUBLIC_DICTIONARY,
    query: [pageQuery],
    success: {
      status: 200,
      description: "A page of code lists",
      schema: named("CodeListPage", page(codeList)),
    },
    problems: [400],
  },
  getCodeList: {
    method: "GET",
    path: "/v1/dictionary/code-lists/{code}",
    tag: "Dictionary",
    summary: "One code list",
    auth: PUBLIC_DICTIONARY,
    success: { status: 200, description: "The code list", schema: named("CodeList", codeList) },
    problems: [404],
  },
  listCodeEntries: {
    method: "GET",
    path: "/v1/dictionary/code-lists/{code}/entries",
    tag: "Dictionary",
    summary: "The codes of a code list, in code order",
    auth: PUBLIC_DICTIONARY,
    query: [pageQuery],
    success: {
      status: 200,
      description: "A page of codes",
      schema: named("CodeEntryPage", page(codeEntry)),
    },
    problems: [400, 404],
  },
  addCodeEntries: {
    method: "POST",
    path: "/v1/dictionary/code-lists/{code}/entries",
    tag: "Dictionary",
    summary: "Add codes to a list, or relabel existing ones; codes are never removed (operator)",
    auth: "signed",
    body: named("CodeEntries", codeEntriesInput),
    success: { status: 200, description: "The list, recounted", schema: named("CodeList", codeList) },
    problems: [...signedProblems, 404],
    bulkBody: true,
  },
  publishSchemaVersion: {
    method: "POST",
    path: "/v1/dictionary/schemas",
    tag: "Dictionary",
    summary: "Publish a schema version composed of dictionary fields (operator, or the agency it belongs to)",
    description:
      "A version is newer than the latest one and, within the same major version, compatible with it; a breaking change is refused (409 urn:dscp:problem:dictionary:incompatible-version) naming each change. Published versions never change.",
    auth: "signed",
    body: named("NewSchemaVersion", newSchemaVersionInput),
    success: { status: 201, description: "Published", schema: named("SchemaVersion", schemaVersion) },
    problems: [...signedProblems, 409, 422],
    bulkBody: true,
  },
  listSchemas: {
    method: "GET",
    path: "/v1/dictionary/schemas",
    tag: "Dictionary",
    summary: "The dictionary's schemas, each with its latest version",
    auth: PUBLIC_DICTIONARY,
    query: [pageQuery],
    success: {
      status: 200,
      description: "A page of schemas",
      schema: named("SchemaSummaryPage", page(schemaSummary)),
    },
    problems: [400],
  },
  listSchemaVersions: {
    method: "GET",
    path: "/v1/dictionary/schemas/{schemaId}/versions",
    tag: "Dictionary",
    summary: "A schema's versions, newest first",
    auth: PUBLIC_DICTIONARY,
    query: [pageQuery],
    success: {
      status: 200,
      description: "A page of versions",
      schema: named("SchemaVersionPage", page(schemaVersion)),
    },
    problems: [400],
  },
  getSchemaVersion: {
    method: "GET",
    path: "/v1/dictionary/schemas/{schemaId}/versions/{version}",
    tag: "Dictionary",
    summary: "One schema version (or `latest`), with its compiled JSON Schema",
    auth: PUBLIC_DICTIONARY,
    success: { status: 200, description: "The version", schema: named("SchemaVersion", schemaVersion) },
    problems: [404],
  },
  getJsonSchema: {
    method: "GET",
    path: "/v1/dictionary/schemas/{schemaId}/versions/{version}/json-schema",
    tag: "Dictionary",
    summary: "A schema version as a JSON Schema (2020-12) document, self-contained",
    auth: PUBLIC_DICTIONARY,
    success: {
      status: 200,
      description: "The JSON Schema (served as application/schema+json)",
      schema: { inline: { type: "object" } },
    },
    problems: [404],
  },
  validateRecords: {
    method: "POST",
    path: "/v1/dictionary/schemas/{schemaId}/versions/{version}/validate",
    tag: "Dictionary",
    summary: "Validate up to 1,000 records against a schema version: each failing one by index, path and rule",
    auth: "signed",
    body: named("RecordsToValidate", validationInput),
    success: {
      status: 200,
      description: "The validation report",
      schema: named("ValidationReport", validationReport),
    },
    problems: [...signedProblems, 404],
    bulkBody: true,
  },
  registerMasterData: {
    method: "POST",
    path: "/v1/master-data",
    tag: "Master data",
    summary: "Register a master data item with its key identifier code and its one source dataset (Art. 5-6)",
    description:
      "By the operator or the agency managing the source dataset. A second source for the same item is refused (409 urn:dscp:problem:master-data:source-exists) naming the existing one.",
    auth: "signed",
    body: named("NewMasterDataItem", newMasterDataInput),
    success: { status: 201, description: "Registered", schema: named("MasterDataItem", masterDataItem) },
    problems: [...signedProblems, 409],
  },
  listMasterData: {
    method: "GET",
    path: "/v1/master-data",
    tag: "Master data",
    summary: "The published list of master data items and their sources",
    auth: PUBLIC_DICTIONARY,
    query: [masterDataQuery, pageQuery],
    success: {
      status: 200,
      description: "A page of master data items",
      schema: named("MasterDataPage", page(masterDataItem)),
    },
    problems: [400],
  },
  getStandardisation: {
    method: "GET",
    path: "/v1/standardisation",
    tag: "Master data",
    summary: "Standardisation status of each dataset against its Art. 24 deadline, with a summary per agency",
    description: "The supervisor and the operator see every agency (or `agency`); an agency sees its own.",
    auth: "signed",
    query: [standardisationQuery],
    success: {
      status: 200,
      description: "The report",
      schema: named("StandardisationReport", standardisation),
    },
    problems: signedProblems,
  },
});

export type DictionaryDriftChecks = AllTrue<
  [
    Describes<typeof field, Field>,
    Describes<typeof codeList, CodeList>,
    Describes<typeof codeEntry, CodeEntry>,
    Describes<typeof schemaVersion, SchemaVersion>,
    Describes<typeof schemaSummary, SchemaSummary>,
    Describes<typeof validationReport, ValidationReport>,
    Describes<typeof masterDataItem, MasterDataItem>,
    Describes<typeof standardisation, StandardisationReport>,
  ]
>;
