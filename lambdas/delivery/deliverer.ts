import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { deliveryMessage } from "../../adapters/sqs/delivery-message.ts";
import { logger, metrics } from "../shared/observability.ts";
import { sqsBatchHandler } from "../shared/sqs-batch.ts";

/** One metric per outcome: the monitoring alarms on dead letters. */
const METRIC = {
  delivered: "deliveriesDelivered",
  duplicate: "deliveriesDuplicate",
  refused: "deliveriesRefused",
  retrying: "deliveriesRetrying",
  "dead-lettered": "deliveriesDeadLettered",
} as const;

import { deliveryService } from "./wiring.ts";

/**
 * Delivers messages to subscribers, several at once. A failed push is not an error here: the
 * service schedules its retry (or dead-letters it) and the message is done. Only a failure of
 * the platform itself is reported, for SQS to retry and, in the end, dead-letter.
 */
export const handler = middy<SQSEvent, SQSBatchResponse>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler(
    sqsBatchHandler(
      deliveryMessage,
      async (delivery) => {
        const outcome = await deliveryService().deliver(delivery);
        metrics.addMetric(METRIC[outcome], MetricUnit.Count, 1);
        if (outcome !== "delivered" && outcome !== "duplicate") {
          logger.warn("a delivery was not made", {
            outcome,
            deliveryId: delivery.messageId,
            consumerSystem: delivery.consumerSystem,
            attempt: delivery.attempt,
          });
        }
      },
      { failure: "a delivery could not be processed", order: "parallel" },
    ),
  );
