import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoExchangeLogStore } from "../../adapters/dynamodb/exchange-log-store.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { logger, metrics } from "../shared/observability.ts";
import { logVerificationEnvironment } from "./environment.ts";
import { verifyEverything } from "./handler.ts";

const environment = lazyEnvironment(logVerificationEnvironment);

/**
 * Verifies every chain of the exchange log on a schedule (Art. 13), against the latest signed
 * checkpoint too, and publishes how many are broken (`logChainsBroken`, one more when the
 * checkpoint itself does not verify), which the monitoring alarms on; each is logged with why.
 */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler(async () => {
    const { LOG_TABLE_NAME, LOG_SHARDS, ARCHIVE_BUCKET_NAME, PLATFORM_KEY_ID } = environment();
    const store = new DynamoExchangeLogStore(dynamoDbClient(), LOG_TABLE_NAME);
    const verification = await verifyEverything(store, {
      shards: Number(LOG_SHARDS),
      archiveBucket: ARCHIVE_BUCKET_NAME,
      platformKeyId: PLATFORM_KEY_ID,
    });
    const verdicts = verification.shards;
    const broken = verdicts.filter((verdict) => !verdict.valid);
    for (const verdict of broken) logger.error("an exchange-log chain is broken", { verdict });
    if (verification.checkpointProblem)
      logger.error("the latest log checkpoint does not verify", { problem: verification.checkpointProblem });
    metrics.addMetric("logChainsBroken", MetricUnit.Count, broken.length + (verification.checkpointProblem ? 1 : 0));
    metrics.addMetric(
      "logEntriesVerified",
      MetricUnit.Count,
      verdicts.reduce((sum, verdict) => sum + verdict.entries, 0),
    );
    return { shards: verdicts.length, broken: broken.length };
  });
