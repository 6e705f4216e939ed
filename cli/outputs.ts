import { existsSync, readFileSync } from "node:fs";
import { UsageError } from "./command.ts";

/** Where the platform is: its API's base URL and the audience its tokens name. */
export interface PlatformConnection {
  readonly baseUrl: string;
  readonly audience: string;
}

/** The platform a stack outputs file (`cdk deploy --outputs-file`, or `npm start`'s) names. */
export function connectionFromOutputs(file: string): PlatformConnection {
  if (!existsSync(file)) throw new UsageError(`no outputs file ${file}: run npm start, or give --outputs`);
  const stacks = Object.values(JSON.parse(readFileSync(file, "utf8")) as Record<string, Record<string, string>>);
  const outputs = stacks.find((candidate) => candidate.ApiUrl && candidate.PlatformAudience);
  if (!outputs) throw new UsageError(`${file} names no stack with ApiUrl and PlatformAudience`);
  return { baseUrl: String(outputs.ApiUrl), audience: String(outputs.PlatformAudience) };
}
