import { type IncomingMessage, request } from "node:http";
import { createLocalJWKSet, type JWTPayload, jwtVerify } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { consumerApi } from "../../../agent/consumer-api.ts";
import { AgentMetrics } from "../../../agent/ops/metrics.ts";
import { PlatformClient } from "../../../agent/platform-client.ts";
import { bodyDigest, canonicalTarget } from "../../../domain/identity/request-token.ts";
import type { ProblemDetails } from "../../../domain/problem.ts";
import { json, nodeKey, quietLogger, readAll, serve, sha256Hex } from "./helpers.ts";

const AUDIENCE = "urn:dscp:test";
const DATASET = "MPS.POPULATION.CITIZENS";
const API_KEY = "hr-portal-secret-key";

/** What the fake platform saw of each call: the verified token's claims and the body. */
interface Seen {
  readonly payload: JWTPayload;
  readonly body: string;
  readonly url: string;
}

let node: Awaited<ReturnType<typeof serve>>;
let platform: Awaited<ReturnType<typeof serve>>;
let client: PlatformClient;
const seen: Seen[] = [];
const metrics = new AgentMetrics();
let slowMs = 0;

beforeAll(async () => {
  const key = await nodeKey("MOH.PORTAL");
  const keySet = createLocalJWKSet({ keys: [key.publicJwk] });
  // The platform's exchange routes as Contract 2 and design.md say: verify the token, then answer.
  platform = await serve(async (request: IncomingMessage, response) => {
    const body = (await readAll(request)).toString("utf8");
    const url = new URL(request.url ?? "/", "http://platform");
    const path = url.pathname.replace(/^\/prod/, "");
    try {
      const token = String(request.headers.authorization).replace(/^Bearer /, "");
      const { payload } = await jwtVerify(token, keySet, { audience: AUDIENCE, issuer: "MOH.PORTAL" });
      if (payload.htu !== canonicalTarget(path, url.searchParams) || payload.htm !== request.method) {
        return json(response, 401, { type: "urn:dscp:problem:auth:token-not-for-request" });
      }
      if (body && payload.bdy !== bodyDigest(body)) return json(response, 401, { type: "body" });
      seen.push({ payload, body, url: request.url ?? "" });
    } catch {
      return json(response, 401, { type: "urn:dscp:problem:auth:bad-signature" });
    }
    if (slowMs) await new Promise((resolve) => setTimeout(resolve, slowMs));
    json(response, 200, { datasetId: DATASET, record: { fullName: "Nguyen Van A" } }, { "X-Transaction-Id": "tx-1" });
  });
  client = new PlatformClient({
    apiUrl: `${platform.url}/prod/`,
    audience: AUDIENCE,
    identity: () => key.identity,
    timeoutMs: 500,
  });
  node = await serve(
    consumerApi({
      clients: [{ name: "hr-portal", apiKeySha256: sha256Hex(API_KEY) }],
      platform: client,
      calls: () => new Set([DATASET]),
      metrics,
      logger: quietLogger,
    }),
  );
});

afterAll(async () => {
  client.close();
  await node.stop();
  await platform.stop();
});

const problemOf = async (response: Response) => (await response.json()) as ProblemDetails;

const call = (path: string, init: RequestInit = {}) =>
  fetch(`${node.url}${path}`, {
    ...init,
    headers: { Authorization: `Bearer ${API_KEY}`, ...(init.headers as Record<string, string>) },
  });

