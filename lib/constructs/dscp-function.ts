import { Duration, type Size, Validations } from "aws-cdk-lib";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, LoggingFormat, Runtime, SystemLogLevel, Tracing } from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import type * as z from "zod/mini";
import type { BaseEnvironment } from "../../lambdas/shared/environment.ts";
import type { StageConfig } from "../stage.ts";

/** Variables {@link DscpFunction} sets itself; callers supply the rest of the contract. */
type Supplied<E> = Omit<E, keyof BaseEnvironment>;

export interface DscpFunctionProps<S extends z.ZodMiniObject> {
  /** Path of the handler's TypeScript entry file. */
  readonly entry: string;
  /** What the function does, shown in the console and the template. */
  readonly description: string;
  /** The function's environment contract, shared with its handler. */
  readonly environmentSchema: S;
  /** The function's own variables; the base contract is filled in by the construct. */
  readonly environment: Supplied<z.input<S>>;
  readonly stage: StageConfig;
  /** Platform version reported by the function. */
  readonly version: string;
  /** Service name used by logs, metrics and traces. */
  readonly serviceName: string;
  /** @default Duration.seconds(10) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** Concurrent executions reserved for the function, and the most it may use. @default none */
  readonly reservedConcurrentExecutions?: number;
  /** Room in /tmp. @default 512 MiB */
  readonly ephemeralStorageSize?: Size;
  /**
   * Invoked only synchronously (API Gateway, an authoriser, a direct Invoke): a dead-letter
   * target, which serves asynchronous invocations, would never receive anything.
   * @default false
   */
  readonly synchronous?: boolean;
}

/** Name of the metrics namespace every DSCP function writes to. */
export const METRICS_NAMESPACE = "DSCP";

/**
 * The one way DSCP defines a Lambda function: Node.js 22 on arm64, bundled by the local esbuild
 * (ESM, minified, tree-shaken, AWS SDK from the runtime), active tracing, JSON logs into a log
 * group with the stage's retention, and an environment checked against its contract at synth.
 */
export class DscpFunction<S extends z.ZodMiniObject> extends NodejsFunction {
  constructor(scope: Construct, id: string, props: DscpFunctionProps<S>) {
    const environment = {
      DSCP_STAGE: props.stage.name,
      DSCP_VERSION: props.version,
      POWERTOOLS_SERVICE_NAME: props.serviceName,
      POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
      // Traces carry timings, not what a function answered (records, personal data, bulk).
      POWERTOOLS_TRACER_CAPTURE_RESPONSE: "false",
      ...props.environment,
    } as Record<string, string>;
    // Tokens synthesise to strings, so the schema checks names and literal values here and
    // the handler checks resolved values at run time.
    props.environmentSchema.parse(environment);

    const logGroup = new LogGroup(scope, `${id}Logs`, {
      retention: props.stage.logRetention,
      removalPolicy: props.stage.removalPolicy,
    });

    // A role of its own, instead of AWSLambdaBasicExecutionRole: it may write to its own log
    // group and nowhere else.
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: `Execution role of ${props.description}`,
    });
    role.addToPolicy(
      new PolicyStatement({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [logGroup.logGroupArn],
      }),
    );
    Validations.of(role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "Active tracing needs xray:PutTraceSegments and xray:PutTelemetryRecords, which support no resource-level permissions.",
    });

    super(scope, id, {
      role,
      entry: props.entry,
      handler: "handler",
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(10),
      ...(props.ephemeralStorageSize ? { ephemeralStorageSize: props.ephemeralStorageSize } : {}),
      ...(props.reservedConcurrentExecutions === undefined
        ? {}
        : { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      tracing: Tracing.ACTIVE,
      loggingFormat: LoggingFormat.JSON,
      systemLogLevelV2: SystemLogLevel[props.stage.systemLogLevel],
      logGroup,
      environment: { NODE_OPTIONS: "--enable-source-maps", ...environment },
      bundling: {
        format: OutputFormat.ESM,
        target: "node22",
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        mainFields: ["module", "main"],
        // Some dependencies still call require(); ESM bundles need it defined.
        banner: "import{createRequire as __dscpRequire}from'node:module';const require=__dscpRequire(import.meta.url);",
        // The nodejs22.x runtime provides the service clients; utilities are bundled.
        externalModules: ["@aws-sdk/client-*"],
        forceDockerBundling: false,
      },
    });
    if (props.synchronous) {
      Validations.of(this).acknowledge({
        id: "Serverless-LambdaDLQ",
        reason:
          "Invoked synchronously only; a dead-letter target applies to asynchronous invocations, and callers see failures directly.",
      });
    }
    Validations.of(this).acknowledge({
      id: "AwsSolutions-L1",
      reason:
        "DSCP pins nodejs22.x: the code must also run on Node.js 20 developer machines and CI; moving to a newer runtime is a deliberate upgrade.",
    });
    Validations.of(this).acknowledge({
      id: "Serverless-LambdaLatestVersion",
      reason:
        "DSCP pins nodejs22.x: the code must also run on Node.js 20 developer machines and CI; moving to a newer runtime is a deliberate upgrade.",
    });
  }
}
