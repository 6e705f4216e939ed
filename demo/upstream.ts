import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createRemoteJWKSet } from "jose";
import { verifyPlatformToken } from "../domain/identity/platform-token.ts";
import { bodyDigest, canonicalTarget } from "../domain/identity/request-token.ts";

export interface DemoUpstreamOptions {
  /** The platform's key set (`GET /v1/platform/keys`). */
  readonly jwksUrl: string;
  /** The platform's identity: `iss` of its tokens. */
  readonly platformIssuer: string;
  /** This provider system's id: `aud` of the platform's tokens. */
  readonly systemId: string;
  /** Records by data key. */
  readonly records: ReadonlyMap<string, Record<string, unknown>>;
  /** Path prefix the dataset is served under (its catalog `upstreamPath`). */
  readonly basePath: string;
  /** @default 0 */
  readonly port?: number;
  /**
   * Check the platform's signature on every call. Off only for benchmarks' direct baseline,
   * which calls the provider without the platform.
   * @default true
   */
  readonly verify?: boolean;
}

export interface DemoUpstream {
  readonly url: string;
  /** Calls received, verified or not, for tests and the demo's own log. */
  readonly calls: Array<{
    path: string;
    verified: boolean;
    /** The key that signed the call: an environment key certified by a published platform key, or a published key. */
    signedBy?: { kid: string; certified: boolean };
    consumer?: string;
    transactionId?: string;
    /** The end user and case the platform's token named (`usr`, `case`), when it named them. */
    endUser?: string;
    caseRef?: string;
    reason?: string;
  }>;
  /** Makes the next calls wait (ms) before answering, or fail with 500. */
  behave(mode: { delayMs?: number; fail?: boolean }): void;
  stop(): Promise<void>;
}

/**
 * A provider's Agent Node, as the demo and the tests run it: it serves a dataset's records to
 * the platform only, after verifying the platform's signature (`verifyPlatformToken`), audience,
 * method, target and body digest with the platform's published key set.
 *
 * `GET <base>/records/<key>?fields=a,b` and `POST <base>/query` `{filters, fields, limit, cursor}`.
 */
export async function startDemoUpstream(options: DemoUpstreamOptions): Promise<DemoUpstream> {
  const keys = createRemoteJWKSet(new URL(options.jwksUrl));
  const calls: DemoUpstream["calls"] = [];
  let mode: { delayMs?: number; fail?: boolean } = {};
  const ordered = [...options.records.entries()].sort(([a], [b]) => a.localeCompare(b));

  const server: Server = createServer(async (request, response) => {
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { "Content-Type": "application/json" });
      response.end(JSON.stringify(body));
    };
    const url = new URL(request.url ?? "/", "http://upstream");
    const body = await readBody(request);
    const call: DemoUpstream["calls"][number] = {
      path: url.pathname,
      verified: false,
      consumer: String(request.headers["x-dscp-consumer"] ?? ""),
      transactionId: String(request.headers["x-transaction-id"] ?? ""),
    };
    calls.push(call);
    try {
      if (options.verify === false) throw new SkipVerification();
      const token = String(request.headers.authorization ?? "").replace(/^Bearer /, "");
      const { payload, kid, certificate } = await verifyPlatformToken(token, keys, {
        issuer: options.platformIssuer,
        audience: options.systemId,
        requiredClaims: ["jti", "htm", "htu"],
      });
      call.signedBy = { kid, certified: certificate !== undefined };
      if (typeof payload.usr === "string") call.endUser = payload.usr;
      if (typeof payload.case === "string") call.caseRef = payload.case;
      const target = canonicalTarget(url.pathname, url.searchParams);
      if (payload.htm !== request.method || payload.htu !== target) throw new Error("token signed for another request");
      if ((body.length > 0 || payload.bdy) && payload.bdy !== bodyDigest(body)) throw new Error("body digest mismatch");
      call.verified = true;
    } catch (error) {
      if (!(error instanceof SkipVerification)) {
        call.reason = (error as Error).message;
        return send(401, { error: "the platform's signature does not verify" });
      }
    }
    if (mode.delayMs) await new Promise((resolve) => setTimeout(resolve, mode.delayMs));
    if (mode.fail) return send(500, { error: "database unavailable" });

    const relative = url.pathname.startsWith(options.basePath) ? url.pathname.slice(options.basePath.length) : "";
    const fields = (url.searchParams.get("fields") ?? "").split(",").filter(Boolean);
    const record = /^\/records\/([^/]+)$/.exec(relative);
    if (request.method === "GET" && record?.[1]) {
      const found = options.records.get(decodeURIComponent(record[1]));
      return found ? send(200, select(found, fields)) : send(404, { error: "no such record" });
    }
    if (request.method === "POST" && relative === "/query") {
      const query = JSON.parse(body.toString("utf8") || "{}") as {
        filters?: Record<string, unknown>;
        fields?: string[];
        limit?: number;
        cursor?: string;
      };
      const start = query.cursor ? Number(query.cursor) : 0;
      const matching = ordered.filter(([, item]) =>
        Object.entries(query.filters ?? {}).every(([field, value]) => item[field] === value),
      );
      const limit = query.limit ?? 25;
      const page = matching.slice(start, start + limit).map(([, item]) => select(item, query.fields ?? []));
      return send(200, {
        items: page,
        ...(start + limit < matching.length ? { nextCursor: String(start + limit) } : {}),
      });
    }
    return send(404, { error: "no such route" });
  });
  const { url, stop } = await listenLocally(server, options.port);
  return {
    url,
    calls,
    behave: (next) => {
      mode = next;
    },
    stop,
  };
}

/** A provider returns what it is asked for; the platform still projects to permitted fields. */
function select(record: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  return fields.length === 0
    ? record
    : Object.fromEntries(fields.filter((field) => field in record).map((field) => [field, record[field]]));
}

/** Serves on 127.0.0.1 (`port`, or any free one); its URL, and how to stop it at once. */
export async function listenLocally(server: Server, port = 0): Promise<{ url: string; stop: () => Promise<void> }> {
  const bound = await new Promise<number>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve((server.address() as AddressInfo).port));
  });
  return {
    url: `http://127.0.0.1:${bound}`,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A request's whole body. */
export function readBody(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

/** Thrown inside the handler to skip verification for the direct baseline. */
class SkipVerification extends Error {}
