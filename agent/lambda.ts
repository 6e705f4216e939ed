import { chmod, mkdir, writeFile } from "node:fs/promises";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import type { LambdaFunctionURLEvent, LambdaFunctionURLResult } from "aws-lambda";
import { parseLocalConfig } from "./config.ts";
import { type AgentNode, startAgentNode } from "./node.ts";

/*
 * The Agent Node on AWS Lambda (lib/agent-node/agent-node.ts): the same node as `dscp-agent
 * run`, started once per execution environment on loopback listeners, with each function URL
 * request handed to the listener it is for. Its key and backend secrets come from Secrets
 * Manager; a scheduled tick heartbeats and refreshes the central configuration, since timers do
 * not run while the function is idle.
 */

const KEY_DIR = "/tmp/dscp-agent";

/** What the node's secret holds: its key file, and values for the config's `env:NAME` references. */
interface NodeSecret {
  readonly key: unknown;
  readonly env?: Readonly<Record<string, string>>;
}

let running: Promise<AgentNode> | undefined;

async function start(): Promise<AgentNode> {
  const secretArn = process.env.DSCP_AGENT_SECRET_ARN;
  const configText = process.env.DSCP_AGENT_CONFIG;
  if (!secretArn || !configText) throw new Error("DSCP_AGENT_SECRET_ARN and DSCP_AGENT_CONFIG must be set");
  const { SecretString } = await new SecretsManagerClient({}).send(new GetSecretValueCommand({ SecretId: secretArn }));
  const secret = JSON.parse(SecretString ?? "{}") as NodeSecret;
  if (!secret.key)
    throw new Error(`the secret ${secretArn} holds no "key": put the file dscp-agent keygen wrote there`);
  for (const [name, value] of Object.entries(secret.env ?? {})) process.env[name] = String(value);
  await mkdir(KEY_DIR, { recursive: true, mode: 0o700 });
  const keyFile = `${KEY_DIR}/key.json`;
  await writeFile(keyFile, JSON.stringify(secret.key), { mode: 0o600 });
  await chmod(keyFile, 0o600);
  const raw = JSON.parse(configText) as Record<string, Record<string, unknown> | undefined>;
  const loopback = { host: "127.0.0.1", port: 0 };
  const config = parseLocalConfig({
    ...raw,
    platform: { ...raw.platform, keyFile },
    // TLS ends at the function URL; the listeners are loopback only.
    consumer: { ...raw.consumer, ...loopback, tls: undefined },
    provider: { ...raw.provider, ...loopback, tls: undefined },
    ops: loopback,
  });
  return startAgentNode(config);
}

/** Which listener a request is for: internal clients' exchange calls, health, or the platform's calls. */
function listenerFor(node: AgentNode, path: string): string {
  if (path.startsWith("/v1/exchange/")) return node.consumerUrl;
  if (path === "/healthz" || path === "/readyz") return node.opsUrl;
  return node.providerUrl;
}

const HOP_BY_HOP = new Set(["host", "connection", "content-length", "transfer-encoding", "keep-alive"]);

export async function handler(
  event: LambdaFunctionURLEvent | typeof import("../lib/agent-node/agent-node.ts").AGENT_TICK_EVENT,
): Promise<LambdaFunctionURLResult | undefined> {
  running ??= start().catch((error: unknown) => {
    running = undefined;
    throw error;
  });
  const node = await running;
  if ("dscpAgentTick" in event) {
    await node.central.beat();
    return undefined;
  }
  const url = `${listenerFor(node, event.rawPath)}${event.rawPath}${event.rawQueryString ? `?${event.rawQueryString}` : ""}`;
  const headers = new Headers();
  for (const [name, value] of Object.entries(event.headers ?? {})) {
    if (value !== undefined && !HOP_BY_HOP.has(name.toLowerCase())) headers.set(name, value);
  }
  if (event.cookies?.length) headers.set("cookie", event.cookies.join("; "));
  const method = event.requestContext.http.method;
  const body =
    event.body === undefined || method === "GET" || method === "HEAD"
      ? undefined
      : Buffer.from(event.body, event.isBase64Encoded ? "base64" : "utf8");
  const response = await fetch(url, { method, headers, body, redirect: "manual" });
  const answered = Buffer.from(await response.arrayBuffer());
  const responseHeaders: Record<string, string> = {};
  response.headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name)) responseHeaders[name] = value;
  });
  return {
    statusCode: response.status,
    headers: responseHeaders,
    body: answered.toString("base64"),
    isBase64Encoded: true,
  };
}