describe("the consumer side", () => {
  it("signs a record call with the node's key, names the end user and case, and returns the platform's answer", async () => {
    const response = await call(`/v1/exchange/${DATASET}/records/001?fields=fullName`, {
      headers: { "X-DSCP-User": "officer.lan@moh.gov.vn", "X-DSCP-Case": "HR-2026-114" },
    });

    expect(response.status).toBe(200);
    expect(response.headers.get("x-transaction-id")).toBe("tx-1");
    expect(await problemOf(response)).toEqual({ datasetId: DATASET, record: { fullName: "Nguyen Van A" } });
    expect(seen.at(-1)?.payload).toMatchObject({
      iss: "MOH.PORTAL",
      htm: "GET",
      htu: `/v1/exchange/${DATASET}/records/001?fields=fullName`,
      usr: "officer.lan@moh.gov.vn",
      case: "HR-2026-114",
    });
  });

  it("forwards a query's body as it came, its digest in the token, and takes the key as X-API-Key", async () => {
    const body = JSON.stringify({ filters: { province: "HN" }, limit: 5 });

    const response = await fetch(`${node.url}/v1/exchange/${DATASET}/query`, {
      method: "POST",
      body,
      headers: { "X-API-Key": API_KEY, "Content-Type": "application/json" },
    });

    expect(response.status).toBe(200);
    expect(seen.at(-1)?.body).toBe(body);
    expect(seen.at(-1)?.payload).not.toHaveProperty("usr");
  });

  it("refuses a caller without a known API key, forwarding nothing", async () => {
    const before = seen.length;

    const response = await fetch(`${node.url}/v1/exchange/${DATASET}/records/001`, {
      headers: { Authorization: "Bearer not-the-key" },
    });

    expect(response.status).toBe(401);
    expect((await problemOf(response)).type).toBe("urn:dscp:problem:auth:unauthenticated");
    expect(seen.length).toBe(before);
  });

  it("refuses a dataset the central configuration does not let it call with a 403 problem", async () => {
    const response = await call("/v1/exchange/MOF.TAX.PAYERS/records/001");

    expect(response.status).toBe(403);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    expect((await problemOf(response)).detail).toMatch(/MOF\.TAX\.PAYERS is not among the datasets this node may call/);
  });

  it("names an end user written in UTF-8 as written", async () => {
    const name = "Nguyễn Văn Lan";
    const status = await new Promise<number>((resolve, reject) => {
      const call = request(
        `${node.url}/v1/exchange/${DATASET}/records/001`,
        // What a client sends raw: the name's UTF-8 bytes, which Node reads back as Latin-1.
        { headers: { "X-API-Key": API_KEY, "X-DSCP-User": Buffer.from(name, "utf8").toString("latin1") } },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      call.on("error", reject);
      call.end();
    });

    expect(status).toBe(200);
    expect(seen.at(-1)?.payload.usr).toBe(name);
  });

  it("refuses an end user longer than 200 characters, naming the header", async () => {
    const response = await call(`/v1/exchange/${DATASET}/records/001`, { headers: { "X-DSCP-User": "u".repeat(201) } });

    expect(response.status).toBe(400);
    expect((await problemOf(response)).invalidParams).toEqual([
      { name: "X-DSCP-User", reason: "must be 1 to 200 printable characters" },
    ]);
  });

  it("answers 404 for a path that is not an exchange route", async () => {
    expect((await call("/v1/permissions")).status).toBe(404);
  });

  it("reuses its connection to the platform across calls", async () => {
    const before = platform.connections();

    for (let index = 0; index < 5; index++) await call(`/v1/exchange/${DATASET}/records/00${index}`);

    expect(platform.connections() - before).toBeLessThanOrEqual(1);
  });

  it("answers 504 when the platform does not answer in time", async () => {
    slowMs = 1500;
    try {
      const response = await call(`/v1/exchange/${DATASET}/records/001`);

      expect(response.status).toBe(504);
      expect((await problemOf(response)).type).toBe("urn:dscp:problem:platform-timeout");
    } finally {
      slowMs = 0;
    }
  });

  it("counts requests by side and outcome", () => {
    expect(metrics.requests.get({ side: "consumer", outcome: "ok" })).toBeGreaterThan(0);
    expect(metrics.requests.get({ side: "consumer", outcome: "forbidden" })).toBe(1);
    expect(metrics.render()).toContain('dscp_agent_requests_total{side="consumer",outcome="forbidden"} 1');
  });
});

describe("a platform that cannot be reached", () => {
  it("gives the internal client a 502 problem it can read", async () => {
    const key = await nodeKey();
    const gone = await serve(() => {});
    await gone.stop();
    const unreachable = new PlatformClient({ apiUrl: gone.url, audience: AUDIENCE, identity: () => key.identity });
    const lonely = await serve(
      consumerApi({
        clients: [{ name: "hr", apiKeySha256: sha256Hex(API_KEY) }],
        platform: unreachable,
        calls: () => new Set([DATASET]),
        metrics: new AgentMetrics(),
        logger: quietLogger,
      }),
    );
    try {
      const response = await fetch(`${lonely.url}/v1/exchange/${DATASET}/records/1`, {
        headers: { "X-API-Key": API_KEY },
      });

      expect(response.status).toBe(502);
      expect(await problemOf(response)).toMatchObject({
        type: "urn:dscp:problem:platform-unreachable",
        detail: expect.stringMatching(/the platform could not be reached/),
      });
    } finally {
      unreachable.close();
      await lonely.stop();
    }
  });
});
