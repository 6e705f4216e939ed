import { createHash, timingSafeEqual } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { exchangeRoutes } from "../api/exchange.ts";
import { fillPath } from "../api/route.ts";
import { TRANSACTION_ID_HEADER } from "../domain/problem.ts";
import type { LocalConfig } from "./config.ts";
import { BodyTooLargeError, NodeProblem, pathMatcher, readBody, sendProblem } from "./http.ts";
import type { Logger } from "./ops/log.ts";
import type { AgentMetrics } from "./ops/metrics.ts";
import { type PlatformClient, PlatformUnavailableError } from "./platform-client.ts";

/*
 * The consumer side (Art. 7.3): the agency's internal systems call the node with plain HTTP, on
 * the same paths as the platform's exchange routes and with no token. The node identifies the
 * client (API key or mTLS certificate), checks the dataset is one the central configuration lets
 * it call, signs the call with its own key (naming the end user and case the client passed) and
 * forwards it; the client gets the platform's status, body and transaction id.
 */

/** Headers an internal client names the end user and the case with (recorded in the exchange log). */
export const END_USER_HEADER = "X-DSCP-User";
export const CASE_HEADER = "X-DSCP-Case";
/** Longest end user or case reference the platform takes. */
export const MAX_CLAIM_LENGTH = 200;
/** A query body is small; the platform refuses more anyway. */
const MAX_BODY_BYTES = 256 * 1024;

export interface ConsumerApiOptions {
  readonly clients: LocalConfig["consumer"]["clients"];
  readonly platform: PlatformClient;
  /** Dataset ids the central configuration lets internal clients call; undefined before it is loaded. */
  readonly calls: () => ReadonlySet<string> | undefined;
  readonly metrics: AgentMetrics;
  readonly logger: Logger;
}

const matchRecord = pathMatcher(exchangeRoutes.getRecord.path);
const matchQuery = pathMatcher(exchangeRoutes.queryRecords.path);

/** Identifies an internal client by its API key or its verified client certificate: its name, or undefined. */
export function clientIdentifier(
  clients: ConsumerApiOptions["clients"],
): (request: IncomingMessage) => string | undefined {
  const byKey = clients
    .filter((client) => client.apiKeySha256 !== undefined)
    .map((client) => ({ name: client.name, digest: Buffer.from(String(client.apiKeySha256).toLowerCase(), "hex") }));
  const bySubject = new Map(
    clients
      .filter((client) => client.certificateSubject !== undefined)
      .map((client) => [String(client.certificateSubject), client.name]),
  );
  return (request) => {
    const socket = request.socket as Partial<TLSSocket>;
    if (bySubject.size > 0 && socket.authorized === true && typeof socket.getPeerCertificate === "function") {
      const subject = socket.getPeerCertificate().subject?.CN;
      const name = typeof subject === "string" ? bySubject.get(subject) : undefined;
      if (name) return name;
    }
    const authorization = String(request.headers.authorization ?? "");
    const presented = authorization.startsWith("Bearer ")
      ? authorization.slice("Bearer ".length).trim()
      : String(request.headers["x-api-key"] ?? "");
    if (!presented) return undefined;
    const digest = createHash("sha256").update(presented).digest();
    // Every client's digest is compared, each in constant time, whichever matches.
    let found: string | undefined;
    for (const client of byKey) {
      if (timingSafeEqual(digest, client.digest) && found === undefined) found = client.name;
    }
    return found;
  };
}

/** An end user or case header: absent, or 1..200 printable characters. */
export function claimHeader(request: IncomingMessage, header: string): string | undefined {
  const value = request.headers[header.toLowerCase()];
  if (value === undefined) return undefined;
  const text = utf8Header(Array.isArray(value) ? value.join(",") : value);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what is refused
  if (text.length === 0 || text.length > MAX_CLAIM_LENGTH || /[\u0000-\u001f\u007f]/.test(text)) {
    throw new NodeProblem(
      400,
      "validation-failed",
      "Request validation failed",
      `${header} must be 1 to ${MAX_CLAIM_LENGTH} printable characters`,
      [{ name: header, reason: `must be 1 to ${MAX_CLAIM_LENGTH} printable characters` }],
    );
  }
  return text;
}

/**
 * A header value as its sender wrote it: Node reads header bytes as Latin-1, so a name written in
 * UTF-8 (`Nguyễn`) is decoded again as UTF-8 when its bytes are valid UTF-8.
 */
