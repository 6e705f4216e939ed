// `dscp-agent`: the Agent Node's command line: make its keys, check its configuration, run it.
import { parseArgs } from "node:util";
import { createBackend } from "./backends/index.ts";
import { LocalConfigError, loadLocalConfig } from "./config.ts";
import { KeyFileError, keygen, loadKeyFile, removeKey, signingKey } from "./keys.ts";
import { createBackends, startAgentNode } from "./node.ts";
import { errorText } from "./ops/log.ts";
import { AGENT_VERSION } from "./version.ts";

/** Where the command line writes, and what it reads; the process's own in `dscp-agent`. */
export interface AgentIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: NodeJS.ProcessEnv;
  /** Resolves when the node should stop (SIGTERM, SIGINT). */
  readonly stopSignal?: Promise<string>;
}

const USAGE = `dscp-agent ${AGENT_VERSION}: the DSCP Agent Node

  dscp-agent keygen --config <file> | --system-id <id> --key-file <file>
                    [--next] [--remove <kid>] [--kid <kid>] [--force]
      make the node's key pair (private key file mode 0600) and print the dscp command that
      registers it; --next adds a key for rotation, --remove drops a retired one
  dscp-agent check-config --config <file>   validate the configuration file and the key file
  dscp-agent run --config <file>            run the node
  dscp-agent version                        print the version
`;

const OPTIONS = {
  config: { type: "string" },
  "system-id": { type: "string" },
  "key-file": { type: "string" },
  next: { type: "boolean" },
  remove: { type: "string" },
  kid: { type: "string" },
  force: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const;

/** Runs one command line; resolves to the exit code (0 done, 1 failed, 2 bad command line). */
export async function main(argv: readonly string[], io: AgentIo): Promise<number> {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; allowPositionals: true }>>;
  try {
    parsed = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true });
  } catch (error) {
    io.stderr(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command] = positionals;
  if (values.help || command === undefined || command === "help") {
    io.stdout(USAGE);
    return command === undefined && !values.help ? 2 : 0;
  }
  try {
    switch (command) {
      case "version":
        io.stdout(`${AGENT_VERSION}\n`);
        return 0;
      case "keygen":
        return await runKeygen(values, io);
      case "check-config":
        return await checkConfig(requireConfig(values), io);
      case "run":
        return await runNode(requireConfig(values), io);
      default:
        io.stderr(`unknown command ${command}\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof LocalConfigError || error instanceof KeyFileError) {
      io.stderr(`${error.message}\n`);
      return 1;
    }
    // Anything else is still one line saying what failed, not a stack.
    io.stderr(`dscp-agent ${command}: ${errorText(error)}\n`);
    return 1;
  }
}

class UsageError extends Error {}

type Values = { [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K]["type"] extends "string" ? string : boolean };

function requireConfig(values: Values): string {
  if (!values.config) throw new UsageError("--config <file> is required");
  return values.config;
}

async function runKeygen(values: Values, io: AgentIo): Promise<number> {
  let systemId = values["system-id"];
  let keyFile = values["key-file"];
  if (values.config) {
    const config = loadLocalConfig(values.config, io.env);
    systemId ??= config.platform.systemId;
    keyFile ??= config.platform.keyFile;
  }
  if (!systemId || !keyFile) throw new UsageError("keygen needs --config, or --system-id and --key-file");
  if (values.remove) {
    const kept = removeKey(keyFile, values.remove);
    io.stdout(`removed key ${values.remove} from ${keyFile}; it holds ${kept.keys.map((key) => key.kid).join(", ")}\n`);
    return 0;
  }
  const result = await keygen({
    keyFile,
    systemId,
    ...(values.next ? { next: true } : {}),
    ...(values.force ? { force: true } : {}),
    ...(values.kid ? { kid: values.kid } : {}),
  });
  io.stdout(
    [
      `wrote ${result.keyFile} (mode 0600): key ${result.key.kid}; the private key never leaves this file`,
      `public key (also in ${result.publicFile}):`,
      JSON.stringify(result.publicJwk),
      "",
      values.next
        ? "register it (the operator, or the agency for its own system), then add it to platform.kids:"
        : "register the system with it (the operator, or the agency for its own systems):",
      `  ${result.register}`,
      "",
    ].join("\n"),
  );
  return 0;
}

async function checkConfig(file: string, io: AgentIo): Promise<number> {
  const config = loadLocalConfig(file, io.env);
  const key = signingKey(loadKeyFile(config.platform.keyFile), config.platform.kids);
  // Each backend is made as `run` makes it (which connects to nothing yet), then closed.
  const backends = createBackends(config, createBackend);
  await Promise.all([...backends.values()].map((backend) => backend.close()));
  io.stdout(
    `${file}: valid; system ${config.platform.systemId} signs with key ${key.kid}; backends: ${
      Object.keys(config.backends).join(", ") || "none"
    }\n`,
  );
  return 0;
}

async function runNode(file: string, io: AgentIo): Promise<number> {
  const config = loadLocalConfig(file, io.env);
  const node = await startAgentNode(config, { env: io.env, logWrite: io.stdout });
  const signal = await (io.stopSignal ?? new Promise<string>(() => {}));
  io.stderr(`${signal}: stopping after the calls under way\n`);
  await node.stop();
  return 0;
}
