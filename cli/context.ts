import type { JsonWebKey } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { Route } from "../api/route.ts";
import { DscpClient, DscpProblemError, type DscpResponse, type InvokeArguments } from "../client/dscp-client.ts";
import { identityPath, loadIdentity } from "../client/identity-files.ts";
import type { ProblemDetails } from "../domain/problem.ts";
import { UsageError, type Values } from "./command.ts";
import { idOf, tableLines } from "./format.ts";
import { connectionFromOutputs, type PlatformConnection } from "./outputs.ts";
import { type Bar, barChartSvg, toCsv } from "./reports.ts";

/** Where the CLI writes and what it reads; the process's own by default, a test's in tests. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

/** Throws the problem a response carries (status 400 or above). */
export function throwIfProblem(response: DscpResponse<unknown>): void {
  if (response.status >= 400) throw new DscpProblemError(response.status, response.body as ProblemDetails);
}

/** What a command runs with: where the platform is, who signs, how to print. */
export class Context {
  constructor(
    readonly io: CliIo,
    private readonly values: Values,
  ) {}

  /** Whether `--json` asks for the API's JSON as it came. */
  get json(): boolean {
    return this.values.json === true;
  }

  private path(value: string): string {
    return isAbsolute(value) ? value : join(this.io.cwd, value);
  }

  /** The folder of key files: `--keys-dir`, DSCP_KEYS_DIR, or `.dscp/keys`. */
  keysDir(): string {
    return this.path(String(this.values["keys-dir"] ?? this.io.env.DSCP_KEYS_DIR ?? ".dscp/keys"));
  }

  /** A path the command line names, against the working folder. */
  resolve(file: string): string {
    return this.path(file);
  }

  /** A file (or folder) the command line names, resolved; a usage error when it is not there. */
  existing(file: string, what: "file" | "folder" = "file"): string {
    const path = this.path(file);
    if (!existsSync(path)) throw new UsageError(`no ${what} ${path}`);
    return path;
  }

  /** A JSON file the command line names, parsed; a usage error when it cannot be read as JSON. */
  readJson(file: string): unknown {
    try {
      return JSON.parse(readFileSync(this.path(file), "utf8"));
    } catch (error) {
      throw new UsageError(`cannot read ${file} as JSON: ${(error as Error).message}`);
    }
  }

  /** The platform's keys to verify a signature with: from a file as `dscp platform-keys` printed it, else fetched. */
  async verificationKeys(file: Values[string]): Promise<Array<JsonWebKey & { kid?: string }>> {
    const keys = file
      ? (this.readJson(String(file)) as { keys?: JsonWebKey[] } & JsonWebKey)
      : await this.client(false).platformKeys();
    return keys.keys ?? [keys];
  }

  /**
   * A client of the platform the options name (`--api-url` and `--audience`, else the outputs
   * file); signed, unless `signed` is false, with the key file of `--key` or `--as`.
   */
  client(signed = true): DscpClient {
    const apiUrl = (this.values["api-url"] as string | undefined) ?? this.io.env.DSCP_API_URL;
    let connection: PlatformConnection;
    if (apiUrl) {
      const audience = (this.values.audience as string | undefined) ?? this.io.env.DSCP_AUDIENCE;
      if (!audience) throw new UsageError("--api-url needs --audience (the stack output PlatformAudience)");
      connection = { baseUrl: apiUrl, audience };
    } else {
      connection = connectionFromOutputs(
        this.path(String(this.values.outputs ?? this.io.env.DSCP_OUTPUTS ?? ".dscp/outputs.json")),
      );
    }
    if (!signed) return new DscpClient(connection);
    const keyFile =
      (this.values.key as string | undefined) ??
      this.io.env.DSCP_KEY ??
      (() => {
        const as = (this.values.as as string | undefined) ?? this.io.env.DSCP_AS;
        if (!as) throw new UsageError("say who signs: --as <systemId> (or --key <file>, or DSCP_AS)");
        return identityPath(this.keysDir(), as);
      })();
    const path = this.path(keyFile);
    if (!existsSync(path)) throw new UsageError(`no key file ${path}`);
    return new DscpClient({ ...connection, identity: loadIdentity(path) });
  }

  /** Sends and prints the transaction id, or throws the problem. */
  async send<P extends string>(
    client: DscpClient,
    route: Route & { readonly path: P },
    ...request: InvokeArguments<P>
  ) {
    const response = await client.sendRoute(route, ...request);
    // A problem names its transaction itself.
    throwIfProblem(response);
    if (response.transactionId) this.io.stderr(`transaction ${response.transactionId}\n`);
    return response;
  }

  /** Prints a value as JSON (`view` shapes it unless `--json`), or only its id with `--quiet`. */
  print(value: unknown, view: (value: unknown) => unknown = (same) => same): void {
    if (this.values.quiet) {
      const id = idOf(value);
      if (id !== undefined) {
        this.io.stdout(`${id}\n`);
        return;
      }
    }
    this.io.stdout(`${JSON.stringify(this.json ? value : view(value), null, 2)}\n`);
  }

  /** Prints a document (a JSON Schema, the OpenAPI document, a key set) whole, whatever `--quiet` says. */
  printDocument(document: unknown): void {
    this.io.stdout(`${JSON.stringify(document, null, 2)}\n`);
  }

  /**
   * Prints a table and, as the options ask, writes it as CSV (`--csv FILE`) and draws it as an
   * SVG chart (`--chart FILE`).
   */
  report(
    rows: readonly object[],
    columns: readonly string[],
    values: Values,
    chart: { title: string; bars: readonly Bar[]; max?: number },
    page: { nextCursor?: string } = {},
  ): void {
    this.table({ ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}), items: rows }, columns);
    if (typeof values.csv === "string") {
      writeFileSync(this.resolve(values.csv), toCsv(rows, columns));
      this.io.stderr(`table written to ${values.csv}\n`);
    }
    if (typeof values.chart === "string") {
      if (!values.chart.toLowerCase().endsWith(".svg"))
        throw new UsageError("charts are drawn as SVG: name the file *.svg");
      writeFileSync(this.resolve(values.chart), barChartSvg(chart.title, chart.bars, chart.max));
      this.io.stderr(`chart written to ${values.chart}\n`);
    }
  }

  /** Prints a page as a table of these columns (as JSON with `--json`), and how many rows on stderr. */
  table(page: { items: readonly object[]; nextCursor?: string }, columns: readonly string[]): void {
    if (this.json) {
      this.print(page);
      return;
    }
    const lines = tableLines(page.items, columns);
    for (const line of lines) this.io.stdout(line);
    this.io.stderr(`${lines.length - 1} shown${page.nextCursor ? `; more with --cursor ${page.nextCursor}` : ""}\n`);
  }
}
