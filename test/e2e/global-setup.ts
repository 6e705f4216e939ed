import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { bootstrapOperator } from "../../client/bootstrap.ts";
import { identityPath } from "../../client/identity-files.ts";
import { platformOutputs } from "../../client/outputs.ts";
import { OPERATOR_SYSTEM } from "../../domain/registry/bootstrap.ts";
import { type LocalRuntime, startLocalRuntime } from "../../runtime/local-runtime.ts";
import { synthesize } from "../../runtime/synth.ts";
import { temporaryDir } from "../runtime/helpers.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** Stack outputs, as `cdk deploy --outputs-file` writes them. */
    dscpOutputs: Record<string, Record<string, string>>;
    /** The operator's key file (system NDC.OPERATOR). */
    operatorKeyFile: string;
    /** DynamoDB endpoint of the local runtime; empty against AWS (the SDK's default). */
    dynamodbEndpoint: string;
  }
}

/**
 * The end-to-end suite runs against whatever the outputs file describes. With
 * `DSCP_OUTPUTS=<file>` that is an existing deployment (LocalStack or AWS); without it, the
 * platform is synthesized and started on the embedded local runtime, fresh, for this run.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const outputsFile = process.env.DSCP_OUTPUTS;
  if (outputsFile) {
    project.provide("dscpOutputs", JSON.parse(readFileSync(outputsFile, "utf8")));
    // Bootstrapped beforehand with `npm run bootstrap`, which writes the key file.
    project.provide("operatorKeyFile", process.env.DSCP_OPERATOR_KEY ?? identityPath(".dscp/keys", OPERATOR_SYSTEM));
    project.provide("dynamodbEndpoint", process.env.AWS_ENDPOINT_URL_DYNAMODB ?? process.env.AWS_ENDPOINT_URL ?? "");
    return async () => {};
  }
  const workDir = temporaryDir("e2e");
  const assemblyDir = join(workDir, "cdk.out");
  await synthesize({ outdir: assemblyDir, quiet: true });
  const runtime: LocalRuntime = await startLocalRuntime({ assemblyDir, dataDir: join(workDir, "data"), fresh: true });
  writeFileSync(join(workDir, "outputs.json"), JSON.stringify(runtime.outputs, null, 2));
  project.provide("dscpOutputs", runtime.outputs);
  const { BootstrapFunctionName: bootstrapFunction } = platformOutputs(runtime.outputs);
  const { keyFile } = await bootstrapOperator(join(workDir, "keys"), (payload) =>
    runtime.lambdas.invoke(String(bootstrapFunction), payload),
  );
  project.provide("operatorKeyFile", keyFile);
  project.provide("dynamodbEndpoint", runtime.endpoints.dynamodb);
  return () => runtime.stop();
}
