import { readFileSync } from "node:fs";
import { request } from "node:https";
import { createRemoteJWKSet } from "jose";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parseLocalConfig } from "../../../agent/config.ts";
import { type AgentNode, startAgentNode } from "../../../agent/node.ts";
import { FakeBackend, fakeNodeRoutes, fakePlatformKeys, nodeKey } from "./helpers.ts";

/*
 * Internal clients identified by their certificate (mTLS): fixtures/tls holds a test CA, the
 * node's server certificate for 127.0.0.1, a client certificate `CN=hr-portal` the CA issued, and
 * one of the same subject from another CA. Test material only, valid for a century.
 */

const TLS = new URL("./fixtures/tls/", import.meta.url);
const pem = (name: string) => readFileSync(new URL(name, TLS));
const SYSTEM = "MOH.PORTAL";
const DATASET = "MPS.POPULATION.CITIZENS";

let platformKeys: Awaited<ReturnType<typeof fakePlatformKeys>>;
let platform: Awaited<ReturnType<typeof fakeNodeRoutes>>;
let node: AgentNode;

beforeAll(async () => {
  platformKeys = await fakePlatformKeys();
  const key = await nodeKey(SYSTEM);
  platform = await fakeNodeRoutes(platformKeys, key.publicJwk, SYSTEM);
  platform.set({ serves: [], calls: [DATASET], subscriptions: [], publishes: [] });
  const config = parseLocalConfig(
    {
      platform: { apiUrl: platform.url, audience: platformKeys.issuer, systemId: SYSTEM, keyFile: key.keyFile },
      consumer: {
        port: 0,
        clients: [{ name: "hr", certificateSubject: "hr-portal" }],
        tls: { cert: "server.crt", key: "server.key", clientCa: "ca.crt" },
      },
      provider: { host: "127.0.0.1", port: 0 },
      ops: { port: 0 },
      logLevel: "silent",
    },
    { baseDir: TLS.pathname },
  );
  node = await startAgentNode(config, {
    createBackend: (name) => new FakeBackend(name, new Map()),
    keySet: createRemoteJWKSet(new URL(platformKeys.jwksUrl)),
  });
  await vi.waitFor(() => expect(node.central.current?.revision).toBe(1));
});

afterAll(async () => {
  await node.stop();
  await platform.stop();
  await platformKeys.stop();
});

/** GET over HTTPS, trusting the test CA, presenting `client` (a certificate and key name) if given. */
function get(path: string, client?: string): Promise<{ status: number; transactionId?: string }> {
  return new Promise((resolve, reject) => {
    const call = request(
      new URL(path, node.consumerUrl),
      { ca: pem("ca.crt"), ...(client ? { cert: pem(`${client}.crt`), key: pem(`${client}.key`) } : {}) },
      (response) => {
        response.resume();
        response.on("end", () =>
          resolve({
            status: response.statusCode ?? 0,
            ...(response.headers["x-transaction-id"]
              ? { transactionId: String(response.headers["x-transaction-id"]) }
              : {}),
          }),
        );
      },
    );
    call.on("error", reject);
    call.end();
  });
}

describe("the consumer side with mTLS", () => {
  it("identifies a client by its certificate's subject and forwards its call", async () => {
    const answer = await get(`/v1/exchange/${DATASET}/records/001`, "client");

    expect(answer).toEqual({ status: 200, transactionId: "tx-e2e" });
    expect(platform.state.exchanged).toContain(`/v1/exchange/${DATASET}/records/001`);
  });

  it("refuses a client without a certificate", async () => {
    expect((await get(`/v1/exchange/${DATASET}/records/001`)).status).toBe(401);
  });

  it("refuses a certificate of the same subject from another CA", async () => {
    expect((await get(`/v1/exchange/${DATASET}/records/001`, "rogue")).status).toBe(401);
  });
});
