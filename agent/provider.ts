import type { IncomingMessage, ServerResponse } from "node:http";
import type { JWTPayload, JWTVerifyGetKey } from "jose";
import type { AppliedSubscription, ServedDataset } from "../domain/agent/config.ts";
import type { DeliveredRecord } from "../domain/delivery/model.ts";
import { verifyPlatformToken } from "../domain/identity/platform-token.ts";
import { bodyDigest, canonicalTarget } from "../domain/identity/request-token.ts";
import { TRANSACTION_ID_HEADER } from "../domain/problem.ts";
import { type Backend, BackendQueryError, BackendUnavailableError } from "./backends/types.ts";
import { BodyTooLargeError, NodeProblem, readBody, sendJson, sendProblem } from "./http.ts";
import { errorText, type Logger } from "./ops/log.ts";
import type { AgentMetrics } from "./ops/metrics.ts";

/*
 * The provider side (Art. 7.3): the endpoint the platform calls. Every call must carry a token the
 * platform signed (verified with nothing but its published key set, refreshed on an unknown kid),
 * for this system, bound to this method, target and body, and never seen before. Then a record or
 * a query goes to the served dataset's backend, and a push of deliveries to its subscription's store.
 */

/** The default path deliveries are pushed to (a subscription's `path`). */
export const DEFAULT_DELIVERY_PATH = "/dscp/deliveries";
/** A record call has no body; a query's is small; a push carries up to a chunk of records. */
const MAX_QUERY_BYTES = 64 * 1024;
const MAX_PUSH_BYTES = 16 * 1024 * 1024;
/** The largest page a backend is asked for (Contract 3). */
export const MAX_QUERY_LIMIT = 1000;

/** Contract 4's `DeliveryStore`, as far as the provider side needs it. */
export interface DeliveryApplier {
  apply(records: readonly DeliveredRecord[]): Promise<{ applied: number; duplicates: number; stale: number }>;
}

/** A served dataset with its path and the backend that answers for it. */
export interface ServedRoute {
  readonly dataset: ServedDataset;
  /** The dataset's path on this node (`serves[].path`, the catalog's upstreamPath). */
  readonly path: string;
  readonly backend: Backend;
}

/** What the provider side serves right now: swapped whole when a new central configuration is applied. */
export interface ProviderState {
  readonly serves: readonly ServedRoute[];
  readonly subscriptions: readonly AppliedSubscription[];
}

export interface ProviderOptions {
  readonly systemId: string;
  /** The path of the system's registered endpoint, below which the platform calls (`""` when none). */
  readonly basePath?: string;
  /** `iss` of the platform's tokens. */
  readonly issuer: string;
  /** The platform's published key set (jose's createRemoteJWKSet: cached, refreshed on an unknown kid). */
  readonly keySet: JWTVerifyGetKey;
  /** What is served now; undefined before the central configuration is loaded. */
  readonly state: () => ProviderState | undefined;
  /** The store a subscription's deliveries are applied to. */
  readonly deliveryStore: (subscription: AppliedSubscription) => Promise<DeliveryApplier>;
  readonly metrics: AgentMetrics;
  readonly logger: Logger;
  readonly replay?: ReplayCache;
  readonly now?: () => Date;
}

/**
 * Token ids seen, each until its token expires (plus the clock tolerance): a token presented twice
 * is refused. Bounded: expired ids are dropped as new ones arrive.
 */
export class ReplayCache {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly toleranceSeconds = 30,
    private readonly maxEntries = 200_000,
  ) {}

  /** Records `jti` until `exp`; false when it was already there (a replay). */
  remember(jti: string, exp: number, now: Date = new Date()): boolean {
    const nowSeconds = now.getTime() / 1000;
    if (this.seen.size >= this.maxEntries) this.purge(nowSeconds);
    const held = this.seen.get(jti);
    if (held !== undefined && held >= nowSeconds) return false;
    if (this.seen.size >= this.maxEntries) {
      // Still full of live ids: drop the oldest remembered rather than grow without bound.
      this.seen.delete(this.seen.keys().next().value as string);
    }
    this.seen.set(jti, exp + this.toleranceSeconds);
    return true;
  }

  get size(): number {
    return this.seen.size;
  }

  private purge(nowSeconds: number): void {
    for (const [jti, until] of this.seen) if (until < nowSeconds) this.seen.delete(jti);
  }
}

/** Why the provider side refused a platform call; each is counted. */
type Refusal = "forged" | "replayed";

class RefusedCall extends NodeProblem {
  constructor(
    readonly reason: Refusal,
    detail: string,
  ) {
    super(
      401,
      reason === "replayed" ? "auth:token-replayed" : "auth:bad-signature",
      reason === "replayed" ? "Token already used" : "The platform's signature does not verify",
      detail,
    );
  }
}

