import { describe, expect, it } from "vitest";
import { httpPusher } from "../../../adapters/http/pusher.ts";
import { httpUpstream } from "../../../adapters/http/upstream.ts";
import { PushFailedError } from "../../../domain/delivery/delivery-service.ts";
import { environmentKeys, KeyCertificationError } from "../../../domain/identity/key-certificate.ts";
import { endpointPolicy } from "../../../domain/registry/endpoint-policy.ts";

/** A platform key whose every Sign is throttled, as KMS does past the account's quota. */
const throttledKeys = environmentKeys({
  keyId: "platform-key-1",
  publicKey: async () => new Uint8Array(),
  sign: async () => {
    throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
  },
});
// Port 9 (discard) on loopback: were anything sent, the call would fail as unreachable instead.
const endpoint = "http://127.0.0.1:9";

describe("calls the platform cannot sign because KMS is throttled", () => {
  it("fail an exchange with a 503 to retry later, before anything is sent to the provider", async () => {
    const upstream = httpUpstream(throttledKeys, "urn:dscp:test", 1000, endpointPolicy("local"));

    const failure = await upstream({
      providerSystem: "MPS.POPULATION",
      endpoint,
      path: "/citizens/records/1",
      method: "GET",
      transactionId: "tx-1",
      consumerSystem: "HCM.PORTAL",
      purpose: "test",
    }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(KeyCertificationError);
    expect(failure).toMatchObject({ status: 503, retryAfterSeconds: 2 });
  });

  it("fail a push as a 503 push failure, which is retried like any other", async () => {
    const pusher = httpPusher(throttledKeys, "urn:dscp:test", 1000, endpointPolicy("local"));

    const failure = await pusher({
      consumerSystem: "HCM.PORTAL",
      endpoint,
      path: "/dscp/deliveries",
      body: { records: [] },
      transactionId: "tx-2",
      messageId: "m-1",
    }).catch((error: unknown) => error);

    expect(failure).toBeInstanceOf(PushFailedError);
    expect(failure).toMatchObject({ status: 503, slug: "dependency-unavailable" });
  });
});
