import { existsSync } from "node:fs";
import { OutputsError, readPlatformOutputs } from "../client/outputs.ts";
import { UsageError } from "./command.ts";

/** Where the platform is: its API's base URL and the audience its tokens name. */
export interface PlatformConnection {
  readonly baseUrl: string;
  readonly audience: string;
}

/** The platform a stack outputs file (`cdk deploy --outputs-file`, or `npm start`'s) names. */
export function connectionFromOutputs(file: string): PlatformConnection {
  if (!existsSync(file)) throw new UsageError(`no outputs file ${file}: run npm start, or give --outputs`);
  let outputs: Record<string, string>;
  try {
    outputs = readPlatformOutputs(file);
  } catch (error) {
    if (error instanceof OutputsError) throw new UsageError(`${file}: ${error.message}`);
    throw error;
  }
  if (!outputs.ApiUrl || !outputs.PlatformAudience)
    throw new UsageError(`${file} names no stack with ApiUrl and PlatformAudience`);
  return { baseUrl: String(outputs.ApiUrl), audience: String(outputs.PlatformAudience) };
}
