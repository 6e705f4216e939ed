import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { ScheduledEvent, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { oversightMessage } from "../../adapters/sqs/oversight-message.ts";
import { auditInput } from "../../domain/oversight/model.ts";
import { logger, metrics } from "../shared/observability.ts";
import { sqsBatchHandler } from "../shared/sqs-batch.ts";
import { oversightService } from "./wiring.ts";

/** Runs queued audits and rankings, one message after another. */
const work = sqsBatchHandler(
  oversightMessage,
  async (message) => {
    if ("auditId" in message) {
      const audit = await oversightService().runAudit(message.auditId);
      if (audit?.report) {
        metrics.addMetric("auditsCompleted", MetricUnit.Count, 1);
        metrics.addMetric("auditFindings", MetricUnit.Count, audit.report.findings.length);
      }
    } else {
      await oversightService().runRanking(message.rankingYear, "agency" in message ? message.agency : undefined);
      metrics.addMetric("rankingsPublished", MetricUnit.Count, 1);
    }
  },
  { failure: "oversight work failed" },
);

/**
 * Runs queued audits and rankings one message at a time; on its daily schedule, queues an audit
 * of every dataset (Art. 14: regular audits) and, once a year is over, its ranking (Art. 15). A failed message is retried by SQS, then
 * dead-lettered. An audit or ranking that throws records that it failed; one whose run is cut
 * short by the function's timeout is shown as failed once it has outlived its worker.
 */
export const handler = middy<SQSEvent | ScheduledEvent, SQSBatchResponse | { queued: number }>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler(async (event, context) => {
    if (!("Records" in event)) {
      const { audits } = await oversightService().requestAudits("schedule", auditInput.parse({}));
      logger.info("scheduled audits queued", { audits: audits.length });
      metrics.addMetric("auditsScheduled", MetricUnit.Count, audits.length);
      // Once a year is over, its official ranking (Art. 15), unless one covering it all exists.
      const ranking = await oversightService().scheduleYearlyRanking();
      if (ranking) logger.info("yearly ranking queued", { year: ranking.year, indices: ranking.indices });
      return { queued: audits.length + (ranking ? 1 : 0) };
    }
    return work(event, context);
  });
