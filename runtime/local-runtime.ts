import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { SQSClient } from "@aws-sdk/client-sqs";
import { type RestApiDefinition, readRestApis } from "./api-gateway.ts";
import { readAssembly, type StackArtifact, type TemplateResource } from "./assembly.ts";
import { AwsCallCounter, type AwsCallCounts, EVENT_SOURCE_CALLER, STEP_FUNCTIONS_CALLER } from "./aws-calls.ts";
import { startControlPlane } from "./control-plane.ts";
import { type Emulators, startEmulators } from "./emulators.ts";
import type { LogEcho } from "./function-output.ts";
import { startGatewayServer } from "./gateway-server.ts";
import { assignIdentities } from "./identities.ts";
import { IntrinsicResolver, type PhysicalResource, type PseudoParameters } from "./intrinsics.ts";
import { KmsEmulator, type SigningKeyDefinition } from "./kms.ts";
import { type FunctionDefinition, LambdaHost } from "./lambda-host.ts";
import { type AwsClients, emulatorClients, type ProvisionReport, provision } from "./provision.ts";
import { type SqsEventSource, startSqsPollers } from "./sqs-event-sources.ts";
import { type AslDefinition, type StateMachineDefinition, StepFunctionsEmulator } from "./step-functions.ts";

/** Resource types the runtime brings to life. */
const EMULATED = new Set([
  "AWS::DynamoDB::Table",
  "AWS::DynamoDB::GlobalTable",
  "AWS::S3::Bucket",
  "AWS::SQS::Queue",
  "AWS::Lambda::Function",
  "AWS::Lambda::EventSourceMapping",
  "AWS::StepFunctions::StateMachine",
  "AWS::Events::Rule",
  "AWS::ApiGateway::RestApi",
  "AWS::ApiGateway::Resource",
  "AWS::ApiGateway::Method",
  "AWS::ApiGateway::Stage",
  "AWS::ApiGateway::Deployment",
  "AWS::ApiGateway::Authorizer",
  "AWS::ApiGateway::GatewayResponse",
]);

/** Why types the runtime skips are safe to skip, printed at start. */
const NOT_EMULATED_BECAUSE: Record<string, string> = {
  "AWS::IAM::Role": "IAM is not enforced locally: every function may call every emulator",
  "AWS::IAM::Policy": "IAM is not enforced locally",
  "AWS::KMS::Key": "symmetric keys are not emulated: no encryption at rest locally (asymmetric signing keys are)",
  "AWS::Logs::LogGroup": "function logs go to the data folder's logs/",
  "AWS::Lambda::Permission": "API Gateway and rules may invoke any function locally",
  "AWS::S3::BucketPolicy": "bucket policies (TLS-only) are not enforced locally",
  "AWS::SQS::QueuePolicy": "queue policies are not enforced locally",
  "AWS::ApiGateway::Account": "account-level settings have no local effect",
  "AWS::WAFv2::WebACL": "no WAF locally",
  "AWS::WAFv2::WebACLAssociation": "no WAF locally",
  "AWS::CloudWatch::Alarm":
    "CloudWatch is not emulated: metrics stay in the function logs (EMF); alarms act on AWS and LocalStack",
  "AWS::CloudWatch::Dashboard": "CloudWatch is not emulated: the dashboard exists on AWS and LocalStack",
  "AWS::SNS::Topic": "alarm notifications: CloudWatch alarms do not run locally, so nothing publishes",
  "AWS::SNS::TopicPolicy": "topic policies (TLS-only) are not enforced locally",
  "AWS::CDK::Metadata": "CDK bookkeeping",
};

export interface LocalRuntimeOptions {
  /** The cloud assembly folder `cdk synth` wrote (e.g. `cdk.out`). */
  readonly assemblyDir: string;
  /** Folder for emulator data and logs; kept across restarts. */
  readonly dataDir: string;
  /** Drop all local state before starting. */
  readonly fresh?: boolean;
  /** Port for the API gateway. @default 0 (ephemeral) */
  readonly apiPort?: number;
  /** What of the functions' logs to copy to stderr. @default "none" */
  readonly echoLogs?: LogEcho;
  /** Execution environments each function may run at once (Lambda scales far higher). @default 4 */
  readonly maxConcurrency?: number;
  /** @default AWS_REGION or us-east-1 */
  readonly region?: string;
  /** Where start-up notes and warnings go. @default nowhere */
  readonly log?: (message: string) => void;
}

