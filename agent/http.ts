import type { IncomingMessage, ServerResponse } from "node:http";
import {
  type InvalidParam,
  PROBLEM_CONTENT_TYPE,
  type ProblemDetails,
  problemTypeUri,
  TRANSACTION_ID_HEADER,
} from "../domain/problem.ts";

/*
 * What both sides of the node need of node:http: bodies read with a limit, and answers as JSON
 * or RFC 9457 problems, the same types the platform uses (`urn:dscp:problem:…`).
 */

/** A body longer than the side allows. */
export class BodyTooLargeError extends Error {
  override readonly name = "BodyTooLargeError";
}

/** A request's whole body, refusing more than `maxBytes`. */
export function readBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(request.headers["content-length"] ?? 0);
    if (declared > maxBytes) {
      request.resume();
      reject(new BodyTooLargeError(`the body exceeds ${maxBytes} bytes`));
      return;
    }
    const chunks: Buffer[] = [];
    let length = 0;
    request.on("data", (chunk: Buffer) => {
      length += chunk.length;
      if (length > maxBytes) {
        request.removeAllListeners("data");
        request.resume();
        reject(new BodyTooLargeError(`the body exceeds ${maxBytes} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

export function sendJson(
  response: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": String(Buffer.byteLength(text)),
    ...headers,
  });
  response.end(text);
}

/** A problem the node itself answers with. */
export class NodeProblem extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    detail: string,
    readonly invalidParams: readonly InvalidParam[] = [],
    options?: ErrorOptions,
  ) {
    super(detail, options);
  }
}

export function sendProblem(
  response: ServerResponse,
  problem: NodeProblem,
  context: { instance?: string; transactionId?: string } = {},
): void {
  const body: ProblemDetails = {
    type: problemTypeUri(problem.slug),
    title: problem.title,
    status: problem.status,
    detail: problem.message,
    ...context,
    ...(problem.invalidParams.length > 0 ? { invalidParams: problem.invalidParams } : {}),
  };
  const text = JSON.stringify(body);
  response.writeHead(problem.status, {
    "Content-Type": PROBLEM_CONTENT_TYPE,
    "Content-Length": String(Buffer.byteLength(text)),
    ...(context.transactionId ? { [TRANSACTION_ID_HEADER]: context.transactionId } : {}),
  });
  response.end(text);
}

/** `/v1/exchange/{datasetId}/records/{key}` as a matcher of request paths: parameters decoded, or undefined. */
export function pathMatcher(template: string): (path: string) => Record<string, string> | undefined {
  const names: string[] = [];
  const pattern = new RegExp(
    `^${template.replace(/[.*+?^$()|[\]\\]/g, "\\$&").replace(/\{([^}]+)\}/g, (_, name: string) => {
      names.push(name);
      return "([^/]+)";
    })}$`,
  );
  return (path) => {
    const match = pattern.exec(path);
    if (!match) return undefined;
    try {
      return Object.fromEntries(names.map((name, index) => [name, decodeURIComponent(match[index + 1] as string)]));
    } catch {
      return undefined;
    }
  };
}
