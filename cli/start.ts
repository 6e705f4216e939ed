#!/usr/bin/env node
import { writeFileSync } from "node:fs";
// `npm start`: the platform on this machine, with the operator bootstrapped and the demo seeded.
import { join } from "node:path";
import { bootstrapOperator } from "../client/bootstrap.ts";
import { platformOutputs } from "../client/outputs.ts";
import { DEMO_DATASET, seedDemo } from "../demo/seed.ts";
import { runFromCommandLine } from "../runtime/cli.ts";

await runFromCommandLine(async (runtime, stateDir) => {
  const outputs = platformOutputs(runtime.outputs);
  if (!outputs.BootstrapFunctionName) return [];
  const keysDir = join(stateDir, "keys");
  const { keyFile, identity } = await bootstrapOperator(keysDir, (payload) =>
    runtime.lambdas.invoke(String(outputs.BootstrapFunctionName), payload),
  );
  const demo = await seedDemo({
    apiUrl: String(outputs.ApiUrl),
    audience: String(outputs.PlatformAudience),
    operator: identity,
    keysDir,
  });
  writeFileSync(join(stateDir, "demo-sample-key"), `${demo.sampleKey}\n`);
  return [
    `  operator key:   ${keyFile} (system NDC.OPERATOR, role platform-admin)`,
    `  demo:           MPS.POPULATION serves ${DEMO_DATASET} at ${demo.upstream.url};`,
    `                  HCM.PORTAL (key ${demo.consumerKeyFile}) may read 4 of its 6 fields`,
    "  try:            npm run demo:query",
  ];
});
