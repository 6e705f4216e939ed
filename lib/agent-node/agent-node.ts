import { fileURLToPath } from "node:url";
import { Duration, RemovalPolicy, Validations } from "aws-cdk-lib";
import type { ISubnet, IVpc, SubnetSelection } from "aws-cdk-lib/aws-ec2";
import { Rule, RuleTargetInput, Schedule } from "aws-cdk-lib/aws-events";
import { LambdaFunction } from "aws-cdk-lib/aws-events-targets";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Key } from "aws-cdk-lib/aws-kms";
import {
  Architecture,
  type FunctionUrl,
  FunctionUrlAuthType,
  InvokeMode,
  LoggingFormat,
  Runtime,
  SystemLogLevel,
  Tracing,
} from "aws-cdk-lib/aws-lambda";
import { NodejsFunction, OutputFormat } from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, RetentionDays } from "aws-cdk-lib/aws-logs";
import { type ISecret, Secret } from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";

/** What the Lambda-hosted node reads at start, and what its secret must hold. */
export const AGENT_TICK_EVENT = { dscpAgentTick: true } as const;

export interface AgentNodeProps {
  /**
   * The node's local configuration (agent/config.ts, the same JSON as a node's file) without
   * any secret: listeners are chosen by the function itself; `platform.keyFile` is ignored (the
   * key comes from the secret); backend passwords are `env:NAME` references the secret fills.
   */
  readonly config: Readonly<Record<string, unknown>>;
  /**
   * A secret holding `{"key": <the key file dscp-agent keygen wrote>, "env": {"NAME": "value"}}`.
   * When absent the construct creates an empty one (encrypted with its own KMS key) for the
   * agency to fill: `aws secretsmanager put-secret-value`.
   */
  readonly secret?: ISecret;
  /** The VPC of the agency's databases, when a backend is private. */
  readonly vpc?: IVpc;
  readonly vpcSubnets?: SubnetSelection;
  /** @default 512 */
  readonly memorySize?: number;
  /** Most concurrent executions (a slow backend holds at most these). @default 20 */
  readonly reservedConcurrentExecutions?: number;
  /** How often the node heartbeats and checks its central configuration. @default 1 minute */
  readonly tickInterval?: Duration;
  /** @default one year */
  readonly logRetention?: RetentionDays;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * An agency's Agent Node hosted on AWS in the agency's own account (Art. 7.3): the node's code
 * (agent/) in one Lambda function behind a function URL, which the platform calls as the
 * system's endpoint and the agency's internal systems call for `/v1/exchange/...`. The node
 * authenticates every call itself (the platform's signed token on the provider side, per-client
 * API keys on the consumer side), so the URL needs no IAM auth. The key and backend passwords
 * stay in Secrets Manager under a key of the agency's; a schedule wakes the node to heartbeat
 * and fetch its central configuration, since a function's timers do not run between calls.
 */
export class AgentNode extends Construct {
  readonly function: NodejsFunction;
  readonly url: FunctionUrl;
  readonly secret: ISecret;

  constructor(scope: Construct, id: string, props: AgentNodeProps) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    if (props.secret) {
      this.secret = props.secret;
    } else {
      const key = new Key(this, "SecretKey", {
        description: "Encrypts the DSCP Agent Node's key and backend passwords",
        enableKeyRotation: true,
        removalPolicy,
      });
      const secret = new Secret(this, "Secret", {
        description: "DSCP Agent Node: {key: the node's private key file, env: backend secrets}",
        encryptionKey: key,
        removalPolicy,
      });
      Validations.of(secret).acknowledge({
        id: "AwsSolutions-SMG4",
        reason:
          "The node's key is rotated with `dscp-agent keygen --next` and registered with the platform before use; an automatic rotation could not register it. Backend passwords rotate with the agency's databases.",
      });
      this.secret = secret;
    }

