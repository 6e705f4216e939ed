import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import type { UploadPipeline } from "../../domain/sync/model.ts";

let client: SFNClient | undefined;

/** Starts the upload state machine for a batch, once: the execution is named after the batch. */
export function stepFunctionsPipeline(stateMachineArn: string): UploadPipeline {
  client ??= new SFNClient({});
  const sfn = client;
  return async (batchId) => {
    try {
      await sfn.send(
        new StartExecutionCommand({
          stateMachineArn,
          name: batchId.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 80),
          input: JSON.stringify({ batchId }),
        }),
      );
    } catch (error) {
      if (!(error instanceof ExecutionAlreadyExists)) throw error;
    }
  };
}
