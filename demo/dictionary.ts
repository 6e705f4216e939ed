import { readFileSync } from "node:fs";
import { dictionaryRoutes } from "../api/dictionary.ts";
import { type DscpClient, DscpProblemError } from "../client/dscp-client.ts";
import { compileSchema } from "../domain/dictionary/json-schema.ts";
import type { Field, JsonSchema, NewSchemaVersionInput } from "../domain/dictionary/model.ts";

/** One file of the dictionary's sample in `demo/dictionary/`, parsed. */
export function dictionarySample(name: string): unknown {
  return JSON.parse(readFileSync(new URL(`./dictionary/${name}`, import.meta.url), "utf8"));
}

/** Creating what already exists (identically, from an earlier run) is fine when seeding again. */
export async function ignoringConflict(creation: Promise<unknown>): Promise<void> {
  try {
    await creation;
  } catch (error) {
    if (!(error instanceof DscpProblemError && error.status === 409)) throw error;
  }
}

/** The sample's code lists and fields, defined by the operator; what exists is kept. */
export async function loadDictionarySample(operator: DscpClient): Promise<void> {
  for (const list of ["gender.json", "nationality.json", "province.json"]) {
    await ignoringConflict(operator.invoke(dictionaryRoutes.createCodeList, { body: dictionarySample(list) }));
  }
  for (const field of dictionarySample("fields.json") as unknown[]) {
    await ignoringConflict(operator.invoke(dictionaryRoutes.createField, { body: field }));
  }
}

/** The sample's citizen schema (MPS.CITIZEN 1.0.0) compiled as the dictionary compiles it, without a platform. */
export function citizenJsonSchema(): JsonSchema {
  const at = new Date().toISOString();
  const fields = new Map<string, Field>(
    (dictionarySample("fields.json") as Partial<Field>[]).map((field) => [
      String(field.code),
      { relationships: [], status: "published", createdAt: at, updatedAt: at, revision: 1, ...field } as Field,
    ]),
  );
  const codeLists = new Map<string, string[]>(
    ["gender.json", "nationality.json", "province.json"].map((name) => {
      const list = dictionarySample(name) as { code: string; entries: { code: string }[] };
      return [list.code, list.entries.map((entry) => entry.code)];
    }),
  );
  const definition = dictionarySample("citizen-schema.json") as Omit<NewSchemaVersionInput, "fields"> & {
    fields: { field: string; required?: boolean }[];
  };
  return compileSchema(
    { ...definition, fields: definition.fields.map((use) => ({ multiple: false, required: false, ...use })) },
    fields,
    codeLists,
  );
}
