import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { ScheduledEvent, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { auditInput } from "../../domain/oversight/model.ts";
import { logger, metrics } from "../shared/observability.ts";
import { oversightService } from "./wiring.ts";

type Work = { auditId: string } | { rankingYear: number };

/**
 * Runs queued audits and rankings one message at a time; on its daily schedule, queues an audit
 * of every dataset (Art. 14: regular audits). A failed message is retried by SQS, then
 * dead-lettered. An audit or ranking that throws records that it failed; one whose run is cut
 * short by the function's timeout is shown as failed once it has outlived its worker.
 */
export const handler = middy<SQSEvent | ScheduledEvent, SQSBatchResponse | { queued: number }>()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler(async (event) => {
    if (!("Records" in event)) {
      const { audits } = await oversightService().requestAudits("schedule", auditInput.parse({}));
      logger.info("scheduled audits queued", { audits: audits.length });
      metrics.addMetric("auditsScheduled", MetricUnit.Count, audits.length);
      return { queued: audits.length };
    }
    const batchItemFailures: SQSBatchResponse["batchItemFailures"] = [];
    for (const message of event.Records) {
      try {
        const work = JSON.parse(message.body) as Work;
        if ("auditId" in work) {
          const audit = await oversightService().runAudit(work.auditId);
          if (audit?.report) {
            metrics.addMetric("auditsCompleted", MetricUnit.Count, 1);
            metrics.addMetric("auditFindings", MetricUnit.Count, audit.report.findings.length);
          }
        } else {
          await oversightService().runRanking(work.rankingYear);
          metrics.addMetric("rankingsPublished", MetricUnit.Count, 1);
        }
      } catch (error) {
        logger.error("oversight work failed", { messageId: message.messageId, error: error as Error });
        batchItemFailures.push({ itemIdentifier: message.messageId });
      }
    }
    return { batchItemFailures };
  });
