import { readFileSync } from "node:fs";
import { App, CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { AgentNode, type AgentNodeProps } from "./agent-node.ts";

export interface AgentNodeStackProps extends StackProps, Pick<AgentNodeProps, "config"> {}

/** One agency's Agent Node, in the agency's own account: `npx cdk deploy --app "npx tsx bin/agent-node.ts" -c agent:config=agent.json`. */
export class AgentNodeStack extends Stack {
  readonly agentNode: AgentNode;

  constructor(scope: Construct, id: string, props: AgentNodeStackProps) {
    super(scope, id, props);
    this.agentNode = new AgentNode(this, "AgentNode", { config: props.config });
    new CfnOutput(this, "AgentNodeUrl", {
      value: this.agentNode.url.url,
      description: "The node's URL: register it as the system's endpoint; internal clients call /v1/exchange/... on it",
    });
    new CfnOutput(this, "AgentNodeSecretArn", {
      value: this.agentNode.secret.secretArn,
      description: 'Put {"key": <the file dscp-agent keygen wrote>, "env": {...backend secrets}} here',
    });
  }
}

/** The CDK app: the node's local configuration file comes from `-c agent:config=<file>`. */
export function createAgentNodeApp(props: { outdir?: string; context?: Record<string, unknown> } = {}): {
  app: App;
  stack: AgentNodeStack;
} {
  const app = new App(props);
  const file = app.node.tryGetContext("agent:config");
  if (typeof file !== "string") throw new Error("pass the node's configuration file: -c agent:config=agent.json");
  const config = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  const systemId = String((config.platform as { systemId?: unknown } | undefined)?.systemId ?? "node");
  const stack = new AgentNodeStack(app, `DscpAgentNode-${systemId.replace(/[^A-Za-z0-9-]/g, "-")}`, {
    config,
    description: `DSCP Agent Node of ${systemId}`,
    env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION },
  });
  return { app, stack };
}
