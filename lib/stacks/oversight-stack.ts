import { Stack } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { Disclosure } from "../constructs/disclosure.ts";
import { ExchangeLog } from "../constructs/exchange-log.ts";
import { Oversight } from "../constructs/oversight.ts";
import type { CapabilityStackProps } from "./capability-stack.ts";

export interface OversightStackProps extends CapabilityStackProps {
  /** The platform's identity, named as the issuer of the log's signed checkpoints. */
  readonly issuer: string;
}

/**
 * Watching the exchanges (Art. 13-15): the tamper-evident exchange log (appender, reader,
 * verifier, signed checkpoints) and oversight (audits, rankings, compliance).
 */
export class OversightStack extends Stack {
  readonly exchangeLog: ExchangeLog;
  readonly oversight: Oversight;

  constructor(scope: Construct, id: string, props: OversightStackProps) {
    super(scope, id, props);
    const { stores, queues } = props.data;
    this.exchangeLog = new ExchangeLog(this, "ExchangeLog", {
      queue: queues.exchangeLog,
      api: props.api,
      authorizer: props.authorizer,
      logTable: stores.exchangeLogTable,
      encryptionKey: stores.key,
      archiveBucket: stores.logArchiveBucket,
      signingKey: stores.signingKey,
      issuer: props.issuer,
      stage: props.stage,
      version: props.version,
    });
    this.oversight = new Oversight(this, "Oversight", {
      queue: queues.oversight,
      api: props.api,
      authorizer: props.authorizer,
      registryTable: stores.registryTable,
      permissionsTable: stores.permissionsTable,
      integratedTable: stores.integratedTable,
      logTable: stores.exchangeLogTable,
      encryptionKey: stores.key,
      stage: props.stage,
      version: props.version,
    });
    new Disclosure(this, "Disclosure", {
      api: props.api,
      registryTable: stores.registryTable,
      integratedTable: stores.integratedTable,
      logTable: stores.exchangeLogTable,
      stage: props.stage,
      version: props.version,
    });
  }
}
