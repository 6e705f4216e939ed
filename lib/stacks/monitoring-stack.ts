import { CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import type { RestApi } from "aws-cdk-lib/aws-apigateway";
import type { Construct } from "constructs";
import { Monitoring } from "../constructs/monitoring.ts";
import type { DataStack } from "./data-stack.ts";
import type { ExchangeStack } from "./exchange-stack.ts";
import type { OversightStack } from "./oversight-stack.ts";

export interface MonitoringStackProps extends StackProps {
  readonly data: DataStack;
  readonly api: RestApi;
  readonly exchange: ExchangeStack;
  readonly oversight: OversightStack;
}

/** The dashboard, the alarms and the operator's alarm topic (Art. 13), over every other stack. */
export class MonitoringStack extends Stack {
  readonly monitoring: Monitoring;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    const { queues } = props.data;
    const { exchangeLog, oversight } = props.oversight;
    this.monitoring = new Monitoring(this, "Monitoring", {
      api: props.api,
      queues: {
        SyncChunks: queues.syncChunks,
        Deliveries: queues.deliveries,
        ExchangeLog: queues.exchangeLog,
        Oversight: queues.oversight,
      },
      stateMachines: {
        UploadPipeline: props.exchange.sync.stateMachine,
        ExportJob: props.exchange.export.stateMachine,
      },
      functions: {
        LogVerifier: exchangeLog.verifier,
        LogCheckpointer: exchangeLog.checkpointer,
        OversightWorker: oversight.worker,
      },
      encryptionKey: props.data.stores.key,
    });
    new CfnOutput(this, "AlarmTopicArn", {
      value: this.monitoring.topic.topicArn,
      description: "Subscribe the operator's e-mail or pager to DSCP's alarms",
    });
  }
}
