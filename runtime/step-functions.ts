import "./polyfills.ts";
import { randomUUID } from "node:crypto";
import { FunctionError, type LambdaHost } from "./lambda-host.ts";

/** A state machine of the template, its definition resolved. */
export interface StateMachineDefinition {
  readonly logicalId: string;
  readonly arn: string;
  readonly name: string;
  readonly definition: AslDefinition;
}

interface AslState {
  Type: string;
  Resource?: string;
  TimeoutSeconds?: number;
  TimeoutSecondsPath?: string;
  Iterator?: AslDefinition;
  ItemProcessor?: AslDefinition;
  Branches?: AslDefinition[];
}
export interface AslDefinition {
  StartAt: string;
  States: Record<string, AslState>;
}

export type ExecutionStatus = "RUNNING" | "SUCCEEDED" | "FAILED" | "ABORTED";

export interface ExecutionRecord {
  readonly executionArn: string;
  readonly stateMachineArn: string;
  readonly name: string;
  readonly input: string;
  readonly startDate: Date;
  status: ExecutionStatus;
  stopDate?: Date;
  output?: string;
  error?: string;
  cause?: string;
  abort?: () => void;
  done: Promise<void>;
}

/**
 * Runs an AWS SDK call for `arn:aws:states:::aws-sdk:<service>:<action>` (`optimised` false) or
 * an optimised integration such as `arn:aws:states:::dynamodb:putItem` (`optimised` true);
 * the flag decides how errors are named (`DynamoDb.X` against `DynamoDB.X`), as on AWS.
 */
export type SdkCaller = (service: string, action: string, parameters: unknown, optimised: boolean) => Promise<unknown>;

/**
 * A Task without TimeoutSeconds runs for up to a year on AWS; aws-local-stepfunctions would stop
 * it after 60 s. The longest timer Node.js keeps is 2^31-1 ms (24.8 days): that stands in.
 */
const TASK_TIMEOUT_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

function withTaskTimeouts(definition: AslDefinition): AslDefinition {
  const states: Record<string, AslState> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    states[name] = {
      ...state,
      ...(state.Type === "Task" && state.TimeoutSeconds === undefined && state.TimeoutSecondsPath === undefined
        ? { TimeoutSeconds: TASK_TIMEOUT_SECONDS }
        : {}),
      ...(state.Iterator ? { Iterator: withTaskTimeouts(state.Iterator) } : {}),
      ...(state.ItemProcessor ? { ItemProcessor: withTaskTimeouts(state.ItemProcessor) } : {}),
      ...(state.Branches ? { Branches: state.Branches.map(withTaskTimeouts) } : {}),
    };
  }
  return { ...definition, States: states };
}

/** Thrown when a state machine or execution does not exist, named as Step Functions names it. */
export class StepFunctionsError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
  override get name(): string {
    return this.code;
  }
}

/**
 * Runs state machines from their template definitions with aws-local-stepfunctions: Lambda
 * tasks invoke the local functions, SDK tasks call the emulators, `states:startExecution`
 * starts a local execution. Executions are kept in memory for DescribeExecution.
 */
export class StepFunctionsEmulator {
  private readonly machines = new Map<string, StateMachineDefinition>();
  private readonly executions = new Map<string, ExecutionRecord>();
  /** State transitions by state machine logical id, as Step Functions Standard bills them. */
  private readonly transitions = new Map<string, number>();

  constructor(
    machines: readonly StateMachineDefinition[],
    private readonly lambdas: LambdaHost,
    private readonly callSdk: SdkCaller,
  ) {
    for (const machine of machines) this.machines.set(machine.arn, machine);
  }

  list(): StateMachineDefinition[] {
    return [...this.machines.values()];
  }

  find(reference: string): StateMachineDefinition | undefined {
    return (
      this.machines.get(reference) ??
      this.list().find((machine) => machine.name === reference || machine.logicalId === reference)
    );
  }

