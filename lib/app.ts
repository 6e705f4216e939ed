import { readFileSync } from "node:fs";
import { App, type AppProps, Duration, type Stack, Tags } from "aws-cdk-lib";
import { ApiStack } from "./stacks/api-stack.ts";
import { DataStack } from "./stacks/data-stack.ts";
import { ExchangeStack } from "./stacks/exchange-stack.ts";
import { IdentityStack } from "./stacks/identity-stack.ts";
import { MonitoringStack } from "./stacks/monitoring-stack.ts";
import { OversightStack } from "./stacks/oversight-stack.ts";
import { RegistryStack } from "./stacks/registry-stack.ts";
import { isStageName, stageConfig } from "./stage.ts";

/** Version of the platform, as package.json declares it. */
export function platformVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return manifest.version;
}

/** The platform's stacks, in the order `cdk deploy --all` deploys them. */
export const STACK_PARTS = ["Data", "Identity", "Registry", "Oversight", "Exchange", "Api", "Monitoring"] as const;
export type StackPart = (typeof STACK_PARTS)[number];

/** Name of one of the platform's stacks for a stage, e.g. `Dscp-prod-Data`. */
export function platformStackName(stage: string, part: StackPart): string {
  return `Dscp-${stage}-${part}`;
}

/**
 * Builds the DSCP CDK app: one stack of stateful stores, then the stateless ones that use it.
 * The stage comes from the `dscp:stage` context (`cdk deploy --all -c dscp:stage=prod`); account
 * and region from the CLI's environment, never from the code.
 *
 * Data ← Identity ← Registry, Oversight, Exchange (capabilities) ← Api (methods invoking their
 * functions) ← Monitoring. The capabilities add their methods to the API, which lives in the Api
 * stack; each function's permission to be invoked is made there too, so no arrow points back.
 */
export function createApp(props: AppProps = {}): { app: App; stacks: Stack[] } {
  const app = new App(props);
  const stageName = app.node.tryGetContext("dscp:stage") ?? "local";
  if (!isStageName(stageName)) {
    throw new Error(`unknown stage "${String(stageName)}": use local, dev or prod`);
  }
  // `-c dscp:registryCacheSeconds=30 -c dscp:permissionCacheSeconds=10` runs a local stage with
  // the caches of a deployed one.
  const registryCacheSeconds = app.node.tryGetContext("dscp:registryCacheSeconds");
  const permissionCacheSeconds = app.node.tryGetContext("dscp:permissionCacheSeconds");
  const stage = {
    ...stageConfig(stageName),
    ...(registryCacheSeconds === undefined ? {} : { registryCache: Duration.seconds(Number(registryCacheSeconds)) }),
    ...(permissionCacheSeconds === undefined
      ? {}
      : { permissionCache: Duration.seconds(Number(permissionCacheSeconds)) }),
  };
  const version = platformVersion();
  const audience: string = app.node.tryGetContext("dscp:audience") ?? `urn:dscp:${stage.name}`;
  const env = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  const id = (part: StackPart) => platformStackName(stageName, part);
  const described = (what: string) => ({
    env,
    description: `DSCP: Data Sharing and Coordination Platform (${stageName}): ${what}`,
  });

  const data = new DataStack(app, id("Data"), { ...described("keys, tables, buckets, queues"), stage });
  const identity = new IdentityStack(app, id("Identity"), {
    ...described("request authoriser and operator bootstrap"),
    stage,
    version,
    data,
    audience,
  });
  const apiStack = new ApiStack(app, id("Api"), {
    ...described("REST API, WAF, request authoriser, methods"),
    stage,
    audience,
    authorizerFunction: identity.identity.authorizerFunction,
  });
  const { api, authorizer } = apiStack.platformApi;
  const capabilities = { stage, version, data, api, authorizer };
  const registry = new RegistryStack(app, id("Registry"), {
    ...described("registry, catalog, dictionary, permissions"),
    ...capabilities,
    issuer: audience,
  });
  const oversight = new OversightStack(app, id("Oversight"), {
    ...described("exchange log, audits and rankings"),
    ...capabilities,
    issuer: audience,
  });
  const exchange = new ExchangeStack(app, id("Exchange"), {
    ...described("exchange, sync, delivery, export"),
    ...capabilities,
    issuer: audience,
    log: oversight.exchangeLog,
  });
  const monitoring = new MonitoringStack(app, id("Monitoring"), {
    ...described("dashboard, alarms, alarm topic"),
    data,
    api,
    exchange,
    oversight,
  });
  const stacks = [data, identity, registry, oversight, exchange, apiStack, monitoring];
  for (const stack of stacks) Tags.of(stack).add("dscp:stage", stage.name);
  return { app, stacks };
}
