// `dscp`: parses a command line, prints help, and runs the command it names. The commands
// themselves live by area in cli/commands/; what they run with (the platform, the signer, the
// printing) in cli/context.ts.
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { DscpProblemError } from "../client/dscp-client.ts";
import { type Command, type OptionSpec, UsageError, type Values } from "./command.ts";
import { agentNodeCommands } from "./commands/agent-nodes.ts";
import { catalogCommands } from "./commands/catalog.ts";
import { deliveryCommands } from "./commands/deliveries.ts";
import { dictionaryCommands } from "./commands/dictionary.ts";
import { publicDisclosure } from "./commands/disclosure.ts";
import { query } from "./commands/exchange.ts";
import { exportCommands } from "./commands/exports.ts";
import { keyCommands, keygen } from "./commands/identity.ts";
import { logCommands, metrics } from "./commands/logs.ts";
import { oversightCommands } from "./commands/oversight.ts";
import { permissionCommands } from "./commands/permissions.ts";
import { health, openapi, platformKeys } from "./commands/platform.ts";
import { registryCommands } from "./commands/registry.ts";
import { syncCommands } from "./commands/sync.ts";
import { violationCommands } from "./commands/violations.ts";
import { type CliIo, Context } from "./context.ts";

export type { CliIo } from "./context.ts";

const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  as: { type: "string", hint: "system id: sign with .dscp/keys/<id>.json (env DSCP_AS)" },
  key: { type: "string", hint: "key file to sign with (env DSCP_KEY)" },
  "keys-dir": { type: "string", hint: "folder of key files (default .dscp/keys, env DSCP_KEYS_DIR)" },
  outputs: { type: "string", hint: "stack outputs file (default .dscp/outputs.json, env DSCP_OUTPUTS)" },
  "api-url": { type: "string", hint: "API base URL, instead of the outputs file (env DSCP_API_URL)" },
  audience: { type: "string", hint: "platform audience, with --api-url (env DSCP_AUDIENCE)" },
  json: { type: "boolean", hint: "print the API's JSON as it came" },
  quiet: { type: "boolean", short: "q", hint: "print only the id of what was created or changed (for scripts)" },
  help: { type: "boolean", short: "h", hint: "show help" },
};

/** Every command, in the order `dscp help` lists them. */
export const COMMANDS: readonly Command[] = [
  keygen,
  health,
  ...registryCommands,
  ...keyCommands,
  ...agentNodeCommands,
  ...catalogCommands,
  ...dictionaryCommands,
  ...syncCommands,
  ...deliveryCommands,
  ...permissionCommands,
  query,
  ...logCommands,
  openapi,
  ...oversightCommands,
  ...violationCommands,
  metrics,
  publicDisclosure,
  platformKeys,
  ...exportCommands,
];

/** A command line resolved to its command, arguments and options; throws UsageError. */
export interface ParsedCommand {
  readonly command: Command;
  readonly args: readonly string[];
  readonly values: Values;
}

export function parseCommand(argv: readonly string[]): ParsedCommand | undefined {
  // First pass, knowing every option of every command: which words are the command's.
  const everyOption = Object.assign({}, GLOBAL_OPTIONS, ...COMMANDS.map((candidate) => candidate.options ?? {}));
  const { positionals: words } = parseArgs({
    args: [...argv],
    options: parseOptions(everyOption),
    allowPositionals: true,
    strict: false,
  });
  const command = [...COMMANDS]
    .sort((a, b) => b.name.split(" ").length - a.name.split(" ").length)
    .find((candidate) => candidate.name.split(" ").every((word, index) => words[index] === word));
  if (!command) return undefined;
  const options = { ...GLOBAL_OPTIONS, ...command.options };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: parseOptions(options),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const values = parsed.values as Values;
  const args = parsed.positionals.slice(command.name.split(" ").length);
  if (values.help) return { command, args, values };
  const needed = command.args.filter((arg) => !arg.endsWith("?")).length;
  if (args.length < needed || args.length > command.args.length) {
    throw new UsageError(`${command.name} takes ${command.args.map((arg) => `<${arg}>`).join(" ") || "no arguments"}`);
  }
  for (const name of command.required ?? []) {
    if (values[name] === undefined) throw new UsageError(`${command.name} needs --${name}`);
  }
  return { command, args, values };
}

function parseOptions(options: Readonly<Record<string, OptionSpec>>) {
  return Object.fromEntries(
    Object.entries(options).map(([name, spec]) => [
      name,
      { type: spec.type, ...(spec.multiple ? { multiple: true } : {}), ...(spec.short ? { short: spec.short } : {}) },
    ]),
  );
}

function usage(command: Command): string {
  const args = command.args.map((arg) => (arg.endsWith("?") ? `[${arg.slice(0, -1)}]` : `<${arg}>`)).join(" ");
  const options = Object.entries(command.options ?? {}).map(
    ([name, spec]) =>
      `  --${name}${spec.type === "string" ? " <value>" : ""}${command.required?.includes(name) ? " (required)" : ""}${spec.hint ? `  ${spec.hint}` : ""}\n`,
  );
  return `dscp ${command.name}${args ? ` ${args}` : ""}\n  ${command.summary}\n${options.join("")}`;
}

function help(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    "dscp: the DSCP platform from the command line. Every signed command needs --as <systemId> (or --key).\n\n",
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}\n`),
    "\nGlobal options:\n",
    ...Object.entries(GLOBAL_OPTIONS).map(([name, spec]) => `  --${name}  ${spec.hint ?? ""}\n`),
    "\ndscp <command> --help shows a command's options.\n",
  ].join("");
}

/** Runs one command line; resolves to the exit code (0 done, 1 refused or broken, 2 usage). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    if (argv.length === 0 || argv[0] === "help" || (argv.length === 1 && argv[0] === "--help")) {
      io.stdout(help());
      return 0;
    }
    const parsed = parseCommand(argv);
    if (!parsed) throw new UsageError(`unknown command: ${argv.filter((token) => !token.startsWith("-")).join(" ")}`);
    if (parsed.values.help) {
      io.stdout(usage(parsed.command));
      return 0;
    }
    return (await parsed.command.run(new Context(io, parsed.values), parsed.args, parsed.values)) ?? 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`dscp: ${error.message}\n(dscp help lists the commands)\n`);
      return 2;
    }
    if (error instanceof DscpProblemError) {
      const problem = error.problem;
      io.stderr(`${error.status} ${problem.type}\n${problem.title}${problem.detail ? `: ${problem.detail}` : ""}\n`);
      for (const param of problem.invalidParams ?? []) io.stderr(`  ${param.name}: ${param.reason}\n`);
      if (problem.transactionId) io.stderr(`transaction ${problem.transactionId}\n`);
      return 1;
    }
    io.stderr(`dscp: ${(error as Error).message}\n`);
    return 1;
  }
}

/** `dscp …` (npx dscp, or npm run dscp --): the process's own streams, environment and folder. */
export async function main(): Promise<void> {
  process.exitCode = await runCli(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
