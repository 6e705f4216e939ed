import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { agentNodeRoutes } from "../api/agent-nodes.ts";
import { platformKeyRoutes } from "../api/platform.ts";
import { fillPath, pathOf } from "../api/route.ts";
import { syncRoutes } from "../api/sync.ts";
import { type SigningIdentity, signRequest } from "../client/sign.ts";
import type { AgentConfig } from "../domain/agent/config.ts";

/*
 * Every call the node makes to the platform, signed with the node's key: exchange calls it
 * forwards for internal clients, and the node's own (central configuration, heartbeat; Contract 2).
 * Connections are kept alive and reused, so a forwarded call costs one request, not a handshake.
 */

/** The platform could not be reached, or did not answer in time. */
export class PlatformUnavailableError extends Error {
  override readonly name = "PlatformUnavailableError";
  constructor(
    readonly timedOut: boolean,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/** A call to sign and send. */
export interface PlatformRequest {
  readonly method: string;
  /** Path below the API's base URL, encoded, e.g. `/v1/exchange/MPS.POPULATION.CITIZENS/query`. */
  readonly path: string;
  readonly query?: ReadonlyArray<readonly [string, string]>;
  readonly body?: Buffer | string;
  readonly endUser?: string;
  readonly caseRef?: string;
  readonly headers?: Readonly<Record<string, string>>;
  /** @default the client's timeout */
  readonly timeoutMs?: number;
}

export interface PlatformResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Contract 2: what `GET /v1/systems/{systemId}/agent-config` answers. */
export interface AgentConfigResponse {
  readonly systemId: string;
  readonly revision: number;
  readonly config: AgentConfig;
  readonly updatedAt: string;
  /** Compact JWS the platform signed (typ `dscp-agent-config+jwt`); only its `cfg` is applied. */
  readonly signed: string;
}

/** Contract 2: body of `POST /v1/systems/{systemId}/heartbeat`. */
export interface Heartbeat {
  readonly version: string;
  readonly configRevision: number;
  readonly health: "ok" | "degraded" | "failing";
  readonly startedAt: string;
  readonly detail?: string;
}

export interface PlatformClientOptions {
  /** Base URL of the API stage. */
  readonly apiUrl: string;
  /** The platform's audience: `aud` of the node's tokens. */
  readonly audience: string;
  /** Who signs: read on every call, so a rotated key takes effect at once. */
  readonly identity: () => SigningIdentity;
  /** @default 30000 */
  readonly timeoutMs?: number;
  /** Sockets kept per platform host. @default 64 */
  readonly maxSockets?: number;
}

/** The platform's routes for nodes (api/agent-nodes.ts), as a node's paths. */
export const NODE_ROUTES = {
  agentConfig: (systemId: string) => pathOf(agentNodeRoutes.getAgentConfig, { systemId }),
  heartbeat: (systemId: string) => pathOf(agentNodeRoutes.sendHeartbeat, { systemId }),
} as const;

export class PlatformClient {
  private readonly base: URL;
  private readonly agent: HttpAgent;
  private readonly timeoutMs: number;

  constructor(private readonly options: PlatformClientOptions) {
    this.base = new URL(options.apiUrl.endsWith("/") ? options.apiUrl : `${options.apiUrl}/`);
    const agentOptions = { keepAlive: true, maxSockets: options.maxSockets ?? 64, keepAliveMsecs: 10_000 };
    this.agent = this.base.protocol === "https:" ? new HttpsAgent(agentOptions) : new HttpAgent(agentOptions);
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Where the platform publishes the key set its calls and configurations are verified with. */
  get keySetUrl(): URL {
    return this.urlOf(platformKeyRoutes.getPlatformKeys.path);
  }

  /** Signs and sends one call; any answer is returned, problems included. Throws {@link PlatformUnavailableError}. */
  async send(call: PlatformRequest): Promise<PlatformResponse> {
    const query = call.query ?? [];
    const token = await signRequest(
      this.options.identity(),
      this.options.audience,
      { method: call.method, path: call.path, query, ...(call.body !== undefined ? { body: call.body } : {}) },
      {
        ...(call.endUser !== undefined ? { endUser: call.endUser } : {}),
        ...(call.caseRef !== undefined ? { caseRef: call.caseRef } : {}),
      },
    );
    const url = this.urlOf(call.path);
    for (const [name, value] of query) url.searchParams.append(name, value);
    const headers: Record<string, string> = {
      Accept: "application/json, application/problem+json",
      ...call.headers,
      Authorization: `Bearer ${token}`,
    };
    if (call.body !== undefined) {
      headers["Content-Type"] ??= "application/json";
      headers["Content-Length"] = String(Buffer.byteLength(call.body));
    }
    return this.exchange(url, call.method, headers, call.body, call.timeoutMs ?? this.timeoutMs);
  }

  /** The node's central configuration: 304 when `revision` is current, 404 when none was ever set. */
  async fetchAgentConfig(
    systemId: string,
    revision?: number,
  ): Promise<{ status: 200; value: AgentConfigResponse } | { status: 304 | 404 }> {
    const response = await this.send({
      method: "GET",
      path: NODE_ROUTES.agentConfig(systemId),
      ...(revision ? { headers: { "If-None-Match": `"${revision}"` } } : {}),
    });
    if (response.status === 304 || response.status === 404) return { status: response.status };
    if (response.status !== 200) throw unexpected("agent-config", response);
    return { status: 200, value: JSON.parse(response.body.toString("utf8")) as AgentConfigResponse };
  }

  /** Reports the node's state; the platform answers with the current configuration revision and release. */
  async heartbeat(systemId: string, beat: Heartbeat): Promise<{ configRevision: number; release: string }> {
    const response = await this.send({
      method: "POST",
      path: NODE_ROUTES.heartbeat(systemId),
      body: JSON.stringify(beat),
    });
    if (response.status !== 200) throw unexpected("heartbeat", response);
    return JSON.parse(response.body.toString("utf8")) as { configRevision: number; release: string };
  }

  /**
   * Submits a sync batch for a published dataset (Contract 4's `submit`): idempotent by `batchId`,
   * so a publisher that crashed after sending sends the same batch again and changes nothing.
   */
  async submitSyncBatch(
    datasetId: string,
    operations: readonly unknown[],
    batchId: string,
    mode: "incremental" | "full" = "incremental",
  ): Promise<{ batchId: string }> {
    const response = await this.send({
      method: syncRoutes.submitBatch.method,
      path: fillPath(syncRoutes.submitBatch.path, { datasetId }),
      body: JSON.stringify({ batchId, mode, operations }),
    });
    if (response.status !== 200 && response.status !== 202) throw unexpected("sync batch", response);
    return { batchId: (JSON.parse(response.body.toString("utf8")) as { batchId: string }).batchId };
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.agent.destroy();
  }

  private urlOf(path: string): URL {
    return new URL(path.replace(/^\//, ""), this.base);
  }

  private exchange(
    url: URL,
    method: string,
    headers: Record<string, string>,
    body: Buffer | string | undefined,
    timeoutMs: number,
  ): Promise<PlatformResponse> {
    const send = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolve, reject) => {
      const request = send(url, { method, headers, agent: this.agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () => {
          clearTimeout(timer);
          resolve({ status: response.statusCode ?? 502, headers: response.headers, body: Buffer.concat(chunks) });
        });
        response.on("error", (error) => {
          clearTimeout(timer);
          reject(
            new PlatformUnavailableError(false, `the platform's answer broke off: ${error.message}`, { cause: error }),
          );
        });
      });
      const timer = setTimeout(() => {
        request.destroy(new PlatformUnavailableError(true, `the platform did not answer within ${timeoutMs} ms`));
      }, timeoutMs);
      request.on("error", (error) => {
        clearTimeout(timer);
        reject(
          error instanceof PlatformUnavailableError
            ? error
            : new PlatformUnavailableError(false, `the platform could not be reached: ${error.message}`, {
                cause: error,
              }),
        );
      });
      request.end(body);
    });
  }
}

/** A node route answered something Contract 2 does not say. */
export class PlatformAnswerError extends Error {
  override readonly name = "PlatformAnswerError";
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function unexpected(what: string, response: PlatformResponse): PlatformAnswerError {
  const detail = response.body.toString("utf8").slice(0, 300);
  return new PlatformAnswerError(response.status, `${what}: the platform answered ${response.status} ${detail}`);
}

/**
 * Exponential backoff with full jitter: a random delay up to `baseMs · 2^(attempt-1)`, capped at
 * `maxMs`, so nodes that lost the platform together do not return together.
 */
export function backoffDelay(
  attempt: number,
  options: { baseMs?: number; maxMs?: number } = {},
  random: () => number = Math.random,
): number {
  const base = options.baseMs ?? 1000;
  const ceiling = Math.min(options.maxMs ?? 60_000, base * 2 ** Math.max(0, attempt - 1));
  return Math.max(base / 2, Math.round(random() * ceiling));
}
