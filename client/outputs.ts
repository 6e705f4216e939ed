import { readFileSync } from "node:fs";

/** Stack outputs as `cdk deploy --outputs-file` writes them: stack name → output name → value. */
export type StackOutputs = Readonly<Record<string, Readonly<Record<string, string>>>>;

/** Thrown when an outputs file cannot describe one platform. */
export class OutputsError extends Error {
  override readonly name = "OutputsError";
}

/**
 * The platform's outputs in one record, whichever of its stacks declares each (the API's URL in
 * one, the tables' names in another). An output name given two different values means the file
 * describes more than one deployment, and which one is meant cannot be told: that is refused.
 */
export function platformOutputs(stacks: StackOutputs): Record<string, string> {
  const merged: Record<string, string> = {};
  const from: Record<string, string> = {};
  for (const [stack, outputs] of Object.entries(stacks)) {
    for (const [name, value] of Object.entries(outputs)) {
      if (name in merged && merged[name] !== value) {
        throw new OutputsError(`stacks ${from[name]} and ${stack} both output ${name}, with different values`);
      }
      merged[name] = value;
      from[name] = stack;
    }
  }
  return merged;
}

/** Reads an outputs file (`cdk deploy --outputs-file`, or `npm start`'s `.dscp/outputs.json`). */
export function readPlatformOutputs(file: string): Record<string, string> {
  return platformOutputs(JSON.parse(readFileSync(file, "utf8")) as StackOutputs);
}
