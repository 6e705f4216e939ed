import { PushFailedError } from "../../domain/delivery/delivery-service.ts";
import type { Pusher } from "../../domain/delivery/model.ts";
import { type PlatformSigner, signPlatformToken } from "../../domain/identity/platform-token.ts";

/**
 * Pushes deliveries to consumers' Agent Nodes over HTTPS, each POST signed with the platform's
 * key (`aud` = the consumer system) and carrying the message id as `Idempotency-Key`. Any answer
 * is returned with its status; not being reached, or not in time, is a failed push.
 */
export function httpPusher(signer: PlatformSigner, issuer: string, timeoutMs: number): Pusher {
  return async (request) => {
    const url = new URL(`${request.endpoint.replace(/\/$/, "")}${request.path}`);
    const body = JSON.stringify(request.body);
    const token = await signPlatformToken(signer, {
      issuer,
      audience: request.consumerSystem,
      method: "POST",
      path: url.pathname,
      query: url.searchParams,
      body,
    });
    try {
      const response = await fetch(url, {
        method: "POST",
        headers: {
          Authorization: `Bearer ${token}`,
          "Content-Type": "application/json",
          "Idempotency-Key": request.messageId,
          "X-Transaction-Id": request.transactionId,
        },
        body,
        signal: AbortSignal.timeout(timeoutMs),
        // Deliveries go to the registered endpoint, never where it redirects.
        redirect: "manual",
      });
      // The answer is not used; reading it frees the connection for reuse.
      await response.arrayBuffer();
      return { status: response.status, bytes: Buffer.byteLength(body) };
    } catch (error) {
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
