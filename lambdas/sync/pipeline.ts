import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { Partition } from "../../domain/sync/model.ts";
import { logger, metrics } from "../shared/observability.ts";
import { completion, partitionApplication, preparation } from "./wiring.ts";

/** What the upload state machine asks of this function; `batchId` is the batch's key (its provider and its id). */
export type PipelineTask =
  | { readonly action: "prepare"; readonly batchId: string }
  | { readonly action: "apply"; readonly partition: Partition }
  | { readonly action: "fail"; readonly batchId: string; readonly error?: { Error?: string; Cause?: string } };

/** The tasks of the upload state machine: prepare the partitions, apply each, or mark the batch failed. */
export const handler = middy<PipelineTask, unknown>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler(async (task) => {
    switch (task.action) {
      case "prepare":
        return preparation().prepare(task.batchId);
      case "apply":
        return partitionApplication().applyPartition(task.partition);
      case "fail":
        logger.error("an uploaded batch failed", { batchId: task.batchId, error: task.error });
        await completion().fail(task.batchId, `${task.error?.Error ?? "Error"}: ${task.error?.Cause ?? "unknown"}`);
        return { failed: task.batchId };
    }
  });
