import { type CfnElement, type Duration, Stack, Validations } from "aws-cdk-lib";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup } from "aws-cdk-lib/aws-logs";
import { DefinitionBody, type IChainable, LogLevel, StateMachine } from "aws-cdk-lib/aws-stepfunctions";
import type { Construct } from "constructs";
import type { StageConfig } from "../stage.ts";

/**
 * A state machine whose tasks invoke one DSCP function: traced, every state logged (without
 * execution data) to its own log group, with the two cdk-nag findings such a role always has
 * acknowledged and explained.
 */
export function taskStateMachine(
  scope: Construct,
  ids: { readonly machine: string; readonly logs: string },
  props: {
    readonly definition: IChainable;
    readonly tasks: IFunction;
    readonly timeout: Duration;
    readonly stage: StageConfig;
  },
): StateMachine {
  const logGroup = new LogGroup(scope, ids.logs, {
    retention: props.stage.logRetention,
    removalPolicy: props.stage.removalPolicy,
  });
  const machine = new StateMachine(scope, ids.machine, {
    definitionBody: DefinitionBody.fromChainable(props.definition),
    timeout: props.timeout,
    tracingEnabled: true,
    logs: { destination: logGroup, level: LogLevel.ALL, includeExecutionData: false },
  });
  const functionId = Stack.of(scope).getLogicalId(props.tasks.node.defaultChild as CfnElement);
  Validations.of(machine.role).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${functionId}.Arn>:*]`,
    reason: "CDK's Lambda task grant covers the function's versions and aliases (<arn>:*); it is one function.",
  });
  Validations.of(machine.role).acknowledge({
    id: "AwsSolutions-IAM5[Resource::*]",
    reason:
      "Tracing (xray:PutTraceSegments, PutTelemetryRecords, GetSampling*) and log delivery (logs:CreateLogDelivery and friends) support no resource-level permissions.",
  });
  return machine;
}
