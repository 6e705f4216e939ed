import { requireAdmin, requireAgencyOrAdmin } from "../identity/authorization.ts";
import { ConflictError, type InvalidParam, NotFoundError, ProblemError, ValidationError } from "../problem.ts";
import type { Caller } from "../registry/model.ts";
import { parseInput } from "../validation.ts";
import { breakingChanges, compareVersions, compileSchema } from "./json-schema.ts";
import {
  type CodeList,
  codeEntriesInput,
  type DictionaryStore,
  type Field,
  type FieldStatus,
  fieldPatch,
  newCodeListInput,
  newFieldInput,
  newSchemaVersionInput,
  type SchemaVersion,
  validationInput,
} from "./model.ts";
import type { RecordError, RecordValidator } from "./validator.ts";

/** A new version breaks what the previous one promised, without a new major version. */
export class IncompatibleVersionError extends ProblemError {
  constructor(detail: string, changes: readonly InvalidParam[]) {
    super(409, "dictionary:incompatible-version", "Incompatible schema version", detail, changes);
  }
}

/** A published field's definition is fixed: schemas were compiled from it. */
export class PublishedFieldError extends ProblemError {
  constructor(detail: string, members: readonly InvalidParam[]) {
    super(409, "dictionary:field-published", "The field is published", detail, members);
  }
}

/** A compiled schema too large to keep as one item. */
export class SchemaTooLargeError extends ProblemError {
  constructor(detail: string) {
    super(422, "dictionary:schema-too-large", "Schema too large", detail);
  }
}

/** The most a compiled schema may weigh (DynamoDB items hold 400 KB). */
const MAX_SCHEMA_BYTES = 300_000;

const DEFINITION = [
  "type",
  "format",
  "pattern",
  "minLength",
  "maxLength",
  "minimum",
  "maximum",
  "unit",
  "allowedValues",
  "codeList",
] as const;

const NEXT_STATUS: Readonly<Record<FieldStatus, readonly FieldStatus[]>> = {
  draft: ["draft", "published", "deprecated"],
  published: ["published", "deprecated"],
  deprecated: ["deprecated"],
};

/** Result of validating records against a schema version. */
export interface ValidationReport {
  readonly schema: { readonly id: string; readonly version: string };
  readonly checked: number;
  readonly valid: number;
  readonly invalid: ReadonlyArray<{ readonly index: number; readonly errors: readonly RecordError[] }>;
}

/**
 * The Common Data Dictionary (Art. 19): the operator keeps fields and code lists; schemas are
 * published by the operator or by the agency they belong to, version by version, each checked
 * against the last for compatibility and then never changed.
 */
