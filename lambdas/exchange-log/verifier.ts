import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoExchangeLogStore } from "../../adapters/dynamodb/exchange-log-store.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { logger, metrics } from "../shared/observability.ts";
import { exchangeLogEnvironment } from "./environment.ts";
import { verifyShards } from "./handler.ts";

const environment = lazyEnvironment(exchangeLogEnvironment);

/**
 * Verifies every chain of the exchange log on a schedule (Art. 13) and publishes how many are
 * broken (`logChainsBroken`), which the monitoring alarms on; each broken shard is logged with why.
 */
export const handler = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler(async () => {
    const store = new DynamoExchangeLogStore(dynamoDbClient(), environment().LOG_TABLE_NAME);
    const verdicts = await verifyShards(store, Number(environment().LOG_SHARDS));
    const broken = verdicts.filter((verdict) => !verdict.valid);
    for (const verdict of broken) logger.error("an exchange-log chain is broken", { verdict });
    metrics.addMetric("logChainsBroken", MetricUnit.Count, broken.length);
    metrics.addMetric(
      "logEntriesVerified",
      MetricUnit.Count,
      verdicts.reduce((sum, verdict) => sum + verdict.entries, 0),
    );
    return { shards: verdicts.length, broken: broken.length };
  });
