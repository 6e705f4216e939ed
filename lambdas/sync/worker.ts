import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { chunkMessage } from "../../adapters/sqs/chunk-message.ts";
import { logger, metrics } from "../shared/observability.ts";
import { sqsBatchHandler } from "../shared/sqs-batch.ts";
import { chunkApplication } from "./wiring.ts";

/**
 * Applies chunks of sync batches to the integrated store. A chunk that fails is reported alone
 * and retried by SQS (then dead-lettered); the others of the same delivery are kept.
 */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler(
    sqsBatchHandler(
      chunkMessage,
      async (chunk) => {
        if ((await chunkApplication(5_000).applyChunk(chunk)) === "deferred") {
          logger.info("a chunk waits for another batch of its dataset", { batchId: chunk.batchId, chunk: chunk.chunk });
        }
      },
      { failure: "a chunk could not be applied" },
    ),
  );
