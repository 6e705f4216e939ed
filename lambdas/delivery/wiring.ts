import { DynamoBatchStore } from "../../adapters/dynamodb/batch-store.ts";
import { DynamoCatalogStore } from "../../adapters/dynamodb/catalog-store.ts";
import { dynamoDbClient } from "../../adapters/dynamodb/clients.ts";
import { DynamoDeliveryStore } from "../../adapters/dynamodb/delivery-store.ts";
import { DynamoPermissionStore } from "../../adapters/dynamodb/permission-store.ts";
import { DynamoRegistryStore } from "../../adapters/dynamodb/registry-store.ts";
import { DynamoSubscriptionStore } from "../../adapters/dynamodb/subscription-store.ts";
import { httpPusher } from "../../adapters/http/pusher.ts";
import { kmsSigner } from "../../adapters/kms/kms-signer.ts";
import { sqsDeliveryQueue } from "../../adapters/sqs/delivery-queue.ts";
import { queuedExchangeLog } from "../../adapters/sqs/exchange-log-queue.ts";
import { DeliveryService } from "../../domain/delivery/delivery-service.ts";
import { environmentKeys } from "../../domain/identity/key-certificate.ts";
import { endpointPolicy } from "../../domain/registry/endpoint-policy.ts";
import { lazyEnvironment } from "../shared/environment.ts";
import { deliveryEnvironment } from "./environment.ts";

const environment = lazyEnvironment(deliveryEnvironment);
let service: DeliveryService | undefined;

/** The delivery service of this execution environment, built on first use. */
export function deliveryService(): DeliveryService {
  if (service) return service;
  const env = environment();
  const client = dynamoDbClient();
  service = new DeliveryService({
    catalog: new DynamoCatalogStore(client, env.REGISTRY_TABLE_NAME),
    registry: new DynamoRegistryStore(client, env.REGISTRY_TABLE_NAME),
    permissions: new DynamoPermissionStore(client, env.PERMISSIONS_TABLE_NAME),
    subscriptions: new DynamoSubscriptionStore(client, env.INTEGRATED_TABLE_NAME),
    deliveries: new DynamoDeliveryStore(client, env.INTEGRATED_TABLE_NAME),
    batches: new DynamoBatchStore(client, env.INTEGRATED_TABLE_NAME),
    queue: sqsDeliveryQueue(env.DELIVERY_QUEUE_URL, env.DELIVERY_DEAD_LETTER_URL),
    pusher: httpPusher(
      environmentKeys(kmsSigner(env.PLATFORM_KEY_ID)),
      env.PLATFORM_ISSUER,
      Number(env.PUSH_TIMEOUT_MS),
      endpointPolicy(env.DSCP_STAGE),
    ),
    log: queuedExchangeLog(env.LOG_QUEUE_URL, Number(env.LOG_SHARDS)),
    retry: {
      maxAttempts: Number(env.DELIVERY_MAX_ATTEMPTS),
      baseDelaySeconds: Number(env.DELIVERY_BASE_DELAY_SECONDS),
    },
  });
  return service;
}
