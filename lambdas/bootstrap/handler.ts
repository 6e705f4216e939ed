import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoRegistryStore } from "../../adapters/dynamodb/registry-store.ts";
import { type BootstrapResult, bootstrapOperator } from "../../domain/registry/bootstrap.ts";
import { registryEnvironment } from "../registry/environment.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { logger } from "../shared/observability.ts";

const environment = lazyEnvironment(registryEnvironment);

/**
 * One-time bootstrap, invoked directly (`npm run bootstrap`, or `npm start` locally), never
 * through the API: whoever may invoke this function in the account may create the operator.
 */
export async function handler(event: unknown): Promise<BootstrapResult> {
  const result = await bootstrapOperator(
    new DynamoRegistryStore(dynamoDbClient(), environment().REGISTRY_TABLE_NAME),
    event,
  );
  logger.info("operator bootstrapped", { ...result, revoked: [...(result.revoked ?? [])] });
  return result;
}
