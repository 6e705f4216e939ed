import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { tableProbe } from "../../adapters/dynamodb/table-probe.ts";
import { checkHealth } from "../../domain/health.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { httpHandler } from "../shared/http.ts";
import { healthEnvironment } from "./environment.ts";

const environment = lazyEnvironment(healthEnvironment);

/** `GET /v1/health`: version, stage, time, and whether the data tier answers. */
export const handler = httpHandler(async () => {
  const env = environment();
  const report = await checkHealth({
    version: env.DSCP_VERSION,
    stage: env.DSCP_STAGE,
    probes: [tableProbe("registry", dynamoDbClient(), env.REGISTRY_TABLE_NAME)],
  });
  return { status: report.status === "ok" ? 200 : 503, body: report };
});