/** Emulator and runtime endpoints, as SDK clients need them. */
export interface RuntimeEndpoints {
  readonly dynamodb: string;
  readonly s3: string;
  readonly sqs: string;
  readonly stepfunctions: string;
  readonly lambda: string;
  readonly kms: string;
  readonly apiGateway: string;
}

export interface LocalRuntime {
  /** Outputs per stack, as `cdk deploy --outputs-file` writes them, with local URLs. */
  readonly outputs: Record<string, Record<string, string>>;
  readonly endpoints: RuntimeEndpoints;
  readonly region: string;
  readonly accountId: string;
  /** Base URL of each REST API stage, keyed `<stack>/<api logical id>/<stage>`. */
  readonly apiUrls: Record<string, string>;
  /** Resource types present in the templates but not emulated, with the reason. */
  readonly notEmulated: Record<string, string>;
  /** Settings the emulators do not honour (TTL, streams...). */
  readonly gaps: readonly string[];
  readonly lambdas: LambdaHost;
  readonly stepFunctions: StepFunctionsEmulator;
  readonly clients: AwsClients;
  /**
   * A resource's local identity, by stack and construct path (`Work/Resource`, as in the
   * template's `aws:cdk:path` metadata) or logical id.
   */
  resource(stackName: string, pathOrLogicalId: string): PhysicalResource;
  /**
   * The AWS calls the emulators and the runtime's own APIs have received since start, per caller
   * (a function's logical id, `lambda-event-source` for SQS event source mappings, `runtime`
   * for the rest) and `service:Operation`.
   */
  awsCalls(): AwsCallCounts;
  /** Fires a scheduled rule now (by logical id or name); returns each target's result. */
  runRule(reference: string): Promise<unknown[]>;
  stop(): Promise<void>;
}

const ACCOUNT_ID = "000000000000";

interface LoadedStack {
  readonly artifact: StackArtifact;
  readonly resolver: IntrinsicResolver;
  readonly identities: Map<string, PhysicalResource>;
  readonly resources: Array<[string, TemplateResource]>;
}

/**
 * Runs a synthesized CDK app on this machine: emulators for DynamoDB, S3 and SQS, every
 * function's bundled code, the REST APIs with their authorisers, SQS event sources, state
 * machines and scheduled rules, all read from the cloud assembly. Nothing is listed twice:
 * the template is the only source.
 */