export function utf8Header(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: any byte above ASCII may start a UTF-8 sequence
  if (!/[\u0080-\u00ff]/.test(value) || /[^\u0000-\u00ff]/.test(value)) return value;
  const decoded = Buffer.from(value, "latin1").toString("utf8");
  return decoded.includes("\ufffd") ? value : decoded;
}

/** The consumer side's request handler. */
export function consumerApi(options: ConsumerApiOptions): (request: IncomingMessage, response: ServerResponse) => void {
  const identify = clientIdentifier(options.clients);
  return (request, response) => {
    const started = process.hrtime.bigint();
    let client: string | undefined;
    let transactionId: string | undefined;
    const finish = (status: number) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      options.metrics.request("consumer", status, seconds);
      options.logger.info("request", {
        side: "consumer",
        method: request.method,
        path: (request.url ?? "").split("?")[0],
        status,
        ms: Math.round(seconds * 1e4) / 10,
        ...(client ? { client } : {}),
        ...(transactionId ? { transactionId } : {}),
      });
    };
    handle()
      .then(finish)
      .catch((error: unknown) => {
        const problem =
          error instanceof NodeProblem
            ? error
            : error instanceof BodyTooLargeError
              ? new NodeProblem(413, "payload-too-large", "Payload too large", error.message)
              : undefined;
        if (!problem) options.logger.error("consumer request failed", { error: String(error) });
        const answer =
          problem ?? new NodeProblem(500, "internal", "Internal error", "the node could not forward the call");
        if (!response.headersSent) sendProblem(response, answer);
        else response.destroy();
        finish(answer.status);
      });

    async function handle(): Promise<number> {
      const url = new URL(request.url ?? "/", "http://node");
      const record = request.method === "GET" ? matchRecord(url.pathname) : undefined;
      const query = request.method === "POST" ? matchQuery(url.pathname) : undefined;
      const route = record ?? query;
      if (!route) {
        throw new NodeProblem(404, "not-found", "Not found", `no route ${request.method} ${url.pathname} on this node`);
      }
      client = identify(request);
      if (!client) {
        throw new NodeProblem(
          401,
          "auth:unauthenticated",
          "Authentication required",
          "present the client's API key (Authorization: Bearer <key> or X-API-Key) or its client certificate",
        );
      }
      const datasetId = String(route.datasetId);
      const calls = options.calls();
      if (!calls) {
        throw new NodeProblem(
          503,
          "not-configured",
          "Node not configured",
          "the node has no central configuration yet",
        );
      }
      if (!calls.has(datasetId)) {
        throw new NodeProblem(
          403,
          "forbidden",
          "Forbidden",
          `${datasetId} is not among the datasets this node may call (its central configuration's calls)`,
        );
      }
      const endUser = claimHeader(request, END_USER_HEADER);
      const caseRef = claimHeader(request, CASE_HEADER);
      const body = query ? await readBody(request, MAX_BODY_BYTES) : undefined;
      const path = record
        ? fillPath(exchangeRoutes.getRecord.path, { datasetId, key: String(route.key) })
        : fillPath(exchangeRoutes.queryRecords.path, { datasetId });
      let answer: Awaited<ReturnType<PlatformClient["send"]>>;
      try {
        answer = await options.platform.send({
          method: request.method as string,
          path,
          query: [...url.searchParams.entries()],
          ...(body !== undefined ? { body } : {}),
          ...(endUser !== undefined ? { endUser } : {}),
          ...(caseRef !== undefined ? { caseRef } : {}),
        });
      } catch (error) {
        if (!(error instanceof PlatformUnavailableError)) throw error;
        throw new NodeProblem(
          error.timedOut ? 504 : 502,
          error.timedOut ? "platform-timeout" : "platform-unreachable",
          error.timedOut ? "Platform timeout" : "Platform unreachable",
          error.message,
          [],
          { cause: error },
        );
      }
      const headers: Record<string, string> = {
        "Content-Type": String(answer.headers["content-type"] ?? "application/json"),
        "Content-Length": String(answer.body.length),
      };
      const transaction = answer.headers[TRANSACTION_ID_HEADER.toLowerCase()];
      if (typeof transaction === "string") {
        transactionId = transaction;
        headers[TRANSACTION_ID_HEADER] = transaction;
      }
      response.writeHead(answer.status, headers);
      response.end(answer.body);
      return answer.status;
    }
  };
}