    const logGroup = new LogGroup(this, "Logs", {
      retention: props.logRetention ?? RetentionDays.ONE_YEAR,
      removalPolicy,
    });
    const role = new Role(this, "Role", {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: "Execution role of the DSCP Agent Node",
    });
    role.addToPolicy(
      new PolicyStatement({
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [logGroup.logGroupArn],
      }),
    );
    if (props.vpc) {
      // The ENI actions of a function in a VPC support no resource-level permissions.
      role.addToPolicy(
        new PolicyStatement({
          actions: ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface"],
          resources: ["*"],
        }),
      );
    }
    Validations.of(role).acknowledge({
      id: "AwsSolutions-IAM5[Resource::*]",
      reason:
        "Active tracing (xray:PutTraceSegments, xray:PutTelemetryRecords) and, in a VPC, the network interface actions support no resource-level permissions.",
    });

    this.function = new NodejsFunction(this, "Function", {
      role,
      entry: fileURLToPath(new URL("../../agent/lambda.ts", import.meta.url)),
      handler: "handler",
      description: "DSCP Agent Node: the agency's connection point to the platform (Art. 7.3)",
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: Duration.seconds(35),
      reservedConcurrentExecutions: props.reservedConcurrentExecutions ?? 20,
      tracing: Tracing.ACTIVE,
      loggingFormat: LoggingFormat.JSON,
      systemLogLevelV2: SystemLogLevel.WARN,
      logGroup,
      ...(props.vpc
        ? { vpc: props.vpc, vpcSubnets: props.vpcSubnets ?? { subnets: props.vpc.privateSubnets as ISubnet[] } }
        : {}),
      environment: {
        NODE_OPTIONS: "--enable-source-maps",
        DSCP_AGENT_CONFIG: JSON.stringify(props.config),
        DSCP_AGENT_SECRET_ARN: this.secret.secretArn,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: "node22",
        minify: true,
        sourceMap: true,
        sourcesContent: false,
        mainFields: ["module", "main"],
        banner: "import{createRequire as __dscpRequire}from'node:module';const require=__dscpRequire(import.meta.url);",
        // pg's optional native binding is never installed: the pure JavaScript driver is used.
        externalModules: ["@aws-sdk/client-*", "pg-native"],
        forceDockerBundling: false,
      },
    });
    this.secret.grantRead(this.function);
    Validations.of(this.function).acknowledge({
      id: "AwsSolutions-L1",
      reason:
        "DSCP pins nodejs22.x: the code must also run on Node.js 20 developer machines and CI; moving to a newer runtime is a deliberate upgrade.",
    });
    Validations.of(this.function).acknowledge({
      id: "Serverless-LambdaLatestVersion",
      reason:
        "DSCP pins nodejs22.x: the code must also run on Node.js 20 developer machines and CI; moving to a newer runtime is a deliberate upgrade.",
    });
    Validations.of(this.function).acknowledge({
      id: "Serverless-LambdaDLQ",
      reason:
        "Invoked synchronously through its URL, and by the schedule's tick, which the next tick repeats: nothing asynchronous is lost.",
    });
    Validations.of(this.function).acknowledge({
      id: "Serverless-LambdaAsyncFailureDestination",
      reason:
        "Only the schedule's tick is asynchronous, and the next tick (a minute later) does the same work: a failed tick needs no destination.",
    });

    this.url = this.function.addFunctionUrl({
      // The node authenticates every call itself: the platform's signed tokens, clients' API keys.
      authType: FunctionUrlAuthType.NONE,
      invokeMode: InvokeMode.BUFFERED,
    });

    const tick = new Rule(this, "Tick", {
      description: "Wakes the DSCP Agent Node to heartbeat and fetch its central configuration",
      schedule: Schedule.rate(props.tickInterval ?? Duration.minutes(1)),
      targets: [
        new LambdaFunction(this.function, { event: RuleTargetInput.fromObject(AGENT_TICK_EVENT), retryAttempts: 0 }),
      ],
    });
    Validations.of(tick).acknowledge({
      id: "Serverless-EventBusDLQ",
      reason:
        "A tick that cannot be delivered is repeated by the next one a minute later: a dead-letter queue would only collect stale ticks.",
    });
  }
}
