#!/usr/bin/env node
// `npm run bootstrap -- --outputs outputs.json`: registers the operator's key on a deployed
// platform (AWS or LocalStack) by invoking its bootstrap function with your AWS credentials.
// It runs once; `--rotate` replaces the operator's keys with a new one (a lost or exposed key).
import { join } from "node:path";
import { parseArgs } from "node:util";
import { InvokeCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { bootstrapOperator } from "../client/bootstrap.ts";
import { readPlatformOutputs } from "../client/outputs.ts";

const { values } = parseArgs({
  options: {
    outputs: { type: "string", default: "outputs.json" },
    "keys-dir": { type: "string", default: join(".dscp", "keys") },
    rotate: { type: "boolean", default: false },
  },
});

const outputs = readPlatformOutputs(values.outputs);
if (!outputs.BootstrapFunctionName) throw new Error(`${values.outputs} has no BootstrapFunctionName output`);

const lambda = new LambdaClient({});
const { keyFile, previousKeyFile } = await bootstrapOperator(
  values["keys-dir"],
  async (payload) => {
    const result = await lambda.send(
      new InvokeCommand({ FunctionName: outputs.BootstrapFunctionName, Payload: JSON.stringify(payload) }),
    );
    const body = result.Payload ? Buffer.from(result.Payload).toString("utf8") : "";
    if (result.FunctionError) throw new Error(`bootstrap failed: ${body}`);
    return JSON.parse(body || "null");
  },
  { rotate: values.rotate },
);
process.stdout.write(`operator NDC.OPERATOR registered; its private key is in ${keyFile}\n`);
if (previousKeyFile) process.stdout.write(`its previous keys are revoked; the old key file is ${previousKeyFile}\n`);
