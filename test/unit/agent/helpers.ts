import { createHash, randomUUID, sign } from "node:crypto";
import { mkdtempSync } from "node:fs";
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, type JWK, jwtVerify } from "jose";
import type { Backend, QueryRequest, RecordRequest } from "../../../agent/backends/types.ts";
import { keygen, loadKeyFile, signingIdentity } from "../../../agent/keys.ts";
import { createLogger } from "../../../agent/ops/log.ts";
import type { Heartbeat } from "../../../agent/platform-client.ts";
import type { AgentConfig, ServedDataset } from "../../../domain/agent/config.ts";
import { jwsSigningInput } from "../../../domain/identity/es256.ts";
import { CERTIFICATE_HEADER, environmentKeys } from "../../../domain/identity/key-certificate.ts";
import { type PlatformCall, signPlatformToken } from "../../../domain/identity/platform-token.ts";
import { platformKeyFixture } from "../domain/fixtures.ts";

/** A server on 127.0.0.1 (any free port), its URL, and how to stop it. */
export async function serve(listener: RequestListener): Promise<{
  url: string;
  connections: () => number;
  stop: () => Promise<void>;
}> {
  const server = createServer(listener);
  let connections = 0;
  server.on("connection", () => connections++);
  const port = await new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.address() as AddressInfo).port)),
  );
  return {
    url: `http://127.0.0.1:${port}`,
    connections: () => connections,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export function readAll(request: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => resolve(Buffer.concat(chunks)));
    request.on("error", reject);
  });
}

export function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
  response.writeHead(status, { "Content-Type": "application/json", ...headers });
  response.end(JSON.stringify(body));
}

/** A node key file for `systemId`, made in a fresh folder: its path, identity and public key. */
export async function nodeKey(systemId = "MOH.PORTAL") {
  const keyFile = join(mkdtempSync(join(tmpdir(), "agent-test-")), "node-key.json");
  const { publicJwk } = await keygen({ keyFile, systemId });
  return { keyFile, publicJwk, identity: signingIdentity(loadKeyFile(keyFile)) };
}

export const sha256Hex = (text: string) => createHash("sha256").update(text).digest("hex");

export const quietLogger = createLogger("silent");

/** A Backend held in memory, for the provider side's tests; `down` makes every call unavailable. */
export class FakeBackend implements Backend {
  readonly type = "rest" as const;
  readonly calls: Array<RecordRequest | QueryRequest> = [];
  closed = false;
  failure: Error | undefined;

  constructor(
    readonly name: string,
    readonly records: ReadonlyMap<string, Record<string, unknown>>,
    readonly refuse: (dataset: ServedDataset) => void = () => {},
  ) {}

  validate(dataset: ServedDataset): void {
    this.refuse(dataset);
  }

  async getRecord(request: RecordRequest): Promise<Record<string, unknown> | undefined> {
    this.calls.push(request);
    if (this.failure) throw this.failure;
    const found = this.records.get(request.key);
    return found && pick(found, request.fields);
  }

  async query(request: QueryRequest): Promise<{ items: Record<string, unknown>[]; nextCursor?: string }> {
    this.calls.push(request);
    if (this.failure) throw this.failure;
    const items = [...this.records.values()].filter((record) =>
      Object.entries(request.filters).every(([field, value]) => record[field] === value),
    );
    return { items: items.slice(0, request.limit).map((record) => pick(record, request.fields)) };
  }

