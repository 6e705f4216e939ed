import type { ServedDataset } from "../../domain/agent/config.ts";
import { type RestBackendConfig, resolveSecret, servedSetting } from "./config.ts";
import {
  type Backend,
  BackendConfigError,
  BackendQueryError,
  BackendUnavailableError,
  type QueryRequest,
  type RecordRequest,
} from "./types.ts";

/*
 * The REST backend: a served dataset is an agency's own HTTP service. A record is
 * `GET <baseUrl><recordPath>` with `{key}` percent-encoded; a query is `POST <baseUrl><queryPath>`
 * with `{filters, fields, limit, cursor}` answering `{items, nextCursor?}`, as the platform asks the
 * node. Field names are mapped both ways (dataset field <-> source field). Calls go through the
 * global fetch, whose connections are kept alive and reused.
 */

const DEFAULT_TIMEOUT_MS = 10_000;
/** The most a backend's answer may hold: a record or a page, never a dump. */
const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
const PATH = /^\/[A-Za-z0-9._~!$&'()*+,;=:@%/{}?-]{0,500}$/;
/** How much of an error answer a message quotes. */
const QUOTED = 200;

/** A dataset's REST mapping, checked once. */
interface Plan {
  readonly recordPath: string;
  readonly queryPath?: string;
  /** Dataset field -> source field; none means the source's names are the dataset's. */
  readonly fields?: ReadonlyMap<string, string>;
  readonly timeoutMs: number;
}

/** Checks a served dataset's REST mapping; throws {@link BackendConfigError} naming the setting. */
export function restPlanOf(dataset: ServedDataset, defaultTimeoutMs = DEFAULT_TIMEOUT_MS): Plan {
  const setting = `${servedSetting(dataset)}.rest`;
  const rest = dataset.rest;
  if (!rest) {
    throw new BackendConfigError(setting, `dataset ${dataset.datasetId} is served by a rest backend: give rest`);
  }
  if (!PATH.test(rest.recordPath) || rest.recordPath.split("{key}").length !== 2) {
    throw new BackendConfigError(`${setting}.recordPath`, "must be a path starting with / holding {key} once");
  }
  if (rest.queryPath !== undefined && (!PATH.test(rest.queryPath) || rest.queryPath.includes("{"))) {
    throw new BackendConfigError(`${setting}.queryPath`, "must be a path starting with /");
  }
  if (
    rest.timeoutMs !== undefined &&
    (!Number.isInteger(rest.timeoutMs) || rest.timeoutMs < 1 || rest.timeoutMs > 120_000)
  ) {
    throw new BackendConfigError(`${setting}.timeoutMs`, "must be an integer from 1 to 120000");
  }
  let fields: Map<string, string> | undefined;
  if (rest.fields) {
    fields = new Map();
    for (const [field, source] of Object.entries(rest.fields)) {
      if (source.length === 0 || source.length > 200) {
        throw new BackendConfigError(`${setting}.fields.${field}`, "must name a source field");
      }
      fields.set(field, source);
    }
  }
  return {
    recordPath: rest.recordPath,
    ...(rest.queryPath !== undefined ? { queryPath: rest.queryPath } : {}),
    ...(fields ? { fields } : {}),
    timeoutMs: rest.timeoutMs ?? defaultTimeoutMs,
  };
}

/** What the backend answered, read whole (up to {@link MAX_RESPONSE_BYTES}). */
interface Answer {
  readonly status: number;
  readonly contentType: string;
  readonly text: string;
}

/**
 * A dataset served by an agency's HTTP service; see the module comment. Fields asked for that
 * the mapping does not hold are ignored (the platform has already cut the request to the
 * consumer's permitted fields).
 */
export class RestBackend implements Backend {
  readonly type = "rest" as const;
  private readonly baseUrl: string;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly timeoutMs: number;
  private readonly plans = new WeakMap<ServedDataset, Plan>();

  constructor(
    readonly name: string,
    config: RestBackendConfig,
    options: { readonly env?: NodeJS.ProcessEnv } = {},
  ) {
    // As the URL parser writes it (lower-case host, no default port), so a built URL compares as written.
    this.baseUrl = new URL(config.baseUrl).href.replace(/\/+$/, "");
    this.timeoutMs = config.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const headers: Record<string, string> = { accept: "application/json" };
    for (const [header, value] of Object.entries(config.headers ?? {})) {
      headers[header] = resolveSecret(value, `backends.${name}.headers.${header}`, options.env);
    }
    this.headers = headers;
  }

  validate(dataset: ServedDataset): void {
    this.planFor(dataset);
  }

  async getRecord(request: RecordRequest, signal?: AbortSignal): Promise<Record<string, unknown> | undefined> {
    const plan = this.planFor(request.dataset);
    const [before, after] = plan.recordPath.split("{key}") as [string, string];
    const url = `${this.baseUrl}${before}${encodeURIComponent(request.key)}${after}`;
    // A key such as ".." would be resolved away as a path segment: it can name no record here.
    if (new URL(url).href !== url) return undefined;
    const answer = await this.call("GET", url, undefined, plan.timeoutMs, signal);
    // Not there, or a key the service cannot read (as a SQL backend's key of the wrong type): no record.
    if (answer.status === 404 || answer.status === 400 || answer.status === 422) return undefined;
    if (!isSuccess(answer)) throw this.failed("GET", url, answer);
    const body = this.json(answer, "GET", url);
    if (!isObject(body)) throw this.nonsense("GET", url, "its answer is not a JSON object");
    return this.fromSource(plan, body, request.fields);
  }

  async query(
    request: QueryRequest,
    signal?: AbortSignal,
  ): Promise<{ items: Record<string, unknown>[]; nextCursor?: string }> {
    const plan = this.planFor(request.dataset);
    if (!plan.queryPath) {
      throw new BackendQueryError(`dataset ${request.dataset.datasetId} cannot be queried through this node`);
    }
    const filters: Record<string, string | number | boolean> = {};
    for (const [field, value] of Object.entries(request.filters)) {
      const source = plan.fields ? plan.fields.get(field) : field;
      if (source === undefined) throw new BackendQueryError(`filters.${field}: not a field of this dataset here`);
      filters[source] = value;
    }
    const fields = this.projection(plan, request.fields);
    const url = `${this.baseUrl}${plan.queryPath}`;
    const body = {
      filters,
      fields: plan.fields ? fields.map((field) => plan.fields?.get(field) as string) : fields,
      limit: request.limit,
      ...(request.cursor !== undefined ? { cursor: request.cursor } : {}),
    };
    const answer = await this.call("POST", url, JSON.stringify(body), plan.timeoutMs, signal);
    if (answer.status === 400 || answer.status === 422) {
      throw new BackendQueryError(`the backend refused the query: ${quoted(answer.text)}`);
    }
    if (!isSuccess(answer)) throw this.failed("POST", url, answer);
    const page = this.json(answer, "POST", url);
    if (!isObject(page) || !Array.isArray(page.items) || !page.items.every(isObject)) {
      throw this.nonsense("POST", url, "its answer is not {items: [objects], nextCursor?}");
    }
    if (page.nextCursor !== undefined && page.nextCursor !== null && typeof page.nextCursor !== "string") {
      throw this.nonsense("POST", url, "its nextCursor is not a string");
    }
    const items = (page.items as Record<string, unknown>[]).map((item) => this.fromSource(plan, item, request.fields));
    return typeof page.nextCursor === "string" && page.nextCursor !== ""
      ? { items, nextCursor: page.nextCursor }
      : { items };
  }

  /** Reachable when the base URL answers below 500 (a 404 or 401 there still says the service is up). */
  async check(signal?: AbortSignal): Promise<void> {
    const answer = await this.call("GET", this.baseUrl, undefined, this.timeoutMs, signal);
    if (answer.status >= 500) throw this.failed("GET", this.baseUrl, answer);
  }

  async close(): Promise<void> {
    // The global fetch owns its connections; nothing of this backend's is left open.
  }

  private planFor(dataset: ServedDataset): Plan {
    const known = this.plans.get(dataset);
    if (known) return known;
    const plan = restPlanOf(dataset, this.timeoutMs);
    this.plans.set(dataset, plan);
    return plan;
  }

  /** Dataset fields to return: those asked for that the mapping holds; all mapped when none are asked for (none: all there are). */
  private projection(plan: Plan, requested: readonly string[]): string[] {
    if (requested.length === 0) return plan.fields ? [...plan.fields.keys()] : [];
    const unique = [...new Set(requested)];
    return plan.fields ? unique.filter((field) => plan.fields?.has(field)) : unique;
  }

  /** A source record as the dataset's fields, cut to those asked for. */
  private fromSource(
    plan: Plan,
    source: Record<string, unknown>,
    requested: readonly string[],
  ): Record<string, unknown> {
    const fields = this.projection(plan, requested);
    const record: Record<string, unknown> = {};
    if (!plan.fields) {
      for (const field of fields.length > 0 ? fields : Object.keys(source)) {
        if (Object.hasOwn(source, field)) record[field] = source[field];
      }
      return record;
    }
    for (const field of fields) {
      const name = plan.fields.get(field) as string;
      if (Object.hasOwn(source, name)) record[field] = source[name];
    }
    return record;
  }

  private async call(
    method: "GET" | "POST",
    url: string,
    body: string | undefined,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<Answer> {
    const timeout = AbortSignal.timeout(timeoutMs);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const where = `backend ${this.name} (${method} ${url})`;
    try {
      const response = await fetch(url, {
        method,
        headers: body === undefined ? this.headers : { ...this.headers, "content-type": "application/json" },
        ...(body !== undefined ? { body } : {}),
        redirect: "manual",
        signal: combined,
      });
      const text = await readCapped(response, where);
      return { status: response.status, contentType: response.headers.get("content-type") ?? "", text };
    } catch (error) {
      if (error instanceof BackendUnavailableError) throw error;
      if (timeout.aborted) {
        throw new BackendUnavailableError(`${where} did not answer within ${timeoutMs} ms`, { cause: error });
      }
      if (signal?.aborted) throw new BackendUnavailableError(`${where}: the call was abandoned`, { cause: error });
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new BackendUnavailableError(
        `${where} cannot be reached: ${cause?.code ?? cause?.message ?? (error as Error).message}`,
        { cause: error },
      );
    }
  }

  /** Any status the caller does not expect: the service is down, refuses this node, or is not where the mapping says. */
  private failed(method: string, url: string, answer: Answer): BackendUnavailableError {
    const hint = answer.status === 404 ? " (is the path right?)" : "";
    return this.nonsense(method, url, `answered ${answer.status}${hint}: ${quoted(answer.text)}`);
  }

  private json(answer: Answer, method: string, url: string): unknown {
    try {
      return JSON.parse(answer.text);
    } catch {
      throw this.nonsense(
        method,
        url,
        `its answer is not JSON (${answer.contentType || "no content type"}): ${quoted(answer.text)}`,
      );
    }
  }

  private nonsense(method: string, url: string, what: string): BackendUnavailableError {
    return new BackendUnavailableError(`backend ${this.name} (${method} ${url}): ${what}`);
  }
}

function isSuccess(answer: Answer): boolean {
  return answer.status >= 200 && answer.status <= 299;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function quoted(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return JSON.stringify(line.length > QUOTED ? `${line.slice(0, QUOTED)}…` : line);
}

/** The answer's text, refusing one larger than {@link MAX_RESPONSE_BYTES}. */
async function readCapped(response: Response, where: string): Promise<string> {
  const tooLarge = () => new BackendUnavailableError(`${where}: its answer is larger than ${MAX_RESPONSE_BYTES} bytes`);
  if (Number(response.headers.get("content-length") ?? 0) > MAX_RESPONSE_BYTES) {
    await response.body?.cancel().catch(() => undefined);
    throw tooLarge();
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    size += read.value.byteLength;
    if (size > MAX_RESPONSE_BYTES) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    chunks.push(read.value);
  }
  return Buffer.concat(chunks).toString("utf8");
}
