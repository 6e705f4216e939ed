import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Root of this repository, where `cdk.json` lives. */
export const PROJECT_ROOT = fileURLToPath(new URL("..", import.meta.url));

/**
 * Runs `cdk synth` for the app in `cdk.json` (or `app`, a command) into `outdir`, exactly as a
 * deployment would, bundling each function with the local esbuild.
 */
export function synthesize(options: {
  outdir: string;
  app?: string;
  context?: Record<string, string>;
  quiet?: boolean;
}): Promise<void> {
  const args = ["synth", "--quiet", "--output", options.outdir];
  if (options.app) args.push("--app", options.app);
  for (const [key, value] of Object.entries(options.context ?? {})) args.push("--context", `${key}=${value}`);
  return new Promise((resolve, reject) => {
    const child = spawn(fileURLToPath(new URL("../node_modules/.bin/cdk", import.meta.url)), args, {
      cwd: PROJECT_ROOT,
      stdio: options.quiet ? ["ignore", "ignore", "pipe"] : ["ignore", "inherit", "inherit"],
      env: { ...process.env, CDK_DISABLE_VERSION_CHECK: "1", CDK_DISABLE_CLI_TELEMETRY: "true" },
    });
    let errors = "";
    child.stderr?.on("data", (chunk: Buffer) => {
      errors += chunk.toString();
    });
    child.on("error", reject);
    child.on("exit", (code) => (code === 0 ? resolve() : reject(new Error(`cdk synth failed (${code}):\n${errors}`))));
  });
}