  async check(): Promise<void> {
    if (this.failure) throw this.failure;
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

function pick(record: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  return fields.length === 0 ? record : Object.fromEntries(fields.map((field) => [field, record[field]]));
}

/**
 * The platform's side of trust, as the tests need it: a published key set served over HTTP (keys
 * can be added later, as the platform rotates), and tokens signed like the platform's calls and
 * configurations (an environment key certified by a published key).
 */
export async function fakePlatformKeys(issuer = "urn:dscp:test") {
  const first = platformKeyFixture("platform-key-1");
  const published: Array<Record<string, unknown>> = [first.jwk as Record<string, unknown>];
  let keys = environmentKeys(first.signer);
  const server = await serve((_request, response) => json(response, 200, { keys: published }));
  return {
    issuer,
    jwksUrl: `${server.url}/v1/platform/keys`,
    /** Tokens are signed by a new platform key, published only from now on when `publish`. */
    rotate(publish: boolean) {
      const next = platformKeyFixture(`platform-key-${published.length + 1}`);
      if (publish) published.push(next.jwk as Record<string, unknown>);
      keys = environmentKeys(next.signer);
    },
    /** A platform token for a call to `audience`. */
    call: (audience: string, call: Omit<PlatformCall, "issuer" | "audience">) =>
      signPlatformToken(keys, { issuer, audience, ...call }),
    /** A compact JWS of `claims` with header `typ`, signed like a platform token. */
    async signJws(typ: string, claims: Record<string, unknown>) {
      const iat = Math.floor(Date.now() / 1000);
      const payload = { iss: issuer, iat, exp: iat + 3600, jti: randomUUID(), ...claims };
      const key = await keys.keyUntil(payload.exp as number);
      const header = { alg: "ES256", kid: key.kid, typ, [CERTIFICATE_HEADER]: key.certificate };
      const input = jwsSigningInput(header, payload);
      const signature = sign("sha256", Buffer.from(input), { key: key.privateKey, dsaEncoding: "ieee-p1363" });
      return `${input}.${signature.toString("base64url")}`;
    },
    stop: () => server.stop(),
  };
}

/**
 * The platform's node routes as Contract 2 says: the system's signed configuration (304 on its
 * current revision, 404 before one is set) and its heartbeat; every call's token verified.
 */
export async function fakeNodeRoutes(
  platformKeys: Awaited<ReturnType<typeof fakePlatformKeys>>,
  nodePublicJwk: JWK,
  systemId: string,
  audience = platformKeys.issuer,
) {
  const state = {
    revision: 0,
    config: undefined as AgentConfig | undefined,
    signer: platformKeys as Pick<typeof platformKeys, "signJws">,
    down: false,
    beats: [] as Heartbeat[],
    fetches: 0,
    /** Exchange paths called (answered with one record). */
    exchanged: [] as string[],
  };
  const keySet = createLocalJWKSet({ keys: [nodePublicJwk] });
  const server = await serve(async (request, response) => {
    const body = await readAll(request);
    if (state.down) return request.socket.destroy();
    const token = String(request.headers.authorization).replace(/^Bearer /, "");
    try {
      await jwtVerify(token, keySet, { audience: audience, issuer: systemId });
    } catch {
      return json(response, 401, { type: "urn:dscp:problem:auth:bad-signature" });
    }
    const path = new URL(request.url ?? "/", "http://p").pathname;
    if (request.method === "GET" && path === `/v1/systems/${systemId}/agent-config`) {
      state.fetches++;
      if (!state.config) return json(response, 404, { type: "urn:dscp:problem:not-found" });
      if (request.headers["if-none-match"] === `"${state.revision}"`) {
        response.writeHead(304);
        return response.end();
      }
      const signed = await state.signer.signJws("dscp-agent-config+jwt", {
        aud: systemId,
        sub: systemId,
        rev: state.revision,
        cfg: state.config,
      });
      return json(response, 200, {
        systemId: systemId,
        revision: state.revision,
        config: state.config,
        updatedAt: new Date().toISOString(),
        signed,
      });
    }
    if (path.startsWith("/v1/exchange/")) {
      state.exchanged.push(path);
      return json(response, 200, { record: { fullName: "Nguyen Van A" } }, { "X-Transaction-Id": "tx-e2e" });
    }
    if (request.method === "POST" && path === `/v1/systems/${systemId}/heartbeat`) {
      state.beats.push(JSON.parse(body.toString("utf8")) as Heartbeat);
      return json(response, 200, { configRevision: state.revision, release: "0.1.0" });
    }
    json(response, 404, {});
  });
  return {
    state,
    url: server.url,
    set(config: AgentConfig) {
      state.revision += 1;
      state.config = config;
    },
    stop: server.stop,
  };
}
