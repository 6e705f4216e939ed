import {
  type Upstream,
  UpstreamFailedError,
  type UpstreamRequest,
  UpstreamTimeoutError,
} from "../../domain/exchange/model.ts";
import { type PlatformSigner, signPlatformToken } from "../../domain/identity/platform-token.ts";

/** Largest answer taken from a provider: Lambda returns at most 6 MB to API Gateway anyway. */
const MAX_ANSWER_BYTES = 6 * 1024 * 1024;

/**
 * Calls providers' Agent Nodes over HTTPS, each call signed with the platform's key so the
 * provider can verify it came from the platform (and for which consumer and transaction).
 * Connections are reused across invocations by the runtime's fetch.
 */
export function httpUpstream(signer: PlatformSigner, issuer: string, timeoutMs: number): Upstream {
  return async (request: UpstreamRequest) => {
    const url = new URL(`${request.endpoint.replace(/\/$/, "")}${request.path}`);
    for (const [key, value] of request.query ?? []) url.searchParams.append(key, value);
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const token = await signPlatformToken(signer, {
      issuer,
      audience: request.providerSystem,
      method: request.method,
      path: url.pathname,
      query: url.searchParams,
      ...(body ? { body } : {}),
    });
    let response: Response;
    try {
      response = await fetch(url, {
        method: request.method,
        headers: {
          Authorization: `Bearer ${token}`,
          Accept: "application/json",
          "X-Transaction-Id": request.transactionId,
          "X-DSCP-Consumer": request.consumerSystem,
          "X-DSCP-Purpose": encodeURIComponent(request.purpose),
          ...(body ? { "Content-Type": "application/json" } : {}),
        },
        ...(body ? { body } : {}),
        signal: AbortSignal.timeout(timeoutMs),
        // A provider's answer comes from its registered endpoint, never from where it redirects.
        redirect: "manual",
      });
    } catch (error) {
      if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
        throw new UpstreamTimeoutError(`${request.providerSystem} did not answer within ${timeoutMs} ms`, {
          cause: error,
        });
      }
      throw new UpstreamFailedError(`${request.providerSystem} could not be reached`, { cause: error });
    }
    const declared = Number(response.headers.get("content-length") ?? 0);
    if (declared > MAX_ANSWER_BYTES)
      throw new UpstreamFailedError(`${request.providerSystem} answered more than ${MAX_ANSWER_BYTES} bytes`);
    const text = await response.text();
    if (Buffer.byteLength(text) > MAX_ANSWER_BYTES) {
      throw new UpstreamFailedError(`${request.providerSystem} answered more than ${MAX_ANSWER_BYTES} bytes`);
    }
    if (response.status >= 300 && response.status < 400) {
      throw new UpstreamFailedError(
        `${request.providerSystem} answered with a redirect, which the platform does not follow`,
      );
    }
    if (response.status >= 500) {
      throw new UpstreamFailedError(`${request.providerSystem} answered ${response.status}`);
    }
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch (error) {
      throw new UpstreamFailedError(`${request.providerSystem} answered something that is not JSON`, { cause: error });
    }
    return { status: response.status, body: parsed, bytes: Buffer.byteLength(text) };
  };
}