export class DictionaryService {
  constructor(
    private readonly store: DictionaryStore,
    private readonly validator: RecordValidator,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async createField(caller: Caller, input: unknown): Promise<Field> {
    requireAdmin(caller, "define dictionary fields");
    const parsed = parseInput(newFieldInput, input, "field");
    await this.checkDefinition(parsed);
    const at = this.now().toISOString();
    const field: Field = { ...parsed, createdAt: at, updatedAt: at, revision: 1 };
    await this.store.createField(field);
    return field;
  }

  async amendField(caller: Caller, code: string, input: unknown): Promise<Field> {
    requireAdmin(caller, "change dictionary fields");
    const patch = parseInput(fieldPatch, input, "field change");
    for (let attempt = 0; attempt < 3; attempt++) {
      const current = await this.getField(code);
      const redefined = DEFINITION.filter(
        (member) => member in patch && JSON.stringify(patch[member]) !== JSON.stringify(current[member]),
      );
      if (current.status !== "draft" && redefined.length > 0) {
        throw new PublishedFieldError(
          `${code} is ${current.status}: its definition no longer changes; deprecate it and define a new field`,
          redefined.map((member) => ({ name: member, reason: "fixed once the field is published" })),
        );
      }
      if (patch.status && !NEXT_STATUS[current.status].includes(patch.status)) {
        throw new ValidationError(`a ${current.status} field cannot become ${patch.status}`, [
          { name: "status", reason: `from ${current.status}: ${NEXT_STATUS[current.status].join(" or ")}` },
        ]);
      }
      const next = { ...current, ...patch, updatedAt: this.now().toISOString(), revision: current.revision + 1 };
      await this.checkDefinition(next);
      if (await this.store.replaceField(next as Field, current.revision)) return next as Field;
    }
    throw new ConflictError(`${code} kept changing under this request; retry it`);
  }

  async getField(code: string): Promise<Field> {
    const field = await this.store.getField(code);
    if (!field) throw new NotFoundError(`no field ${code} in the dictionary`);
    return field;
  }

  listFields(filter: { status?: FieldStatus; owner?: string }, page: { limit: number; cursor?: string }) {
    return this.store.listFields(filter, page);
  }

  async createCodeList(caller: Caller, input: unknown): Promise<CodeList> {
    requireAdmin(caller, "define code lists");
    const { entries, ...parsed } = parseInput(newCodeListInput, input, "code list");
    checkUniqueCodes(entries);
    const at = this.now().toISOString();
    const list: CodeList = { ...parsed, entryCount: entries.length, createdAt: at, updatedAt: at };
    await this.store.createCodeList(list, entries);
    return list;
  }

  /** Adds entries or relabels existing ones; codes are never removed (schemas were compiled with them). */
  async addCodeEntries(caller: Caller, code: string, input: unknown): Promise<CodeList> {
    requireAdmin(caller, "change code lists");
    const { entries } = parseInput(codeEntriesInput, input, "code list entries");
    checkUniqueCodes(entries);
    await this.getCodeList(code);
    return this.store.putCodeEntries(code, entries, this.now().toISOString());
  }

  async getCodeList(code: string): Promise<CodeList> {
    const list = await this.store.getCodeList(code);
    if (!list) throw new NotFoundError(`no code list ${code} in the dictionary`);
    return list;
  }

  listCodeLists(page: { limit: number; cursor?: string }) {
    return this.store.listCodeLists(page);
  }

  async listCodeEntries(code: string, page: { limit: number; cursor?: string }) {
    await this.getCodeList(code);
    return this.store.listCodeEntries(code, page);
  }

  /**
   * Publishes a schema version: every field a published dictionary field, compiled with the
   * code lists as they are now; newer than the latest version, and compatible with it unless
   * its major version is new.
   */
  async publishSchemaVersion(caller: Caller, input: unknown): Promise<SchemaVersion> {
    const parsed = parseInput(newSchemaVersionInput, input, "schema version");
    const owner = parsed.id.split(".")[0] ?? "";
    requireAgencyOrAdmin(caller, owner, `publish schemas of ${owner}`);
    const fields = await this.resolveFields(
      parsed.fields.map((use) => use.field),
      parsed.keyFields,
    );
    const codeLists = new Map<string, string[]>();
    for (const field of fields.values()) {
      if (field.codeList && !codeLists.has(field.codeList)) {
        const codes: string[] = [];
        for await (const code of this.store.allCodes(field.codeList)) codes.push(code);
        codeLists.set(field.codeList, codes);
      }
    }
    const jsonSchema = compileSchema(parsed, fields, codeLists);
    const bytes = Buffer.byteLength(JSON.stringify(jsonSchema));
    if (bytes > MAX_SCHEMA_BYTES) {
      throw new SchemaTooLargeError(`the compiled schema is ${bytes} bytes; at most ${MAX_SCHEMA_BYTES}`);
    }
    const latest = await this.store.latestSchemaVersion(parsed.id);
    if (latest) {
      if (compareVersions(parsed.version, latest.version) <= 0) {
        throw new ConflictError(
          `${parsed.id} ${parsed.version} is not newer than its latest version ${latest.version}; published versions never change`,
        );
      }
      const major = (version: string) => Number(version.split(".")[0]);
      const changes = breakingChanges(latest.jsonSchema, jsonSchema);
      if (major(parsed.version) === major(latest.version) && changes.length > 0) {
        throw new IncompatibleVersionError(
          `${parsed.id} ${parsed.version} breaks ${latest.version} in ${changes.length} way(s): it needs a new major version (${major(latest.version) + 1}.0.0)`,
          changes,
        );
      }
    }
    const version: SchemaVersion = {
      ...parsed,
      owner,
      status: "published",
      publishedAt: this.now().toISOString(),
      publishedBy: caller.systemId,
      jsonSchema,
    };
    await this.store.createSchemaVersion(version);
    return version;
  }

  async getSchemaVersion(id: string, version: string): Promise<SchemaVersion> {
    const found =
      version === "latest" ? await this.store.latestSchemaVersion(id) : await this.store.getSchemaVersion(id, version);
    if (!found) throw new NotFoundError(`no schema ${id} version ${version}`);
    return found;
  }

  listSchemas(page: { limit: number; cursor?: string }) {
    return this.store.listSchemas(page);
  }

  listSchemaVersions(id: string, page: { limit: number; cursor?: string }) {
    return this.store.listSchemaVersions(id, page);
  }

  /** Checks records against a schema version and reports each failing one by index, path and rule. */
  async validate(id: string, version: string, input: unknown): Promise<ValidationReport> {
    const { records } = parseInput(validationInput, input, "records");
    const schema = await this.getSchemaVersion(id, version);
    const check = this.validator.check(schema.jsonSchema);
    const invalid = records
      .map((record, index) => ({ index, errors: check(record) }))
      .filter((result) => result.errors.length > 0);
    return {
      schema: { id: schema.id, version: schema.version },
      checked: records.length,
      valid: records.length - invalid.length,
      invalid,
    };
  }

  /** The fields of a schema, each a published dictionary field; every problem named. */
  private async resolveFields(codes: readonly string[], keyFields: readonly string[]): Promise<Map<string, Field>> {
    const invalid: InvalidParam[] = [];
    const found = new Map<string, Field>();
    const loaded = await Promise.all([...new Set(codes)].map((code) => this.store.getField(code)));
    codes.forEach((code, index) => {
      if (codes.indexOf(code) !== index) invalid.push({ name: `fields/${index}`, reason: `${code} is used twice` });
    });
    for (const [index, code] of [...new Set(codes)].entries()) {
      const field = loaded[index];
      const at = `fields/${codes.indexOf(code)}/field`;
      if (!field) invalid.push({ name: at, reason: `no field ${code} in the dictionary` });
      else if (field.status !== "published") invalid.push({ name: at, reason: `${code} is ${field.status}` });
      else found.set(code, field);
    }
    for (const [index, key] of keyFields.entries()) {
      if (!codes.includes(key)) invalid.push({ name: `keyFields/${index}`, reason: `${key} is not one of the fields` });
    }
    if (invalid.length > 0) throw new ValidationError("the schema's fields are not all usable", invalid);
    return found;
  }

  /** A field's definition holds together and points at what exists. */
  private async checkDefinition(field: Omit<Field, "createdAt" | "updatedAt" | "revision">): Promise<void> {
    const invalid: InvalidParam[] = [];
    if (field.type === "code" && !field.codeList)
      invalid.push({ name: "codeList", reason: "a code field names its code list" });
    if (field.type !== "code" && field.codeList)
      invalid.push({ name: "codeList", reason: "only code fields have a code list" });
    const textual = field.type === "string";
    for (const member of ["pattern", "minLength", "maxLength", "format"] as const) {
      if (field[member] !== undefined && !textual) invalid.push({ name: member, reason: "only for string fields" });
    }
    const numeric = field.type === "integer" || field.type === "number";
    for (const member of ["minimum", "maximum", "unit"] as const) {
      if (field[member] !== undefined && !numeric) invalid.push({ name: member, reason: "only for number fields" });
    }
    if (field.codeList && !(await this.store.getCodeList(field.codeList))) {
      invalid.push({ name: "codeList", reason: `no code list ${field.codeList}` });
    }
    const related = await Promise.all(field.relationships.map((relation) => this.store.getField(relation.field)));
    related.forEach((found, index) => {
      const target = field.relationships[index]?.field;
      if (!found && target !== field.code) {
        invalid.push({ name: `relationships/${index}/field`, reason: `no field ${target}` });
      }
    });
    if (invalid.length > 0) throw new ValidationError("the field's definition does not hold together", invalid);
  }
}

function checkUniqueCodes(entries: readonly { code: string }[]): void {
  const seen = new Set<string>();
  const invalid: InvalidParam[] = [];
  entries.forEach((entry, index) => {
    if (seen.has(entry.code)) invalid.push({ name: `entries/${index}/code`, reason: `${entry.code} is listed twice` });
    seen.add(entry.code);
  });
  if (invalid.length > 0) throw new ValidationError("codes must be unique", invalid);
}
