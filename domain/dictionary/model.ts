import * as z from "zod/mini";
import { MAX_ID_LENGTH, storedNumber } from "../identifiers.ts";

/*
 * The Common Data Dictionary (Art. 19): fields with one meaning everywhere, code lists, and
 * versioned schemas composed of fields. A published schema version never changes; it compiles
 * to a JSON Schema (2020-12) that every shared record is validated against.
 */

export const FIELD_TYPES = ["string", "integer", "number", "boolean", "date", "date-time", "code"] as const;
export type FieldType = (typeof FIELD_TYPES)[number];

export const FIELD_STATUSES = ["draft", "published", "deprecated"] as const;
export type FieldStatus = (typeof FIELD_STATUSES)[number];

export const RELATIONS = ["broader", "narrower", "related", "replaces", "replaced-by", "derived-from"] as const;

const fieldCode = z
  .string()
  .check(z.regex(/^[a-z][A-Za-z0-9]{0,63}$/, "must be a camelCase name of 1-64 letters and digits"));
const codeListCode = z
  .string()
  .check(z.regex(/^[A-Z][A-Z0-9_]{1,63}$/, "must be 2-64 upper-case letters, digits or '_', e.g. ADMIN_UNIT"));
const agencyCode = z.string().check(z.regex(/^[A-Z][A-Z0-9]{1,15}$/, "must be an agency code"));
const text = (max: number) => z.string().check(z.minLength(1), z.maxLength(max));

/** What a field means and what its values look like. */
const fieldDefinition = {
  type: z.enum(FIELD_TYPES),
  /** A JSON Schema format for strings (email, uri, uuid…); `date`/`date-time` types imply theirs. */
  format: z.optional(z.enum(["email", "uri", "uuid", "ipv4", "ipv6", "hostname"])),
  pattern: z.optional(
    z.string().check(
      z.maxLength(500),
      z.refine((value) => {
        try {
          new RegExp(value, "u");
          return true;
        } catch {
          return false;
        }
      }, "must be a valid regular expression"),
    ),
  ),
  minLength: z.optional(z.number().check(z.int(), z.minimum(0))),
  maxLength: z.optional(z.number().check(z.int(), z.minimum(1))),
  minimum: z.optional(storedNumber),
  maximum: z.optional(storedNumber),
  unit: z.optional(text(50)),
  /** A closed set of values, for small sets; larger ones are code lists. */
  allowedValues: z.optional(z.array(z.union([z.string(), storedNumber])).check(z.minLength(1), z.maxLength(200))),
  /** For `code` fields: the code list values are drawn from. */
  codeList: z.optional(codeListCode),
};

export const newFieldInput = z.object({
  code: fieldCode,
  name: text(200),
  nameEn: text(200),
  description: text(2000),
  ...fieldDefinition,
  relationships: z._default(
    z.array(z.object({ relation: z.enum(RELATIONS), field: fieldCode })).check(z.maxLength(20)),
    [],
  ),
  owner: agencyCode,
  status: z._default(z.enum(["draft", "published"]), "published"),
});
export type NewFieldInput = z.infer<typeof newFieldInput>;

/** What may change on a field: its words and status always, its definition only while a draft. */
export const fieldPatch = z.partial(
  z.strictObject({
    name: text(200),
    nameEn: text(200),
    description: text(2000),
    relationships: z.array(z.object({ relation: z.enum(RELATIONS), field: fieldCode })).check(z.maxLength(20)),
    status: z.enum(FIELD_STATUSES),
    ...fieldDefinition,
  }),
);
export type FieldPatch = z.infer<typeof fieldPatch>;

export interface Field {
  readonly code: string;
  readonly name: string;
  readonly nameEn: string;
  readonly description: string;
  readonly type: FieldType;
  readonly format?: string;
  readonly pattern?: string;
  readonly minLength?: number;
  readonly maxLength?: number;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly unit?: string;
  readonly allowedValues?: readonly (string | number)[];
  readonly codeList?: string;
  readonly relationships: readonly { readonly relation: (typeof RELATIONS)[number]; readonly field: string }[];
  readonly owner: string;
  readonly status: FieldStatus;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly revision: number;
}

const codeEntry = z.object({
  code: z.string().check(z.regex(/^[A-Za-z0-9._-]{1,32}$/, "must be 1-32 letters, digits, '.', '_' or '-'")),
  label: text(200),
  labelEn: z.optional(text(200)),
  /** The code of the entry this one belongs to (a commune's province). */
  parent: z.optional(z.string().check(z.maxLength(32))),
});
export type CodeEntry = z.infer<typeof codeEntry>;

export const newCodeListInput = z.object({
  code: codeListCode,
  name: text(200),
  nameEn: text(200),
  description: text(2000),
  owner: agencyCode,
  /** Where the codes come from (a standard, a decision). */
  source: z.optional(text(500)),
  entries: z._default(z.array(codeEntry).check(z.maxLength(500)), []),
});
export type NewCodeListInput = z.infer<typeof newCodeListInput>;

