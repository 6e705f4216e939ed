import { Duration } from "aws-cdk-lib";
import type { RestApi } from "aws-cdk-lib/aws-apigateway";
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  MathExpression,
  Metric,
  TextWidget,
  TreatMissingData,
} from "aws-cdk-lib/aws-cloudwatch";
import { SnsAction } from "aws-cdk-lib/aws-cloudwatch-actions";
import type { IKey } from "aws-cdk-lib/aws-kms";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { Topic } from "aws-cdk-lib/aws-sns";
import type { StateMachine } from "aws-cdk-lib/aws-stepfunctions";
import { Construct } from "constructs";
import { METRICS_NAMESPACE } from "./dscp-function.ts";
import type { WorkQueue } from "./work-queue.ts";

export interface MonitoringProps {
  readonly api: RestApi;
  /** Each work queue by what it carries; its dead letters are alarmed on. */
  readonly queues: Readonly<Record<string, WorkQueue>>;
  /** Each state machine by what it runs; failed executions are alarmed on. */
  readonly stateMachines: Readonly<Record<string, StateMachine>>;
  /** Functions whose every error matters (scheduled ones, which nobody else watches). */
  readonly functions: Readonly<Record<string, IFunction>>;
  /** Encrypts the alarm topic. */
  readonly encryptionKey: IKey;
}

/** What DSCP's functions publish (Powertools, namespace DSCP, dimension `service`). */
function dscpMetric(name: string, service: string, statistic = "Sum"): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { service },
    statistic,
    period: Duration.minutes(5),
  });
}

/**
 * Monitoring and alarms (Art. 13): exchanges by outcome and latency, the API's error rate and
 * p99 latency, dead letters on every work queue, failed state machine executions, deliveries
 * dead-lettered, and broken exchange-log chains, on one dashboard; each alarm notifies the
 * operator's topic (subscribe e-mail or a pager to it).
 */
