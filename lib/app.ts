import { readFileSync } from "node:fs";
import { App, type AppProps } from "aws-cdk-lib";
import { PlatformStack } from "./platform-stack.ts";
import { isStageName, stageConfig } from "./stage.ts";

/** Version of the platform, as package.json declares it. */
export function platformVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return manifest.version;
}

/** Name of the platform stack for a stage. */
export function platformStackName(stage: string): string {
  return `Dscp-${stage}`;
}

/**
 * Builds the DSCP CDK app. The stage comes from the `dscp:stage` context
 * (`cdk deploy -c dscp:stage=prod`); account and region from the CLI's environment, never
 * from the code.
 */
export function createApp(props: AppProps = {}): { app: App; stack: PlatformStack } {
  const app = new App(props);
  const stageName = app.node.tryGetContext("dscp:stage") ?? "local";
  if (!isStageName(stageName)) {
    throw new Error(`unknown stage "${String(stageName)}": use local, dev or prod`);
  }
  const stack = new PlatformStack(app, platformStackName(stageName), {
    stage: stageConfig(stageName),
    version: platformVersion(),
    audience: app.node.tryGetContext("dscp:audience"),
    description: `DSCP: Data Sharing and Coordination Platform (${stageName})`,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  return { app, stack };
}
