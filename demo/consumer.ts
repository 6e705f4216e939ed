import { createServer, type Server } from "node:http";
import { createRemoteJWKSet } from "jose";
import type { DeliveredRecord } from "../domain/delivery/model.ts";
import { verifyPlatformToken } from "../domain/identity/platform-token.ts";
import { bodyDigest, canonicalTarget } from "../domain/identity/request-token.ts";
import { listenLocally, readBody } from "./upstream.ts";

export interface DemoConsumerOptions {
  /** The platform's key set (`GET /v1/platform/keys`). */
  readonly jwksUrl: string;
  /** The platform's identity: `iss` of its tokens. */
  readonly platformIssuer: string;
  /** This consumer system's id: `aud` of the platform's tokens. */
  readonly systemId: string;
  /** The path deliveries are pushed to (the subscription's `path`). @default "/dscp/deliveries" */
  readonly path?: string;
  /** @default 0 */
  readonly port?: number;
}

/** One push as the consumer saw it. */
export interface ReceivedPush {
  readonly messageId: string;
  readonly attempt: number;
  readonly verified: boolean;
  /** What the consumer answered. */
  readonly status: number;
  readonly records: readonly DeliveredRecord[];
}

export interface DemoConsumer {
  readonly url: string;
  /** Every push, answered or refused, in order. */
  readonly pushes: ReceivedPush[];
  /** The records as applied: by data key, the newest version (deleted ones absent). */
  readonly records: Map<string, { version: number; record: Record<string, unknown> }>;
  /** How many times each idempotency key was applied (a correct consumer: once each). */
  readonly applied: Map<string, number>;
  /** Fail the next `failNext` pushes with `status`, or every push while `down`. */
  behave(mode: { failNext?: number; down?: boolean; status?: number }): void;
  stop(): Promise<void>;
}

/**
 * A consumer's Agent Node taking pushed deliveries, as the demo and the tests run it: it verifies
 * the platform's signature (audience, method, target, body digest), then applies each record
 * version exactly once by its idempotency key, and only if it is newer than what it holds.
 */
export async function startDemoConsumer(options: DemoConsumerOptions): Promise<DemoConsumer> {
  const keys = createRemoteJWKSet(new URL(options.jwksUrl));
  const path = options.path ?? "/dscp/deliveries";
  const pushes: ReceivedPush[] = [];
  const records = new Map<string, { version: number; record: Record<string, unknown> }>();
  const deleted = new Map<string, number>();
  const applied = new Map<string, number>();
  let mode: { failNext?: number; down?: boolean; status?: number } = {};

  const server: Server = createServer(async (request, response) => {
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { "Content-Type": "application/json" });
      response.end(JSON.stringify(body));
    };
    const url = new URL(request.url ?? "/", "http://consumer");
    const body = await readBody(request);
    if (request.method !== "POST" || url.pathname !== path) return send(404, { error: "no such route" });
    const message = JSON.parse(body.toString("utf8") || "{}") as {
      messageId?: string;
      attempt?: number;
      records?: DeliveredRecord[];
    };
    const push = (status: number, verified: boolean) =>
      pushes.push({
        messageId: String(message.messageId ?? request.headers["idempotency-key"] ?? ""),
        attempt: Number(message.attempt ?? 0),
        verified,
        status,
        records: message.records ?? [],
      });
    try {
      const token = String(request.headers.authorization ?? "").replace(/^Bearer /, "");
      const { payload } = await verifyPlatformToken(token, keys, {
        issuer: options.platformIssuer,
        audience: options.systemId,
        requiredClaims: ["jti", "htm", "htu", "bdy"],
      });
      if (payload.htm !== "POST" || payload.htu !== canonicalTarget(url.pathname, url.searchParams)) {
        throw new Error("token signed for another request");
      }
      if (payload.bdy !== bodyDigest(body)) throw new Error("body digest mismatch");
    } catch (error) {
      push(401, false);
      return send(401, { error: `the platform's signature does not verify: ${(error as Error).message}` });
    }
    if (mode.down || (mode.failNext ?? 0) > 0) {
      if (mode.failNext) mode = { ...mode, failNext: mode.failNext - 1 };
      const status = mode.status ?? 503;
      push(status, true);
      return send(status, { error: "temporarily unavailable" });
    }
    for (const record of message.records ?? []) {
      if (applied.has(record.idempotencyKey)) {
        applied.set(record.idempotencyKey, (applied.get(record.idempotencyKey) ?? 0) + 1);
        continue;
      }
      applied.set(record.idempotencyKey, 1);
      const held = Math.max(records.get(record.key)?.version ?? 0, deleted.get(record.key) ?? 0);
      if (record.version <= held) continue;
      if (record.op === "delete") {
        records.delete(record.key);
        deleted.set(record.key, record.version);
      } else {
        records.set(record.key, { version: record.version, record: record.record ?? {} });
      }
    }
    push(200, true);
    return send(200, { applied: (message.records ?? []).length });
  });
  const { url, stop } = await listenLocally(server, options.port);
  return {
    url,
    pushes,
    records,
    applied,
    behave: (next) => {
      mode = next;
    },
    stop,
  };
}