/** The provider side's request handler. */
export function providerApi(options: ProviderOptions): (request: IncomingMessage, response: ServerResponse) => void {
  const replay = options.replay ?? new ReplayCache();
  const now = options.now ?? (() => new Date());

  /** Verifies the platform's token for this exact request and remembers its id. */
  async function verify(request: IncomingMessage, url: URL, body: Buffer): Promise<JWTPayload> {
    const token = String(request.headers.authorization ?? "").replace(/^Bearer /, "");
    if (!token) throw new RefusedCall("forged", "no platform token");
    let payload: JWTPayload;
    try {
      ({ payload } = await verifyPlatformToken(token, options.keySet, {
        issuer: options.issuer,
        audience: options.systemId,
        requiredClaims: ["jti", "htm", "htu"],
        now: now(),
      }));
    } catch (error) {
      throw new RefusedCall("forged", `the platform's signature does not verify: ${errorText(error)}`);
    }
    if (payload.htm !== request.method || payload.htu !== canonicalTarget(url.pathname, url.searchParams)) {
      throw new RefusedCall("forged", "the token was signed for another request");
    }
    if ((body.length > 0 || payload.bdy !== undefined) && payload.bdy !== bodyDigest(body)) {
      throw new RefusedCall("forged", "the body does not match the token's digest");
    }
    if (!replay.remember(String(payload.jti), Number(payload.exp), now())) {
      throw new RefusedCall("replayed", "this token was already presented");
    }
    return payload;
  }

  return (request, response) => {
    const started = process.hrtime.bigint();
    const url = new URL(request.url ?? "/", "http://node");
    const transactionId = String(request.headers[TRANSACTION_ID_HEADER.toLowerCase()] ?? "") || undefined;
    const controller = new AbortController();
    response.on("close", () => {
      if (!response.writableFinished) controller.abort();
    });
    let side: "provider" | "delivery" = "provider";
    const finish = (status: number, fields: Record<string, unknown> = {}) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      options.metrics.request(side, status, seconds);
      options.logger.info("request", {
        side,
        method: request.method,
        path: url.pathname,
        status,
        ms: Math.round(seconds * 1e4) / 10,
        ...(transactionId ? { transactionId } : {}),
        ...fields,
      });
    };

    handle()
      .then((status) => finish(status))
      .catch((error: unknown) => {
        let problem: NodeProblem;
        if (error instanceof RefusedCall) {
          options.metrics.refusedPlatformCalls.inc({ reason: error.reason });
          problem = error;
        } else if (error instanceof NodeProblem) problem = error;
        else if (error instanceof BodyTooLargeError) {
          problem = new NodeProblem(413, "payload-too-large", "Payload too large", error.message);
        } else {
          options.logger.error("provider request failed", { path: url.pathname, error: errorText(error) });
          problem = new NodeProblem(500, "internal", "Internal error", "the node could not answer");
        }
        if (!response.headersSent) sendProblem(response, problem, transactionId ? { transactionId } : {});
        else response.destroy();
        finish(problem.status, problem.status === 401 ? { refused: problem.message } : {});
      });

    async function handle(): Promise<number> {
      const state = options.state();
      // Tokens name the whole path; datasets and subscriptions are found below the endpoint's own.
      const base = options.basePath ?? "";
      const pathname = url.pathname.startsWith(`${base}/`) ? url.pathname.slice(base.length) : undefined;
      const subscriptions = (state?.subscriptions ?? []).filter(
        (subscription) => (subscription.path ?? DEFAULT_DELIVERY_PATH) === pathname,
      );
      if (request.method === "POST" && subscriptions.length > 0) side = "delivery";
      // Before a configuration, a POST may be a push: read it whole, to answer 503 (delivered again), not 413.
      const pushSized = side === "delivery" || (!state && request.method === "POST");
      const body = await readBody(request, pushSized ? MAX_PUSH_BYTES : MAX_QUERY_BYTES);
      await verify(request, url, body);
      if (!state)
        throw new NodeProblem(503, "not-configured", "Node not configured", "the node has no configuration yet");
      if (side === "delivery") return deliver(subscriptions, body);
      const served = pathname === undefined ? undefined : routeOf(state, pathname);
      if (!served) throw new NodeProblem(404, "not-found", "Not found", `this node serves nothing at ${url.pathname}`);
      const { route, relative } = served;
      const record = /^\/records\/([^/]+)$/.exec(relative);
      if (request.method === "GET" && record?.[1]) {
        const fields = (url.searchParams.get("fields") ?? "").split(",").filter(Boolean);
        const found = await callBackend(route, (signal) =>
          route.backend.getRecord(
            { dataset: route.dataset, key: decodeURIComponent(record[1] as string), fields },
            signal,
          ),
        );
        if (!found) throw new NodeProblem(404, "not-found", "Not found", "no such record");
        sendJson(response, 200, found);
        return 200;
      }
      if (request.method === "POST" && relative === "/query") {
        const query = parseQuery(body);
        const page = await callBackend(route, (signal) =>
          route.backend.query({ dataset: route.dataset, ...query }, signal),
        );
        sendJson(response, 200, page.nextCursor ? page : { items: page.items });
        return 200;
      }
      throw new NodeProblem(404, "not-found", "Not found", `no operation ${request.method} ${url.pathname}`);
    }

    async function callBackend<T>(route: ServedRoute, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
      try {
        return await call(controller.signal);
      } catch (error) {
        if (error instanceof BackendQueryError) {
          throw new NodeProblem(400, "validation-failed", "Request validation failed", error.message);
        }
        options.metrics.backendErrors.inc({ backend: route.backend.name });
        options.logger.error("backend call failed", { backend: route.backend.name, error: errorText(error) });
        if (error instanceof BackendUnavailableError) {
          throw new NodeProblem(
            502,
            "backend-unavailable",
            "Backend unavailable",
            `the provider's backend ${route.backend.name} is unavailable`,
          );
        }
        throw error;
      }
    }

    async function deliver(subscriptions: readonly AppliedSubscription[], body: Buffer): Promise<number> {
      const message = parsePush(body);
      const subscription = subscriptions.find((candidate) => candidate.datasetId === message.datasetId);
      if (!subscription) {
        throw new NodeProblem(
          404,
          "not-found",
          "Not found",
          `this node applies no subscription to ${message.datasetId} at ${url.pathname}`,
        );
      }
      let result: Awaited<ReturnType<DeliveryApplier["apply"]>>;
      try {
        const store = await options.deliveryStore(subscription);
        result = await store.apply(message.records);
      } catch (error) {
        options.logger.error("delivery not applied", {
          subscriptionId: subscription.subscriptionId,
          messageId: message.messageId,
          error: errorText(error),
        });
        // Nothing was committed: the platform delivers again.
        throw new NodeProblem(503, "store-unavailable", "Store unavailable", "the deliveries could not be applied now");
      }
      for (const [outcome, count] of Object.entries(result)) {
        if (count > 0) options.metrics.deliveriesApplied.inc({ result: outcome }, count);
      }
      sendJson(response, 200, result);
      return 200;
    }
  };
}

