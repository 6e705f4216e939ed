import {
  type Upstream,
  UpstreamFailedError,
  type UpstreamRequest,
  UpstreamTimeoutError,
} from "../../domain/exchange/model.ts";
import type { EnvironmentKeys } from "../../domain/identity/key-certificate.ts";
import { signPlatformToken } from "../../domain/identity/platform-token.ts";
import { type EndpointPolicy, EndpointRefusedError } from "../../domain/registry/endpoint-policy.ts";
import { AnswerTooLargeError, guardedHttp, type Resolver } from "./guarded-request.ts";

/** Largest answer taken from a provider: Lambda returns at most 6 MB to API Gateway anyway. */
const MAX_ANSWER_BYTES = 6 * 1024 * 1024;

/**
 * Calls providers' Agent Nodes over HTTPS, each call signed with this environment's key, certified
 * by the platform's key, so the provider can verify it came from the platform (and for which
 * consumer and transaction); when the key cannot be certified, nothing is sent and the exchange
 * fails with a 503 (`KeyCertificationError`). Only
 * endpoints and addresses the policy allows are called (checked again at every connection);
 * connections are reused across invocations.
 */
export function httpUpstream(
  keys: EnvironmentKeys,
  issuer: string,
  timeoutMs: number,
  policy: EndpointPolicy,
  resolver?: Resolver,
): Upstream {
  const send = guardedHttp(policy, resolver);
  return async (request: UpstreamRequest) => {
    const url = new URL(`${request.endpoint.replace(/\/$/, "")}${request.path}`);
    for (const [key, value] of request.query ?? []) url.searchParams.append(key, value);
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const token = await signPlatformToken(keys, {
      issuer,
      audience: request.providerSystem,
      method: request.method,
      path: url.pathname,
      query: url.searchParams,
      ...(body ? { body } : {}),
      ...(request.endUser !== undefined ? { endUser: request.endUser } : {}),
      ...(request.caseRef !== undefined ? { caseRef: request.caseRef } : {}),
    });
    let response: Awaited<ReturnType<typeof send>>;
    try {
      response = await send(url, {
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
        timeoutMs,
        maxBytes: MAX_ANSWER_BYTES,
      });
    } catch (error) {
      if (error instanceof EndpointRefusedError) throw error;
      if (error instanceof AnswerTooLargeError) {
        throw new UpstreamFailedError(`${request.providerSystem} answered more than ${MAX_ANSWER_BYTES} bytes`);
      }
      if (error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError")) {
        throw new UpstreamTimeoutError(`${request.providerSystem} did not answer within ${timeoutMs} ms`, {
          cause: error,
        });
      }
      throw new UpstreamFailedError(`${request.providerSystem} could not be reached`, { cause: error });
    }
    // A provider's answer comes from its registered endpoint, never from where it redirects.
    if (response.status >= 300 && response.status < 400) {
      throw new UpstreamFailedError(
        `${request.providerSystem} answered with a redirect, which the platform does not follow`,
      );
    }
    if (response.status >= 500) {
      throw new UpstreamFailedError(`${request.providerSystem} answered ${response.status}`);
    }
    const text = response.body.toString("utf8");
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch (error) {
      throw new UpstreamFailedError(`${request.providerSystem} answered something that is not JSON`, { cause: error });
    }
    return { status: response.status, body: parsed, bytes: response.body.length };
  };
}
