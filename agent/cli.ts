// The `dscp-agent` process: runs one command line with the process's own output, environment
// and stop signals. The entry point of the bundle (`npm run build:agent`) and of the bin shim.
import { main } from "./main.ts";

const stopSignal = new Promise<string>((resolve) => {
  for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => resolve(signal));
});
process.exitCode = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  env: process.env,
  stopSignal,
});
