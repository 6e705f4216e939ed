#!/usr/bin/env node
// `npm start`: the platform on this machine, with the operator bootstrapped and ready to sign.
import { join } from "node:path";
import { bootstrapOperator } from "../client/bootstrap.ts";
import { runFromCommandLine } from "../runtime/cli.ts";

await runFromCommandLine(async (runtime, stateDir) => {
  const outputs = Object.values(runtime.outputs).find((candidate) => candidate.BootstrapFunctionName);
  if (!outputs?.BootstrapFunctionName) return [];
  const keysDir = join(stateDir, "keys");
  const { keyFile } = await bootstrapOperator(keysDir, (payload) =>
    runtime.lambdas.invoke(String(outputs.BootstrapFunctionName), payload),
  );
  return [`  operator key:   ${keyFile} (system NDC.OPERATOR, role platform-admin)`];
});
