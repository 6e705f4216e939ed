import { Stack } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { Delivery } from "../constructs/delivery.ts";
import { Exchange } from "../constructs/exchange.ts";
import type { ExchangeLog } from "../constructs/exchange-log.ts";
import { Export } from "../constructs/export.ts";
import { Sync } from "../constructs/sync.ts";
import type { CapabilityStackProps } from "./capability-stack.ts";

export interface ExchangeStackProps extends CapabilityStackProps {
  /** The platform's identity in the tokens it signs. */
  readonly issuer: string;
  /**
   * The exchange log every attempt is written to. Only its queue (in the data stack) is used,
   * so this stack does not depend on the log's.
   */
  readonly log: ExchangeLog;
}

/**
 * The ways data moves (Art. 7.2): request-based exchange (a), sync batches and their delivery to
 * subscribers (b, c), and export packages (d).
 */
export class ExchangeStack extends Stack {
  readonly sync: Sync;
  readonly delivery: Delivery;
  readonly export: Export;

  constructor(scope: Construct, id: string, props: ExchangeStackProps) {
    super(scope, id, props);
    const { stores, queues } = props.data;
    const common = {
      api: props.api,
      authorizer: props.authorizer,
      registryTable: stores.registryTable,
      log: props.log,
      stage: props.stage,
      version: props.version,
    };
    this.delivery = new Delivery(this, "Delivery", {
      ...common,
      queue: queues.deliveries,
      permissionsTable: stores.permissionsTable,
      integratedTable: stores.integratedTable,
      encryptionKey: stores.key,
      signingKey: stores.signingKey,
      issuer: props.issuer,
    });
    this.sync = new Sync(this, "Sync", {
      ...common,
      queue: queues.syncChunks,
      deliveryQueue: queues.deliveries.queue,
      integratedTable: stores.integratedTable,
      uploadsBucket: stores.uploadsBucket,
      encryptionKey: stores.key,
    });
    new Exchange(this, "Exchange", {
      ...common,
      integratedTable: stores.integratedTable,
      permissionsTable: stores.permissionsTable,
      replayTable: stores.replayTable,
      signingKey: stores.signingKey,
      issuer: props.issuer,
    });
    this.export = new Export(this, "Export", {
      ...common,
      permissionsTable: stores.permissionsTable,
      integratedTable: stores.integratedTable,
      exportsBucket: stores.exportsBucket,
      signingKey: stores.signingKey,
      issuer: props.issuer,
    });
  }
}