export async function startLocalRuntime(options: LocalRuntimeOptions): Promise<LocalRuntime> {
  const log = options.log ?? (() => {});
  // The runtime's own SDK clients run on Node.js 20 by design; see the functions' environment.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";
  const region = options.region ?? process.env.AWS_REGION ?? "us-east-1";
  if (options.fresh) rmSync(options.dataDir, { recursive: true, force: true });
  const logDir = join(options.dataDir, "logs");
  mkdirSync(logDir, { recursive: true });

  const stacks = readAssembly(options.assemblyDir);
  // Entry points (API, control plane) close first so nothing new starts while the rest
  // (pollers, executions, functions, emulators) winds down in reverse order of start.
  const entryPoints: Array<() => Promise<void>> = [];
  const stoppers: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const stopper of [...entryPoints.splice(0).reverse(), ...stoppers.splice(0).reverse()]) {
      await stopper().catch(() => {});
    }
  };
  try {
    const calls = new AwsCallCounter();
    const emulators: Emulators = await startEmulators({ dataDir: options.dataDir, region, calls });
    stoppers.push(() => emulators.stop());
    const clients = emulatorClients(emulators, region);

    let lambdas: LambdaHost | undefined;
    let stepFunctions: StepFunctionsEmulator | undefined;
    let kms: KmsEmulator | undefined;
    const signingKeys: SigningKeyDefinition[] = [];
    const rules = new Map<string, Array<{ arn: string; input?: string }>>();
    const runRule = async (reference: string) => {
      const targets = rules.get(reference);
      if (!targets) throw new Error(`no scheduled rule ${reference}`);
      return Promise.all(
        targets.map(async (target) => {
          const event = target.input
            ? JSON.parse(target.input)
            : {
                version: "0",
                id: crypto.randomUUID(),
                "detail-type": "Scheduled Event",
                source: "aws.events",
                account: ACCOUNT_ID,
                time: new Date().toISOString(),
                region,
                resources: [reference],
                detail: {},
              };
          if (target.arn.includes(":states:")) {
            const record = await (stepFunctions as StepFunctionsEmulator).startExecution(
              target.arn,
              JSON.stringify(event),
            );
            await record.done;
            return { executionArn: record.executionArn, status: record.status, output: record.output };
          }
          return (lambdas as LambdaHost).invoke(target.arn, event);
        }),
      );
    };
    const control = await startControlPlane({
      lambdas: () => lambdas as LambdaHost,
      stepFunctions: () => stepFunctions as StepFunctionsEmulator,
      kms: () => kms as KmsEmulator,
      runRule,
      calls,
    });
    entryPoints.push(() => control.stop());

    const notEmulated: Record<string, string> = {};
    const gaps: string[] = [];
    const exportsByName = new Map<string, unknown>();
    const queuesByArn = new Map<string, PhysicalResource>();
    const loaded: LoadedStack[] = [];
    const outputsRaw: Record<string, Record<string, unknown>> = {};
    const apis: Array<RestApiDefinition & { stackName: string }> = [];
    const functions: FunctionDefinition[] = [];
    const machines: StateMachineDefinition[] = [];
    const eventSources: SqsEventSource[] = [];

    for (const artifact of stacks) {
      const pseudo: PseudoParameters = { region, accountId: ACCOUNT_ID, stackName: artifact.stackName };
      const identities = assignIdentities(artifact.template.Resources, pseudo);
      const resolver = new IntrinsicResolver(artifact.template, pseudo, identities, exportsByName);
      const resources = dependencyOrder(artifact.template.Resources).filter(
        ([, resource]) => !resource.Condition || resolver.condition(resource.Condition),
      );
      loaded.push({ artifact, resolver, identities, resources });

      for (const [logicalId, resource] of resources) {
        if (resource.Type === "AWS::KMS::Key" && resource.Properties?.KeyUsage === "SIGN_VERIFY") {
          const identity = identities.get(logicalId) as PhysicalResource;
          signingKeys.push({
            keyId: identity.ref,
            arn: String(identity.attributes.Arn),
            keySpec: String(resource.Properties.KeySpec ?? "SYMMETRIC_DEFAULT"),
          });
          continue;
        }
        if (EMULATED.has(resource.Type)) continue;
        notEmulated[resource.Type] =
          NOT_EMULATED_BECAUSE[resource.Type] ??
          (resource.Type.startsWith("Custom::") || resource.Type === "AWS::CloudFormation::CustomResource"
            ? "custom resources do not run locally"
            : "not emulated; Ref and GetAtt resolve to placeholders");
      }

      const report: ProvisionReport = await provision(resources, identities, resolver, clients, log);
      gaps.push(...report.gaps);
      for (const identity of identities.values()) {
        if (identity.type === "AWS::SQS::Queue") queuesByArn.set(String(identity.attributes.Arn), identity);
      }

      for (const [logicalId, resource] of resources) {
        const identity = identities.get(logicalId) as PhysicalResource;
        const props = () => (resolver.resolve(resource.Properties ?? {}) ?? {}) as Record<string, unknown>;
        switch (resource.Type) {
          case "AWS::Lambda::Function": {
            const p = props();
            const code = p.Code as { S3Key?: string; ZipFile?: string } | undefined;
            const codeDir = code?.S3Key ? artifact.assets.get(code.S3Key) : undefined;
            if (!codeDir) {
              notEmulated[`AWS::Lambda::Function (${logicalId})`] = "code is not a staged asset (inline or image)";
              break;
            }
            const variables = (p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
            functions.push({
              logicalId,
              name: identity.ref,
              arn: String(identity.attributes.Arn),
              codeDir,
              handler: String(p.Handler ?? "index.handler"),
              runtime: String(p.Runtime ?? "nodejs22.x"),
              timeoutSeconds: Number(p.Timeout ?? 3),
              memorySize: Number(p.MemorySize ?? 128),
              environment: Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, String(value)])),
            });
            if (p.Runtime && !String(p.Runtime).startsWith("nodejs")) {
              gaps.push(`function ${logicalId}: runtime ${String(p.Runtime)} runs under this machine's Node.js`);
            }
            break;
          }
          case "AWS::StepFunctions::StateMachine": {
            const p = props();
            let text = typeof p.DefinitionString === "string" ? p.DefinitionString : JSON.stringify(p.Definition ?? {});
            for (const [key, value] of Object.entries((p.DefinitionSubstitutions ?? {}) as Record<string, unknown>)) {
              text = text.split(`\${${key}}`).join(String(value));
            }
            machines.push({
              logicalId,
              arn: identity.ref,
              name: String(identity.attributes.Name),
              definition: JSON.parse(text) as AslDefinition,
            });
            break;
          }
          case "AWS::Lambda::EventSourceMapping": {
            const p = props();
            const queueArn = String(p.EventSourceArn ?? "");
            // The queue may be another stack's (imported by ARN): look in every stack loaded so far.
            const queue = queuesByArn.get(queueArn);
            if (!queue) {
              notEmulated[`AWS::Lambda::EventSourceMapping (${logicalId})`] = "only SQS event sources are emulated";
              break;
            }
            if (p.FilterCriteria)
              gaps.push(`event source ${logicalId}: FilterCriteria ignored, every message is delivered`);
            const scaling = p.ScalingConfig as { MaximumConcurrency?: number } | undefined;
            eventSources.push({
              logicalId,
              queueArn,
              queueUrl: queue.ref,
              functionName: String(p.FunctionName),
              batchSize: Number(p.BatchSize ?? 10),
              batchingWindowSeconds: Number(p.MaximumBatchingWindowInSeconds ?? 0),
              reportBatchItemFailures: ((p.FunctionResponseTypes as string[] | undefined) ?? []).includes(
                "ReportBatchItemFailures",
              ),
              concurrency: Math.min(4, Math.max(1, Math.ceil((scaling?.MaximumConcurrency ?? 2) / 2))),
              enabled: p.Enabled !== false,
            });
            break;
          }
          case "AWS::Events::Rule": {
            const p = props();
            if (!p.ScheduleExpression) {
              notEmulated[`AWS::Events::Rule (${logicalId})`] = "event-pattern rules are not emulated";
              break;
            }
            const targets = ((p.Targets as Array<{ Arn: string; Input?: string }> | undefined) ?? []).map((target) => ({
              arn: target.Arn,
              ...(target.Input ? { input: target.Input } : {}),
            }));
            rules.set(logicalId, targets);
            rules.set(identity.ref, targets);
            break;
          }
        }
      }

      for (const api of readRestApis(Object.fromEntries(resources), identities, resolver)) {
        apis.push({ ...api, stackName: artifact.stackName });
      }

      const outputs: Record<string, unknown> = {};
      for (const [key, output] of Object.entries(artifact.template.Outputs ?? {})) {
        if (output.Condition && !resolver.condition(output.Condition)) continue;
        const value = resolver.resolve(output.Value);
        outputs[key] = value;
        if (output.Export) exportsByName.set(resolver.resolveString(output.Export.Name), value);
      }
      outputsRaw[artifact.stackName] = outputs;
    }

    kms = new KmsEmulator(signingKeys, join(options.dataDir, "kms"));
    const restored = emulators.restoreQueuedMessages();
    if (restored > 0) log(`restored ${restored} queued message(s) from the last run`);

    const gateway = await startGatewayServer({
      apis,
      lambdas: {
        invoke: (reference: string, event: unknown) => (lambdas as LambdaHost).invoke(reference, event),
      } as LambdaHost,
      region,
      accountId: ACCOUNT_ID,
      accessLogFile: join(logDir, "api-access.log"),
      ...(options.apiPort !== undefined ? { port: options.apiPort } : {}),
      warn: log,
    });
    entryPoints.push(() => gateway.stop());

    // API URLs in templates name AWS hosts; locally they become the gateway's URLs.
    const localize = (value: string) =>
      value.replace(
        /https:\/\/([a-z0-9]+)\.execute-api\.[a-z0-9-]+\.amazonaws\.com\//g,
        (_match, apiId: string) => `${gateway.url}/_aws/execute-api/${apiId}/`,
      );

    const endpoints: RuntimeEndpoints = {
      dynamodb: emulators.dynamodb,
      s3: emulators.s3,
      sqs: emulators.sqs,
      stepfunctions: control.url,
      lambda: control.url,
      kms: control.url,
      apiGateway: gateway.url,
    };
    lambdas = new LambdaHost({
      logDir,
      echoLogs: options.echoLogs ?? "none",
      ...(options.maxConcurrency ? { maxConcurrency: options.maxConcurrency } : {}),
      baseEnvironment: {
        AWS_REGION: region,
        AWS_DEFAULT_REGION: region,
        AWS_ACCESS_KEY_ID: "local",
        AWS_SECRET_ACCESS_KEY: "local",
        AWS_SESSION_TOKEN: "local",
        AWS_ENDPOINT_URL_DYNAMODB: endpoints.dynamodb,
        AWS_ENDPOINT_URL_S3: endpoints.s3,
        AWS_ENDPOINT_URL_SQS: endpoints.sqs,
        AWS_ENDPOINT_URL_SFN: endpoints.stepfunctions,
        AWS_ENDPOINT_URL_LAMBDA: endpoints.lambda,
        AWS_ENDPOINT_URL_KMS: endpoints.kms,
        // Functions run on this machine's Node.js 20 by design (Lambda runs 22); the SDK's
        // notice about Node.js 20 support says nothing new here.
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      },
    });
    stoppers.push(() => (lambdas as LambdaHost).stop());
    for (const definition of functions) {
      const environment: Record<string, string> = {};
      for (const [key, value] of Object.entries(definition.environment)) environment[key] = localize(value);
      lambdas.register({ ...definition, environment });
    }

    // State machines' SDK tasks call with their own clients, so their calls count as Step Functions'.
    const stepFunctionsClients = emulatorClients(emulators, region, STEP_FUNCTIONS_CALLER);
    stepFunctions = new StepFunctionsEmulator(machines, lambdas, sdkCaller(stepFunctionsClients));
    stoppers.push(async () => {
      for (const machine of (stepFunctions as StepFunctionsEmulator).list()) {
        for (const record of (stepFunctions as StepFunctionsEmulator).listExecutions(machine.arn)) record.abort?.();
      }
      for (const client of Object.values(stepFunctionsClients)) client.destroy();
    });
    // The pollers' own client names itself, so their calls count as the event source mappings'.
    const pollerSqs = new SQSClient({
      endpoint: emulators.sqs,
      region,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
      userAgentAppId: EVENT_SOURCE_CALLER,
    });
    const pollers = startSqsPollers(eventSources, { sqs: pollerSqs, lambdas, region, warn: log });
    stoppers.push(async () => {
      await pollers.stop();
      pollerSqs.destroy();
    });

    const outputs: Record<string, Record<string, string>> = {};
    for (const [stackName, values] of Object.entries(outputsRaw)) {
      outputs[stackName] = Object.fromEntries(
        Object.entries(values).map(([key, value]) => [
          key,
          localize(typeof value === "string" ? value : JSON.stringify(value)),
        ]),
      );
    }
    const apiUrls: Record<string, string> = {};
    for (const api of apis) {
      for (const stage of api.stages.keys())
        apiUrls[`${api.stackName}/${api.logicalId}/${stage}`] = gateway.stageUrl(api.id, stage);
    }

    const byPath = new Map<string, PhysicalResource>();
    for (const stack of loaded) {
      for (const [logicalId, resource] of stack.resources) {
        const identity = stack.identities.get(logicalId) as PhysicalResource;
        byPath.set(`${stack.artifact.stackName}\u0000${logicalId}`, identity);
        const path = resource.Metadata?.["aws:cdk:path"];
        if (typeof path === "string")
          byPath.set(`${stack.artifact.stackName}\u0000${path.slice(path.indexOf("/") + 1)}`, identity);
      }
    }
    const resource = (stackName: string, pathOrLogicalId: string) => {
      const found = byPath.get(`${stackName}\u0000${pathOrLogicalId}`);
      if (!found) throw new Error(`no resource ${pathOrLogicalId} in stack ${stackName}`);
      return found;
    };

    for (const [type, reason] of Object.entries(notEmulated).sort()) log(`not emulated: ${type}: ${reason}`);
    for (const gap of gaps) log(`fidelity gap: ${gap}`);

    return {
      outputs,
      endpoints,
      region,
      accountId: ACCOUNT_ID,
      apiUrls,
      notEmulated,
      gaps,
      lambdas,
      stepFunctions,
      clients,
      resource,
      awsCalls: () => calls.snapshot(),
      runRule,
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** Resources ordered so that each comes after everything it references. */
export function dependencyOrder(
  resources: Readonly<Record<string, TemplateResource>>,
): Array<[string, TemplateResource]> {
  const ordered: Array<[string, TemplateResource]> = [];
  const state = new Map<string, "visiting" | "done">();
  const visit = (logicalId: string) => {
    const resource = resources[logicalId];
    if (!resource || state.has(logicalId)) return;
    state.set(logicalId, "visiting");
    const references = new Set<string>([resource.DependsOn ?? []].flat());
    collectReferences(resource.Properties, references);
    for (const reference of references) if (reference !== logicalId) visit(reference);
    state.set(logicalId, "done");
    ordered.push([logicalId, resource]);
  };
  for (const logicalId of Object.keys(resources)) visit(logicalId);
  return ordered;
}

function collectReferences(value: unknown, into: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) collectReferences(item, into);
    return;
  }
  if (value === null || typeof value !== "object") return;
  for (const [key, item] of Object.entries(value)) {
    if (key === "Ref" && typeof item === "string") into.add(item);
    else if (key === "Fn::GetAtt") into.add(Array.isArray(item) ? String(item[0]) : (String(item).split(".")[0] ?? ""));
    else if (key === "Fn::Sub") {
      const text = Array.isArray(item) ? String(item[0]) : String(item);
      for (const match of text.matchAll(/\$\{([^}.!]+)/g)) if (match[1]) into.add(match[1]);
      if (Array.isArray(item)) collectReferences(item[1], into);
    } else collectReferences(item, into);
  }
}

