import type { IncomingMessage, ServerResponse } from "node:http";
import { sendJson } from "../http.ts";
import type { AgentMetrics } from "./metrics.ts";

/*
 * The node's operations endpoint, for its host's supervisor and Prometheus: `/healthz` (the
 * process answers), `/readyz` (configuration applied and every backend reachable: 503 with what
 * is missing otherwise) and `/metrics` (Prometheus text).
 */

export interface Readiness {
  readonly ready: boolean;
  /** Each check by name: "ok" or what is wrong. */
  readonly checks: Readonly<Record<string, string>>;
}

export interface OpsOptions {
  readonly metrics: AgentMetrics;
  readonly readiness: () => Promise<Readiness>;
  readonly version: string;
}

export function opsApi(options: OpsOptions): (request: IncomingMessage, response: ServerResponse) => void {
  return (request, response) => {
    const path = new URL(request.url ?? "/", "http://node").pathname;
    if (request.method !== "GET") return sendJson(response, 405, { error: "GET only" });
    if (path === "/healthz") return sendJson(response, 200, { status: "ok", version: options.version });
    if (path === "/metrics") {
      const text = options.metrics.render();
      response.writeHead(200, { "Content-Type": "text/plain; version=0.0.4; charset=utf-8" });
      return response.end(text);
    }
    if (path === "/readyz") {
      options.readiness().then(
        (readiness) => sendJson(response, readiness.ready ? 200 : 503, readiness),
        (error: unknown) => sendJson(response, 503, { ready: false, checks: { readiness: String(error) } }),
      );
      return;
    }
    sendJson(response, 404, { error: "no such route" });
  };
}
