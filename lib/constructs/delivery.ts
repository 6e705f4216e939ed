import { fileURLToPath } from "node:url";
import { Duration } from "aws-cdk-lib";
import type { IAuthorizer, RestApi } from "aws-cdk-lib/aws-apigateway";
import type { ITable } from "aws-cdk-lib/aws-dynamodb";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import type { IKey } from "aws-cdk-lib/aws-kms";
import { Construct } from "constructs";
import { INTEGRATED_KEY_PREFIXES as KEY } from "../../adapters/dynamodb/integrated-keys.ts";
import { deliveryRoutes } from "../../api/delivery.ts";
import { deliveryEnvironment } from "../../lambdas/delivery/environment.ts";
import type { StageConfig } from "../stage.ts";
import { addRoutes } from "./api-routes.ts";
import { DscpFunction } from "./dscp-function.ts";
import type { ExchangeLog } from "./exchange-log.ts";
import { grantItemWrites, grantTable } from "./grants.ts";
import { type WorkQueue, workQueueFactory } from "./work-queue.ts";

export interface DeliveryProps {
  /** The deliveries' queue (see {@link deliveryQueue}), kept with the stateful stores. */
  readonly queue: WorkQueue;
  readonly api: RestApi;
  readonly authorizer: IAuthorizer;
  readonly registryTable: ITable;
  readonly permissionsTable: ITable;
  /** Subscriptions, delivery states, inboxes and batches live here. */
  readonly integratedTable: ITable;
  readonly encryptionKey: IKey;
  /** Signs pushes to consumers. */
  readonly signingKey: IKey;
  /** The platform's identity in the tokens it signs. */
  readonly issuer: string;
  readonly log: ExchangeLog;
  readonly stage: StageConfig;
  readonly version: string;
}

/** How long a consumer's Agent Node has to take a push. */
const PUSH_TIMEOUT = Duration.seconds(10);
const DELIVERER_TIMEOUT = Duration.seconds(60);

/**
 * The queue of deliveries (and its dead letters, which wait for the operator's redrive), made
 * with the stateful stores and handed to {@link Delivery}, which consumes it.
 */
export const deliveryQueue = workQueueFactory({ consumerTimeout: DELIVERER_TIMEOUT });

/**
 * Delivery of sync batches to subscribed consumers (Art. 7.2b): the sync workers queue each
 * change for each subscriber; the deliverer pushes it, signed, or deposits it in the inbox,
 * retrying failed pushes with backoff, then dead-lettering them for the operator to redrive.
 */
export class Delivery extends Construct {
  readonly queue: WorkQueue;

  constructor(scope: Construct, id: string, props: DeliveryProps) {
    super(scope, id);
    this.queue = props.queue;
    const environment = {
      REGISTRY_TABLE_NAME: props.registryTable.tableName,
      PERMISSIONS_TABLE_NAME: props.permissionsTable.tableName,
      INTEGRATED_TABLE_NAME: props.integratedTable.tableName,
      DELIVERY_QUEUE_URL: this.queue.queue.queueUrl,
      DELIVERY_DEAD_LETTER_URL: this.queue.deadLetterQueue.queueUrl,
      PLATFORM_KEY_ID: props.signingKey.keyId,
      PLATFORM_ISSUER: props.issuer,
      DELIVERY_MAX_ATTEMPTS: String(props.stage.delivery.maxAttempts),
      DELIVERY_BASE_DELAY_SECONDS: String(props.stage.delivery.baseDelay.toSeconds()),
      PUSH_TIMEOUT_MS: String(PUSH_TIMEOUT.toMilliseconds()),
      LOG_QUEUE_URL: props.log.queue.queue.queueUrl,
      LOG_SHARDS: String(props.stage.logShards),
    };
    const common = { stage: props.stage, version: props.version, environmentSchema: deliveryEnvironment, environment };
    const entry = (file: string) => fileURLToPath(new URL(`../../lambdas/delivery/${file}`, import.meta.url));

    const deliverer = new DscpFunction(this, "DelivererFunction", {
      ...common,
      entry: entry("deliverer.ts"),
      description: "DSCP delivery: pushes batches' changes to subscribers, signed, or into their inboxes",
      serviceName: "dscp-deliverer",
      synchronous: true,
      memorySize: 512,
      timeout: DELIVERER_TIMEOUT,
    });
    grantTable(deliverer, props.registryTable, ["dynamodb:GetItem", "dynamodb:Query"]);
    grantTable(deliverer, props.permissionsTable, ["dynamodb:Query"], { indexes: ["byConsumer"] });
    // Subscriptions read; inbox deposits, delivery states and the batches' counts written, and no
    // other item of the table (never a record of the integrated database).
    grantTable(deliverer, props.integratedTable, ["dynamodb:GetItem"]);
    grantItemWrites(deliverer, props.integratedTable, ["dynamodb:PutItem"], [KEY.inbox]);
    grantItemWrites(deliverer, props.integratedTable, ["dynamodb:UpdateItem"], [KEY.delivery, KEY.batch]);
    deliverer.addToRolePolicy(
      new PolicyStatement({
        actions: ["sqs:SendMessage"],
        resources: [this.queue.queue.queueArn, this.queue.deadLetterQueue.queueArn],
      }),
    );
    props.encryptionKey.grant(deliverer, "kms:GenerateDataKey", "kms:Decrypt");
    props.signingKey.grant(deliverer, "kms:Sign");
    props.log.grantWrite(deliverer);
    // The queue drives at most this many deliverers (a slow consumer holds one for up to
    // PUSH_TIMEOUT per push): messages wait in the queue rather than being throttled.
    this.queue.connect(deliverer, {
      batchSize: 10,
      ...(props.stage.concurrency.deliveries === undefined
        ? {}
        : { maxConcurrency: props.stage.concurrency.deliveries }),
    });

    const api = new DscpFunction(this, "ApiFunction", {
      ...common,
      entry: entry("handler.ts"),
      description: "DSCP delivery: subscriptions, consumers' inboxes, redrive of dead letters",
      serviceName: "dscp-delivery",
      synchronous: true,
      timeout: Duration.seconds(28),
    });
    grantTable(api, props.registryTable, ["dynamodb:GetItem", "dynamodb:Query"]);
    grantTable(api, props.permissionsTable, ["dynamodb:Query"], { indexes: ["byConsumer"] });
    grantTable(api, props.integratedTable, ["dynamodb:GetItem", "dynamodb:Query"], { indexes: ["byDataset"] });
    // Subscriptions made and ended, inbox messages acknowledged, redriven deliveries and their
    // batches' counts: its only writes.
    grantItemWrites(api, props.integratedTable, ["dynamodb:PutItem"], [KEY.subscription]);
    grantItemWrites(api, props.integratedTable, ["dynamodb:DeleteItem"], [KEY.subscription, KEY.inbox]);
    grantItemWrites(api, props.integratedTable, ["dynamodb:UpdateItem"], [KEY.delivery, KEY.batch]);
    // Redrive: dead letters in, back to the delivery queue.
    api.addToRolePolicy(
      new PolicyStatement({
        actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:ChangeMessageVisibility"],
        resources: [this.queue.deadLetterQueue.queueArn],
      }),
    );
    api.addToRolePolicy(new PolicyStatement({ actions: ["sqs:SendMessage"], resources: [this.queue.queue.queueArn] }));
    props.encryptionKey.grant(api, "kms:GenerateDataKey", "kms:Decrypt");

    addRoutes({ api: props.api, authorizer: props.authorizer, handler: api, routes: deliveryRoutes });
  }
}