export const codeEntriesInput = z.object({ entries: z.array(codeEntry).check(z.minLength(1), z.maxLength(500)) });

export interface CodeList {
  readonly code: string;
  readonly name: string;
  readonly nameEn: string;
  readonly description: string;
  readonly owner: string;
  readonly source?: string;
  readonly entryCount: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

const schemaId = z
  .string()
  .check(
    z.maxLength(MAX_ID_LENGTH),
    z.regex(
      /^[A-Z][A-Z0-9]{1,15}(\.[A-Z][A-Z0-9_]{0,31})+$/,
      "must be <AGENCY>.<NAME> in upper case, e.g. MPS.CITIZEN",
    ),
  );
export const semver = z
  .string()
  .check(z.regex(/^(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})\.(0|[1-9]\d{0,3})$/, "must be MAJOR.MINOR.PATCH, e.g. 1.0.0"));

/** One field of a schema: a dictionary field, required or not, one value or a list. */
const fieldUse = z.object({
  field: fieldCode,
  required: z._default(z.boolean(), false),
  multiple: z._default(z.boolean(), false),
});
export type FieldUse = z.infer<typeof fieldUse>;

export const newSchemaVersionInput = z.object({
  id: schemaId,
  version: semver,
  title: text(200),
  description: z.optional(text(4000)),
  fields: z.array(fieldUse).check(z.minLength(1), z.maxLength(500)),
  /** The data key (Art. 3.6): the fields that identify a record. */
  keyFields: z.array(fieldCode).check(z.minLength(1), z.maxLength(5)),
  changes: z.optional(text(2000)),
});
export type NewSchemaVersionInput = z.infer<typeof newSchemaVersionInput>;

/** A JSON Schema document (2020-12). */
export type JsonSchema = Record<string, unknown>;

export interface SchemaVersion {
  readonly id: string;
  readonly version: string;
  readonly owner: string;
  readonly title: string;
  readonly description?: string;
  readonly fields: readonly FieldUse[];
  readonly keyFields: readonly string[];
  readonly changes?: string;
  readonly status: "published";
  readonly publishedAt: string;
  readonly publishedBy: string;
  /** The compiled, self-contained JSON Schema: field definitions and code lists as they were. */
  readonly jsonSchema: JsonSchema;
}

/** A schema's versions, newest first, as listed. */
export interface SchemaSummary {
  readonly id: string;
  readonly owner: string;
  readonly title: string;
  readonly latestVersion: string;
  readonly updatedAt: string;
}

/** Query parameters of the field listing. */
export const fieldListQuery = z.object({
  status: z.optional(z.enum(FIELD_STATUSES)),
  owner: z.optional(agencyCode),
});

/** Body of a validation request: records checked against a schema version. */
export const validationInput = z.object({
  records: z.array(z.unknown()).check(z.minLength(1), z.maxLength(1000)),
});

export interface DictionaryStore {
  /** Throws ConflictError when the code is taken. */
  createField(field: Field): Promise<void>;
  getField(code: string): Promise<Field | undefined>;
  /** Writes `next` if the stored revision is still `expectedRevision`; false otherwise. */
  replaceField(next: Field, expectedRevision: number): Promise<boolean>;
  listFields(
    filter: { status?: FieldStatus; owner?: string },
    page: { limit: number; cursor?: string },
  ): Promise<{ items: Field[]; nextCursor?: string }>;
  /** Throws ConflictError when the code is taken. */
  createCodeList(list: CodeList, entries: readonly CodeEntry[]): Promise<void>;
  getCodeList(code: string): Promise<CodeList | undefined>;
  listCodeLists(page: { limit: number; cursor?: string }): Promise<{ items: CodeList[]; nextCursor?: string }>;
  /** Adds or relabels entries and recounts them. */
  putCodeEntries(code: string, entries: readonly CodeEntry[], at: string): Promise<CodeList>;
  listCodeEntries(
    code: string,
    page: { limit: number; cursor?: string },
  ): Promise<{ items: CodeEntry[]; nextCursor?: string }>;
  /** Every code of a list, streamed page by page (for compiling schemas). */
  allCodes(code: string): AsyncIterable<string>;
  /** Throws ConflictError when that version exists. */
  createSchemaVersion(version: SchemaVersion): Promise<void>;
  getSchemaVersion(id: string, version: string): Promise<SchemaVersion | undefined>;
  latestSchemaVersion(id: string): Promise<SchemaVersion | undefined>;
  listSchemaVersions(
    id: string,
    page: { limit: number; cursor?: string },
  ): Promise<{ items: SchemaVersion[]; nextCursor?: string }>;
  listSchemas(page: { limit: number; cursor?: string }): Promise<{ items: SchemaSummary[]; nextCursor?: string }>;
}
