import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { logMetrics } from "@aws-lambda-powertools/metrics/middleware";
import middy from "@middy/core";
import type { APIGatewayProxyEvent, Context } from "aws-lambda";
import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoExchangeLogStore } from "../../adapters/dynamodb/exchange-log-store.ts";
import { kmsSigner } from "../../adapters/kms/kms-signer.ts";
import { s3LogArchive } from "../../adapters/s3/log-archive.ts";
import { checkpointerRoutes } from "../../api/logs.ts";
import { type CheckpointRun, takeCheckpoint } from "../../domain/exchange-log/checkpointing.ts";
import { isOverseer } from "../../domain/identity/authorization.ts";
import { ForbiddenError } from "../../domain/problem.ts";
import { authenticatedCaller } from "../shared/caller.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { httpHandler } from "../shared/http.ts";
import { logger, metrics } from "../shared/observability.ts";
import { dispatch } from "../shared/routes.ts";
import { checkpointerEnvironment } from "./environment.ts";

const environment = lazyEnvironment(checkpointerEnvironment);
let store: DynamoExchangeLogStore | undefined;

/** One checkpoint of every shard's head, signed and archived; a shard that no longer holds together is logged. */
async function checkpoint(): Promise<CheckpointRun> {
  const { LOG_TABLE_NAME, LOG_SHARDS, ARCHIVE_BUCKET_NAME, PLATFORM_KEY_ID, PLATFORM_ISSUER } = environment();
  store ??= new DynamoExchangeLogStore(dynamoDbClient(), LOG_TABLE_NAME);
  const run = await takeCheckpoint({
    source: store,
    archive: s3LogArchive(ARCHIVE_BUCKET_NAME),
    signer: kmsSigner(PLATFORM_KEY_ID),
    issuer: PLATFORM_ISSUER,
    shards: Number(LOG_SHARDS),
  });
  for (const refusal of run.refused) {
    logger.error("a log shard does not continue its last checkpoint; it was not extended", { refusal });
  }
  const { checkpoint } = run.signed;
  logger.info("log checkpoint taken", { number: checkpoint.number, shards: checkpoint.shards });
  return run;
}

/** `POST /v1/logs/checkpoints`: a checkpoint now (operator, supervisor), besides the schedule's. */
const onDemand = httpHandler(
  dispatch(checkpointerRoutes, {
    takeLogCheckpoint: async (event) => {
      if (!isOverseer(authenticatedCaller(event))) {
        throw new ForbiddenError("only the supervisor and the operator take checkpoints of the log");
      }
      const run = await checkpoint();
      return { status: 201, body: run.signed };
    },
  }),
);

/** The schedule's run: publishes how many shards could not be extended (`logCheckpointRefusals`). */
const scheduled = middy()
  .use(injectLambdaContext(logger, { resetKeys: true }))
  .use(logMetrics(metrics))
  .handler(async () => {
    const run = await checkpoint();
    metrics.addMetric("logCheckpointRefusals", MetricUnit.Count, run.refused.length);
    return { number: run.signed.checkpoint.number, refused: run.refused.length };
  });

/**
 * Checkpoints the exchange log (Art. 13): every few minutes on a schedule, and on demand through
 * the API. Each checkpoint lists every shard's head, is signed by the platform key and is
 * archived under Object Lock with the entries it covers.
 */
export const handler = (event: APIGatewayProxyEvent | Record<string, unknown>, context: Context) =>
  "httpMethod" in event
    ? onDemand(event as APIGatewayProxyEvent, context)
    : scheduled(event as Record<string, unknown>, context);
