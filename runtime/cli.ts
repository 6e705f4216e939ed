import { mkdirSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { healthRoutes } from "../api/platform.ts";
import { pathOf } from "../api/route.ts";
import { type LocalRuntime, startLocalRuntime } from "./local-runtime.ts";
import { PROJECT_ROOT, synthesize } from "./synth.ts";

/** Work an app does once its template runs locally (seeding, bootstrap); returns lines to print. */
export type AfterStart = (runtime: LocalRuntime, stateDir: string) => Promise<string[]>;

const HELP = `npm start -- [options]

Synthesizes the CDK app and runs it on this machine: DynamoDB, S3 and SQS emulators, the
functions' bundled code, the REST API with its authoriser, queues, state machines.

  --fresh             drop local state (tables, objects, logs) before starting
  --port <n>          port of the API (default 3000; 0 picks a free one)
  --no-synth          reuse the existing cdk.out
  --assembly <dir>    cloud assembly to run (default cdk.out)
  --data-dir <dir>    where state and logs live (default .dscp/data)
  --verbose           copy every line the functions log to the terminal (default: only
                      warnings and errors; everything is in <data-dir>/logs/)
  --quiet             copy nothing the functions log to the terminal
  -h, --help          this text`;

/**
 * `npm start`: synthesizes the app, runs it on the local runtime until Ctrl-C, writes the
 * outputs file, then lets the app do its own start-up work.
 */
export async function runFromCommandLine(afterStart?: AfterStart): Promise<void> {
  const { values } = parseArgs({
    options: {
      fresh: { type: "boolean", default: false },
      port: { type: "string", default: "3000" },
      "no-synth": { type: "boolean", default: false },
      assembly: { type: "string", default: join(PROJECT_ROOT, "cdk.out") },
      "data-dir": { type: "string", default: join(PROJECT_ROOT, ".dscp", "data") },
      verbose: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      help: { type: "boolean", short: "h", default: false },
    },
  });

  if (values.help) {
    process.stdout.write(`${HELP}\n`);
    process.exit(0);
  }

  const stateDir = join(PROJECT_ROOT, ".dscp");
  const assemblyDir = resolve(values.assembly);
  if (!values["no-synth"]) {
    process.stderr.write("synthesizing the CDK app...\n");
    await synthesize({ outdir: assemblyDir, quiet: true });
  }

  const runtime = await startLocalRuntime({
    assemblyDir,
    dataDir: resolve(values["data-dir"]),
    fresh: values.fresh,
    apiPort: Number(values.port),
    echoLogs: values.quiet ? "none" : values.verbose ? "all" : "warnings",
    log: (message) => process.stderr.write(`dscp-local: ${message}\n`),
  });

  mkdirSync(stateDir, { recursive: true });
  writeFileSync(join(stateDir, "outputs.json"), `${JSON.stringify(runtime.outputs, null, 2)}\n`);
  writeFileSync(
    join(stateDir, "runtime.json"),
    `${JSON.stringify({ region: runtime.region, endpoints: runtime.endpoints, apiUrls: runtime.apiUrls, pid: process.pid }, null, 2)}\n`,
  );

  const extra = afterStart ? await afterStart(runtime, stateDir) : [];

  const lines = [
    "",
    "DSCP is running locally.",
    ...Object.entries(runtime.outputs).flatMap(([stack, outputs]) =>
      outputs.ApiUrl
        ? [
            `  API (${stack}):  ${outputs.ApiUrl}`,
            `  try:  curl ${outputs.ApiUrl}${pathOf(healthRoutes.getHealth).slice(1)}`,
          ]
        : [],
    ),
    `  outputs:        ${join(stateDir, "outputs.json")}`,
    `  DynamoDB:       ${runtime.endpoints.dynamodb}`,
    `  S3 and SQS:     ${runtime.endpoints.s3}`,
    `  Step Functions and Lambda APIs: ${runtime.endpoints.stepfunctions}`,
    `  function logs:  ${join(resolve(values["data-dir"]), "logs")}${values.quiet || values.verbose ? "" : " (here: warnings and errors only; --verbose for all)"}`,
    ...extra,
    "  Ctrl-C stops it; state is kept in the data folder (--fresh resets it).",
    "",
  ];
  process.stdout.write(`${lines.join("\n")}\n`);

  let stopping = false;
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      process.stderr.write("dscp-local: stopping...\n");
      runtime.stop().then(
        () => process.exit(0),
        () => process.exit(1),
      );
    });
  }
}
