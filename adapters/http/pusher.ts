import { PushFailedError } from "../../domain/delivery/delivery-service.ts";
import type { Pusher } from "../../domain/delivery/model.ts";
import type { EnvironmentKeys } from "../../domain/identity/key-certificate.ts";
import { signPlatformToken } from "../../domain/identity/platform-token.ts";
import { type EndpointPolicy, EndpointRefusedError } from "../../domain/registry/endpoint-policy.ts";
import { guardedHttp, type Resolver } from "./guarded-request.ts";

/** The consumer's answer is not used: read no more of it than this. */
const MAX_ANSWER_BYTES = 1024 * 1024;

/**
 * Pushes deliveries to consumers' Agent Nodes over HTTPS, each POST signed with this
 * environment's key, certified by the platform's key (`aud` = the consumer system), and carrying
 * the message id as `Idempotency-Key`. Only endpoints and addresses the policy allows are called,
 * checked again at every connection. Any answer is returned with its status; not being reached,
 * not in time, or the key not being certified (503), is a failed push.
 */
export function httpPusher(
  keys: EnvironmentKeys,
  issuer: string,
  timeoutMs: number,
  policy: EndpointPolicy,
  resolver?: Resolver,
): Pusher {
  const send = guardedHttp(policy, resolver);
  return async (request) => {
    const url = new URL(`${request.endpoint.replace(/\/$/, "")}${request.path}`);
    const body = JSON.stringify(request.body);
    let token: string;
    try {
      token = await signPlatformToken(keys, {
        issuer,
        audience: request.consumerSystem,
        method: "POST",
        path: url.pathname,
        query: url.searchParams,
        body,
      });
    } catch (error) {
      // The key could not be certified (KMS throttled or down): a failed push, retried like any other.
      throw new PushFailedError(503, `the platform could not sign the push to ${request.consumerSystem}`, {
        cause: error,
        slug: "dependency-unavailable",
      });
    }
    try {
      // Deliveries go to the registered endpoint, never where it redirects: a 3xx is a failed push.
      const response = await send(url, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${token}`,
          "Content-Type": "application/json",
          "Idempotency-Key": request.messageId,
          "X-Transaction-Id": request.transactionId,
        },
        body,
        timeoutMs,
        maxBytes: MAX_ANSWER_BYTES,
      });
      return { status: response.status, bytes: Buffer.byteLength(body) };
    } catch (error) {
      if (error instanceof EndpointRefusedError) {
        throw new PushFailedError(error.status, error.message, { cause: error, slug: error.slug });
      }
      const timedOut = error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      throw new PushFailedError(
        timedOut ? 504 : 502,
        timedOut
          ? `${request.consumerSystem} did not answer within ${timeoutMs} ms`
          : `${request.consumerSystem} could not be reached`,
        { cause: error },
      );
    }
  };
}