  async startExecution(stateMachineArn: string, input = "{}", name: string = randomUUID()): Promise<ExecutionRecord> {
    const machine = this.find(stateMachineArn);
    if (!machine)
      throw new StepFunctionsError("StateMachineDoesNotExist", `State Machine Does Not Exist: '${stateMachineArn}'`);
    const executionArn = `${machine.arn.replace(":stateMachine:", ":execution:")}:${name}`;
    const existing = this.executions.get(executionArn);
    if (existing) {
      // Starting the same execution again is idempotent only while it runs.
      if (existing.input === input && existing.status === "RUNNING") return existing;
      throw new StepFunctionsError("ExecutionAlreadyExists", `Execution Already Exists: '${executionArn}'`);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch {
      throw new StepFunctionsError("InvalidExecutionInput", "Invalid State Machine Execution Input: not JSON");
    }
    const { StateMachine } = await import("aws-local-stepfunctions");
    const stateMachine = new StateMachine(withTaskTimeouts(machine.definition) as never, {
      validationOptions: { checkPaths: false, checkArn: false },
    });
    const startDate = new Date();
    const execution = stateMachine.run(parsed as never, {
      overrides: { taskResourceLocalHandlers: this.taskHandlers(machine.definition) as never },
      context: {
        Execution: { Id: executionArn, Name: name, Input: parsed, StartTime: startDate.toISOString() },
        StateMachine: { Id: machine.arn, Name: machine.name },
      } as never,
    });
    const record: ExecutionRecord = {
      executionArn,
      stateMachineArn: machine.arn,
      name,
      input,
      startDate,
      status: "RUNNING",
      abort: execution.abort,
      done: Promise.resolve(),
    };
    record.done = execution.result.then(
      (output: unknown) => {
        record.status = "SUCCEEDED";
        record.output = JSON.stringify(output ?? null);
        record.stopDate = new Date();
      },
      (error: Error & { cause?: unknown }) => {
        record.status = error.name === "ExecutionAbortedError" ? "ABORTED" : "FAILED";
        const cause = error.cause as { name?: string; message?: string } | undefined;
        record.error = cause?.name ?? error.name;
        record.cause = cause?.message ?? error.message;
        record.stopDate = new Date();
      },
    );
    this.executions.set(executionArn, record);
    void this.countTransitions(machine.logicalId, execution.eventLogs);
    return record;
  }

  /**
   * State transitions counted so far, by state machine (logical id): each state entered, in Map
   * iterations and Parallel branches too, and each retry, as Step Functions Standard bills them.
   */
  stateTransitions(): Record<string, number> {
    return Object.fromEntries(this.transitions);
  }

  private async countTransitions(machine: string, events: AsyncIterable<{ readonly type: string }>): Promise<void> {
    // The library queues every event until it is read; reading them also lets the queue go.
    for await (const event of events) {
      if (event.type === "StateEntered" || event.type === "StateRetried")
        this.transitions.set(machine, (this.transitions.get(machine) ?? 0) + 1);
    }
  }

  describeExecution(executionArn: string): ExecutionRecord {
    const record = this.executions.get(executionArn);
    if (!record) throw new StepFunctionsError("ExecutionDoesNotExist", `Execution Does Not Exist: '${executionArn}'`);
    return record;
  }

  listExecutions(stateMachineArn: string): ExecutionRecord[] {
    return [...this.executions.values()].filter((record) => record.stateMachineArn === stateMachineArn);
  }

  stopExecution(executionArn: string): void {
    this.describeExecution(executionArn).abort?.();
  }

  /** Waits for every running execution (used on shutdown and by tests). */
  async settle(): Promise<void> {
    await Promise.all([...this.executions.values()].map((record) => record.done));
  }

  private taskHandlers(definition: AslDefinition): Record<string, (input: unknown) => Promise<unknown>> {
    const handlers: Record<string, (input: unknown) => Promise<unknown>> = {};
    const visit = (machine: AslDefinition) => {
      for (const [stateName, state] of Object.entries(machine.States)) {
        if (state.Type === "Task" && state.Resource) handlers[stateName] = this.taskHandler(state.Resource);
        for (const nested of [state.Iterator, state.ItemProcessor, ...(state.Branches ?? [])])
          if (nested) visit(nested);
      }
    };
    visit(definition);
    return handlers;
  }

  private taskHandler(resource: string): (input: unknown) => Promise<unknown> {
    const lambdaInvoke = async (functionName: string, payload: unknown) => {
      try {
        return await this.lambdas.invoke(functionName, payload);
      } catch (error) {
        if (error instanceof FunctionError) {
          throw Object.assign(new Error(JSON.stringify({ errorType: error.errorType, errorMessage: error.message })), {
            name: error.errorType,
          });
        }
        throw error;
      }
    };
    if (/^arn:[^:]+:lambda:/.test(resource)) return (input) => lambdaInvoke(resource, input);
    if (resource === "arn:aws:states:::lambda:invoke") {
      return async (input) => {
        const { FunctionName, Payload } = input as { FunctionName: string; Payload?: unknown };
        const result = await lambdaInvoke(FunctionName, Payload ?? {});
        return { ExecutedVersion: "$LATEST", Payload: result, StatusCode: 200 };
      };
    }
    if (resource === "arn:aws:states:::states:startExecution") {
      return async (input) => {
        const { StateMachineArn, Input, Name } = input as { StateMachineArn: string; Input?: unknown; Name?: string };
        const record = await this.startExecution(
          StateMachineArn,
          typeof Input === "string" ? Input : JSON.stringify(Input ?? {}),
          Name,
        );
        return { ExecutionArn: record.executionArn, StartDate: record.startDate.toISOString() };
      };
    }
    const sdk = /^arn:aws:states:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)$/.exec(resource);
    if (sdk?.[1] && sdk[2]) {
      const [service, action] = [sdk[1], sdk[2]];
      return (input) => this.callSdk(service, action, input, false);
    }
    const optimised = /^arn:aws:states:::(dynamodb|sqs|sns|s3):([A-Za-z0-9]+)$/.exec(resource);
    if (optimised?.[1] && optimised[2]) {
      const [service, action] = [optimised[1], optimised[2]];
      return (input) => this.callSdk(service, action, input, true);
    }
    return async () => {
      throw Object.assign(new Error(`${resource} is not emulated by the local runtime`), { name: "States.Runtime" });
    };
  }
}
