import { lookup as dnsLookup, type LookupAddress } from "node:dns";
import http from "node:http";
import https from "node:https";
import type { LookupFunction } from "node:net";
import {
  addressRefusal,
  type EndpointPolicy,
  EndpointRefusedError,
  endpointRefusal,
  parseIpAddress,
} from "../../domain/registry/endpoint-policy.ts";

/** Resolves a host name to every address it has (node:dns `lookup` with `all`). */
export type Resolver = (host: string, family: number) => Promise<LookupAddress[]>;

const systemResolver: Resolver = (host, family) =>
  new Promise((resolve, reject) =>
    dnsLookup(host, { all: true, family: family === 4 || family === 6 ? family : 0 }, (error, addresses) =>
      error ? reject(error) : resolve(addresses),
    ),
  );

/**
 * A `lookup` for sockets that resolves the host once, checks every address against the policy
 * and hands the socket only checked addresses: the connection goes to an address that was
 * checked, so a name that resolves elsewhere a moment later (DNS rebinding) gains nothing.
 */
export function guardedLookup(policy: EndpointPolicy, resolver: Resolver = systemResolver): LookupFunction {
  return (host, options, callback) => {
    resolver(host, typeof options.family === "number" ? options.family : 0).then(
      (addresses) => {
        for (const { address } of addresses) {
          const bytes = parseIpAddress(address);
          const refusal = bytes ? addressRefusal(bytes, policy) : "not an IP address";
          if (refusal) {
            callback(new EndpointRefusedError(`${host} resolves to ${address}, a ${refusal} address`), "", 0);
            return;
          }
        }
        const first = addresses[0];
        if (!first) callback(new EndpointRefusedError(`${host} resolves to no address`), "", 0);
        else if (options.all) (callback as (error: null, addresses: LookupAddress[]) => void)(null, addresses);
        else callback(null, first.address, first.family);
      },
      (error: NodeJS.ErrnoException) => callback(error, "", 0),
    );
  };
}

export interface GuardedRequest {
  readonly method: "GET" | "POST";
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  readonly timeoutMs: number;
  /** Answers longer than this are cut off with {@link AnswerTooLargeError}. */
  readonly maxBytes: number;
}

export interface GuardedResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

/** The answer was longer than the caller takes. */
export class AnswerTooLargeError extends Error {
  override readonly name = "AnswerTooLargeError";
}

/**
 * Calls an agency's endpoint as the policy allows: the URL checked (scheme, credentials, host
 * literal in any encoding), every address its host resolves to checked at connect time, and
 * redirects never followed (a 3xx is returned as it came). Connections are kept alive across
 * invocations, each pool keyed by host.
 */
export function guardedHttp(policy: EndpointPolicy, resolver?: Resolver) {
  const lookup = guardedLookup(policy, resolver);
  const agents = {
    "http:": new http.Agent({ keepAlive: true, lookup }),
    "https:": new https.Agent({ keepAlive: true, lookup }),
  };
  // What the policy says of each endpoint seen (a pure judgement): judged once per environment.
  const judged = new Map<string, string | undefined>();
  return (url: URL, request: GuardedRequest): Promise<GuardedResponse> => {
    // The endpoint is judged as registered: this URL's own path and query are the platform's.
    const endpoint = new URL(url);
    endpoint.search = "";
    endpoint.hash = "";
    let refusal = judged.get(endpoint.href);
    if (!judged.has(endpoint.href)) {
      refusal = endpointRefusal(endpoint.href, policy);
      if (judged.size >= 1_000) judged.clear();
      judged.set(endpoint.href, refusal);
    }
    if (refusal) return Promise.reject(new EndpointRefusedError(`${url.origin}: ${refusal}`));
    const agent = url.protocol === "https:" ? agents["https:"] : agents["http:"];
    const transport = url.protocol === "https:" ? https : http;
    return new Promise<GuardedResponse>((resolve, reject) => {
      const outgoing = transport.request(
        url,
        {
          method: request.method,
          headers: {
            ...request.headers,
            ...(request.body === undefined ? {} : { "Content-Length": String(Buffer.byteLength(request.body)) }),
          },
          agent,
          lookup,
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > request.maxBytes) {
              outgoing.destroy(new AnswerTooLargeError(`the answer is longer than ${request.maxBytes} bytes`));
              return;
            }
            chunks.push(chunk);
          });
          response.on("error", reject);
          response.on("close", () => {
            if (!response.complete) reject(new Error("the connection closed before the answer ended"));
          });
          response.on("end", () =>
            resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }),
          );
        },
      );
      // One timer for the whole call (connection, request and answer), cheaper than an AbortSignal.
      const timer = setTimeout(() => {
        outgoing.destroy(
          Object.assign(new Error(`no complete answer within ${request.timeoutMs} ms`), { name: "TimeoutError" }),
        );
      }, request.timeoutMs);
      outgoing.on("close", () => clearTimeout(timer));
      outgoing.on("error", reject);
      outgoing.end(request.body);
    });
  };
}
