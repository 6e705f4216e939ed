import { createHash } from "node:crypto";
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import type { UploadPipeline } from "../../domain/sync/model.ts";

let client: SFNClient | undefined;

/**
 * Starts the upload state machine for a batch, named by its key (its provider and its id), once:
 * the execution is named after the key, its digest keeping apart keys that spell alike once the
 * characters an execution name cannot hold are replaced.
 */
export function stepFunctionsPipeline(stateMachineArn: string): UploadPipeline {
  const start = stepFunctionsStarter(stateMachineArn);
  return (key) => {
    const digest = createHash("sha256").update(key).digest("hex").slice(0, 16);
    return start(`${key.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 63)}-${digest}`, { batchId: key });
  };
}

/** Starts an execution named `name` (once: a second start of the same name changes nothing). */
export function stepFunctionsStarter(stateMachineArn: string): (name: string, input: object) => Promise<void> {
  client ??= new SFNClient({});
  const sfn = client;
  return async (name, input) => {
    try {
      await sfn.send(
        new StartExecutionCommand({
          stateMachineArn,
          name: name.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 80),
          input: JSON.stringify(input),
        }),
      );
    } catch (error) {
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
    }
  };
}
