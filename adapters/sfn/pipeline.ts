import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import type { UploadPipeline } from "../../domain/sync/model.ts";

let client: SFNClient | undefined;

/** Starts the upload state machine for a batch, once: the execution is named after the batch. */
export function stepFunctionsPipeline(stateMachineArn: string): UploadPipeline {
  const start = stepFunctionsStarter(stateMachineArn);
  return (batchId) => start(batchId, { batchId });
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
