import type { Context } from "./context.ts";

/** One option of a command line: its type, and the hint `--help` prints beside it. */
export type OptionSpec = {
  readonly type: "string" | "boolean";
  readonly multiple?: boolean;
  readonly short?: string;
  readonly hint?: string;
};

/** The options of a parsed command line, by name. */
export type Values = Record<string, string | boolean | string[] | undefined>;

/** A page of a listing, as the API returns it. */
export type Page = { items: object[]; nextCursor?: string };

/** A `dscp` command as data: its words, arguments, options and what it runs. */
export interface Command {
  /** The command words, e.g. `agencies add`. */
  readonly name: string;
  /** Its positional arguments; a trailing `?` marks one optional. */
  readonly args: readonly string[];
  readonly summary: string;
  readonly options?: Readonly<Record<string, OptionSpec>>;
  /** Options that must be given. */
  readonly required?: readonly string[];
  /** Resolves to the exit code (0 done, 1 refused or broken). */
  run(context: Context, args: readonly string[], values: Values): Promise<number | undefined>;
}

/** A bad command line: printed with a pointer to `dscp help`, exit code 2. */
export class UsageError extends Error {}
