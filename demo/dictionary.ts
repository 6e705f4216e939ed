import { readFileSync } from "node:fs";
import { type DscpClient, DscpProblemError } from "../client/dscp-client.ts";

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
    await ignoringConflict(operator.call("POST", "/v1/dictionary/code-lists", { body: dictionarySample(list) }));
  }
  for (const field of dictionarySample("fields.json") as unknown[]) {
    await ignoringConflict(operator.call("POST", "/v1/dictionary/fields", { body: field }));
  }
}