export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly dashboard: Dashboard;
  readonly alarms: Alarm[] = [];

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    this.topic = new Topic(this, "Alarms", {
      displayName: "DSCP alarms",
      masterKey: props.encryptionKey,
      enforceSSL: true,
    });
    const action = new SnsAction(this.topic);
    const alarm = (
      name: string,
      description: string,
      metric: Metric | MathExpression,
      threshold: number,
      evaluationPeriods = 1,
    ) => {
      const created = new Alarm(this, name, {
        alarmDescription: description,
        metric,
        threshold,
        evaluationPeriods,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      created.addAlarmAction(action);
      this.alarms.push(created);
      return created;
    };

    const serverErrors = props.api.metricServerError({ period: Duration.minutes(5), statistic: "Sum" });
    const requests = props.api.metricCount({ period: Duration.minutes(5), statistic: "Sum" });
    const errorRate = new MathExpression({
      expression: "IF(requests > 0, 100 * errors / requests, 0)",
      usingMetrics: { errors: serverErrors, requests },
      label: "5XX error rate (%)",
      period: Duration.minutes(5),
    });
    alarm(
      "ApiErrorRate",
      "More than 5% of API requests failed with a 5XX in 5 minutes, twice in a row",
      errorRate,
      5,
      2,
    );
    const p99 = props.api.metricLatency({ period: Duration.minutes(5), statistic: "p99" });
    alarm("ApiLatencyP99", "The API's p99 latency was above 3 s for 15 minutes", p99, 3000, 3);
    for (const [name, queue] of Object.entries(props.queues)) {
      alarm(
        `${name}DeadLetters`,
        `Messages are waiting in the ${name} dead-letter queue: inspect them, fix the cause, redrive`,
        queue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(5),
          statistic: "Maximum",
        }),
        0,
      );
    }
    for (const [name, machine] of Object.entries(props.stateMachines)) {
      alarm(
        `${name}Failures`,
        `A ${name} execution failed: the batch or export shows why`,
        machine.metricFailed({ period: Duration.minutes(5), statistic: "Sum" }),
        0,
      );
    }
    for (const [name, fn] of Object.entries(props.functions)) {
      alarm(
        `${name}Errors`,
        `${name} failed: its logs say why`,
        fn.metricErrors({ period: Duration.minutes(5), statistic: "Sum" }),
        0,
      );
    }
    const deadLettered = dscpMetric("deliveriesDeadLettered", "dscp-deliverer");
    alarm(
      "DeliveriesDeadLettered",
      "Deliveries to a consumer failed every attempt: see the batch's deliveries, then POST /v1/deliveries/redrive",
      deadLettered,
      0,
    );
    const brokenChains = dscpMetric("logChainsBroken", "dscp-log-verifier", "Maximum");
    alarm(
      "LogChainBroken",
      "The hourly verification found a broken exchange-log chain: GET /v1/logs/verify names the shard and entry",
      brokenChains,
      0,
    );
    alarm(
      "LogCheckpointRefused",
      "A checkpoint could not extend an exchange-log chain: the table no longer continues the last signed checkpoint (GET /v1/logs/verify says where)",
      dscpMetric("logCheckpointRefusals", "dscp-log-checkpointer", "Maximum"),
      0,
    );

    this.dashboard = new Dashboard(this, "Dashboard", { defaultInterval: Duration.hours(6) });
    this.dashboard.addWidgets(
      new TextWidget({
        markdown:
          "# DSCP\nExchanges (Art. 13), sync and delivery (7.2b-c), exports (7.2d). Alarms notify the operator's topic.",
        width: 24,
        height: 2,
      }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: "Exchanges by outcome",
        left: ["allowed", "denied", "failed"].map(
          (outcome) =>
            new Metric({
              namespace: METRICS_NAMESPACE,
              metricName: "exchanges",
              dimensionsMap: { service: "dscp-exchange", outcome },
              statistic: "Sum",
              period: Duration.minutes(5),
              label: outcome,
            }),
        ),
        width: 8,
      }),
      new GraphWidget({
        title: "Exchange latency (ms)",
        left: ["p50", "p99"].map((statistic) => dscpMetric("exchangeLatency", "dscp-exchange", statistic)),
        width: 8,
      }),
      new GraphWidget({ title: "API", left: [requests], right: [errorRate, p99], width: 8 }),
    );
    this.dashboard.addWidgets(
      new GraphWidget({
        title: "Deliveries",
        left: ["deliveriesDelivered", "deliveriesRetrying", "deliveriesRefused", "deliveriesDeadLettered"].map((name) =>
          dscpMetric(name, "dscp-deliverer"),
        ),
        width: 8,
      }),
      new GraphWidget({
        title: "Dead letters",
        left: Object.entries(props.queues).map(([name, queue]) =>
          queue.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ label: name, statistic: "Maximum" }),
        ),
        width: 8,
      }),
      new GraphWidget({
        title: "State machines and the log",
        left: Object.entries(props.stateMachines).map(([name, machine]) =>
          machine.metricFailed({ label: `${name} failed`, statistic: "Sum" }),
        ),
        right: [brokenChains],
        width: 8,
      }),
    );
    const syncMetrics = (name: string) =>
      ["worker", "pipeline"].map((part) => dscpMetric(name, `dscp-sync-${part}`).with({ label: `${name} (${part})` }));
    const byMethod = (method: string) =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName: "exchanges",
        dimensionsMap: { service: "dscp-exchange", method },
        statistic: "Sum",
        period: Duration.minutes(5),
        label: method,
      });
    this.dashboard.addWidgets(
      new GraphWidget({ title: "Exchanges by method", left: ["request", "integrated"].map(byMethod), width: 8 }),
      // Inline batches finish in the chunk worker, uploaded ones in the upload pipeline.
      new GraphWidget({
        title: "Sync batches",
        left: ["batchesCompleted", "batchesFailed"].flatMap((name) => syncMetrics(name)),
        right: ["batchRecordsReceived", "batchRecordsRejected"].flatMap((name) => syncMetrics(name)),
        width: 8,
      }),
      new GraphWidget({
        title: "Oversight",
        left: ["auditsCompleted", "auditFindings", "rankingsPublished"].map((name) =>
          dscpMetric(name, "dscp-oversight-worker"),
        ),
        width: 8,
      }),
    );
  }
}