/** The served dataset whose path is the longest prefix of `pathname`, and the rest of the path. */
function routeOf(state: ProviderState, pathname: string): { route: ServedRoute; relative: string } | undefined {
  let best: ServedRoute | undefined;
  for (const route of state.serves) {
    const base = route.path.replace(/\/$/, "");
    if (pathname.startsWith(`${base}/`) && (!best || base.length > best.path.length)) best = route;
  }
  return best && { route: best, relative: pathname.slice(best.path.replace(/\/$/, "").length) };
}

function invalid(name: string, reason: string): NodeProblem {
  return new NodeProblem(400, "validation-failed", "Request validation failed", `${name} ${reason}`, [
    { name, reason },
  ]);
}

/** The platform's query body: `{filters, fields, limit, cursor}`. */
function parseQuery(body: Buffer): Omit<Parameters<Backend["query"]>[0], "dataset"> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString("utf8") || "{}");
  } catch {
    throw invalid("(body)", "is not JSON");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw invalid("(body)", "must be an object");
  const { filters = {}, fields = [], limit = 25, cursor } = value as Record<string, unknown>;
  if (filters === null || typeof filters !== "object" || Array.isArray(filters)) {
    throw invalid("filters", "must be an object");
  }
  for (const [name, filter] of Object.entries(filters)) {
    if (!["string", "number", "boolean"].includes(typeof filter)) {
      throw invalid(`filters/${name}`, "must be a string, number or boolean");
    }
  }
  if (!Array.isArray(fields) || !fields.every((field) => typeof field === "string")) {
    throw invalid("fields", "must be an array of field names");
  }
  if (typeof limit !== "number" || !Number.isInteger(limit) || limit < 1 || limit > MAX_QUERY_LIMIT) {
    throw invalid("limit", `must be an integer from 1 to ${MAX_QUERY_LIMIT}`);
  }
  if (cursor !== undefined && typeof cursor !== "string") throw invalid("cursor", "must be a string");
  return {
    filters: filters as Record<string, string | number | boolean>,
    fields,
    limit,
    ...(cursor !== undefined ? { cursor } : {}),
  };
}

/** A push of deliveries, as the platform sends it (domain/delivery/delivery-service.ts). */
function parsePush(body: Buffer): { messageId: string; datasetId: string; records: DeliveredRecord[] } {
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(body.toString("utf8")) as Record<string, unknown>;
  } catch {
    throw invalid("(body)", "is not JSON");
  }
  if (typeof value?.datasetId !== "string") throw invalid("datasetId", "must be a string");
  if (!Array.isArray(value.records)) throw invalid("records", "must be an array");
  value.records.forEach((record: Partial<DeliveredRecord>, index) => {
    const wellFormed =
      typeof record?.idempotencyKey === "string" &&
      typeof record.key === "string" &&
      typeof record.version === "number" &&
      (record.op === "upsert" || record.op === "delete");
    if (!wellFormed) throw invalid(`records/${index}`, "must be a delivered record version");
  });
  return {
    messageId: String(value.messageId ?? ""),
    datasetId: value.datasetId,
    records: value.records as DeliveredRecord[],
  };
}