const SDK_CLIENTS: Record<string, keyof AwsClients> = { dynamodb: "dynamodb", s3: "s3", sqs: "sqs" };

/** How Step Functions prefixes service errors: by service, for optimised and SDK integrations. */
const ERROR_PREFIXES: Record<string, { optimised: string; sdk: string }> = {
  dynamodb: { optimised: "DynamoDB", sdk: "DynamoDb" },
  sqs: { optimised: "SQS", sdk: "Sqs" },
  s3: { optimised: "S3", sdk: "S3" },
};

/** Calls `<Action>Command` of an emulated service's SDK client with the task's parameters. */
function sdkCaller(clients: AwsClients) {
  return async (service: string, action: string, parameters: unknown, optimised: boolean): Promise<unknown> => {
    const clientKey = SDK_CLIENTS[service];
    if (!clientKey) {
      throw Object.assign(new Error(`${service} SDK integrations are not emulated`), { name: "States.Runtime" });
    }
    const module = (await import(`@aws-sdk/client-${service}`)) as Record<string, unknown>;
    const commandName = `${action.charAt(0).toUpperCase()}${action.slice(1)}Command`;
    const Command = module[commandName] as (new (input: unknown) => never) | undefined;
    if (!Command) throw Object.assign(new Error(`unknown ${service} action ${action}`), { name: "States.Runtime" });
    try {
      const client = clients[clientKey] as { send(command: unknown): Promise<unknown> };
      const { $metadata: _metadata, ...output } = (await client.send(new Command(parameters))) as Record<
        string,
        unknown
      >;
      return output;
    } catch (error) {
      const prefixes = ERROR_PREFIXES[service];
      const prefix = prefixes ? (optimised ? prefixes.optimised : prefixes.sdk) : service;
      throw Object.assign(new Error((error as Error).message), { name: `${prefix}.${(error as Error).name}` });
    }
  };
}
