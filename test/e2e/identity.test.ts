import { beforeAll, describe, expect, it } from "vitest";
import { generateIdentity, type IdentityFile } from "../../client/identity-files.ts";
import { signRequest } from "../../client/sign.ts";
import { target } from "./target.ts";
import { createWorld, runId, type World } from "./world.ts";

const { apiUrl, audience, operator } = target();
const run = runId();
let world: World;
let provider: string;
let consumer: string;
let providerSystem: IdentityFile;
let consumerSystem: IdentityFile;
const as = (identity?: IdentityFile) => world.client(identity);

/** A raw request with a hand-made Authorization header, to see each refusal. */
async function rawRequest(method: string, path: string, token: string | undefined, body?: string) {
  const response = await fetch(new URL(path.replace(/^\//, ""), apiUrl), {
    method,
    headers: {
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...(body ? { "Content-Type": "application/json" } : {}),
    },
    ...(body ? { body } : {}),
  });
  return { status: response.status, type: response.headers.get("content-type"), problem: await response.json() };
}

beforeAll(async () => {
  world = await createWorld();
  provider = world.providerAgency;
  consumer = world.consumerAgency;
  providerSystem = world.provider;
  consumerSystem = world.consumer;
});

describe("the registry", () => {
  it("lists the agencies the operator registered, page by page", async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await as(consumerSystem).listAgencies({ limit: 2, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((agency) => agency.code));
      cursor = page.nextCursor;
    } while (cursor);

    expect(seen).toEqual(expect.arrayContaining([provider, consumer, "NDC"]));
  });

  it("refuses a second agency with the same code", async () => {
    const response = await world.admin.send("POST", "/v1/agencies", {
      body: { code: provider, name: "Again", level: "central" },
    });

    expect(response.status).toBe(409);
    expect(response.body).toMatchObject({ type: "urn:dscp:problem:conflict" });
  });

  it("names every invalid field of a registration", async () => {
    const response = await world.admin.send("POST", "/v1/agencies", { body: { code: "x", level: "galactic" } });

    expect(response.status).toBe(400);
    expect(response.headers.get("content-type")).toBe("application/problem+json");
    const names = (response.body as { invalidParams: { name: string }[] }).invalidParams.map((param) => param.name);
    expect(names).toEqual(expect.arrayContaining(["code", "name", "level"]));
  });

  it("refuses private key material sent as a public key", async () => {
    const leaked = await generateIdentity(`${consumer}.LEAKY`);
    const response = await as(consumerSystem).send("POST", `/v1/agencies/${consumer}/systems`, {
      body: {
        id: leaked.systemId,
        name: "Leaky",
        capabilities: ["consumer"],
        keys: [{ kid: "k1", jwk: leaked.privateJwk }],
      },
    });

    expect(response.status).toBe(400);
    expect(JSON.stringify(response.body)).toContain("keys/0/jwk");
  });

  it("lets only the operator register agencies", async () => {
    const response = await as(consumerSystem).send("POST", "/v1/agencies", {
      body: { code: `X${run}`, name: "Self-made", level: "central" },
    });

    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ type: "urn:dscp:problem:forbidden" });
  });

  it("refuses an agency managing another agency's systems", async () => {
    const intruder = await generateIdentity(`${provider}.INTRUDER`);
    const registerForOther = await as(consumerSystem).send("POST", `/v1/agencies/${provider}/systems`, {
      body: { id: intruder.systemId, name: "Intruder", capabilities: ["consumer"] },
    });
    const keyForOther = await as(consumerSystem).send("POST", `/v1/systems/${providerSystem.systemId}/keys`, {
      body: { kid: intruder.kid, jwk: intruder.publicJwk },
    });
    const revokeOther = await as(consumerSystem).send(
      "DELETE",
      `/v1/systems/${providerSystem.systemId}/keys/${providerSystem.kid}`,
    );

    for (const response of [registerForOther, keyForOther, revokeOther]) {
      expect(response.status).toBe(403);
      expect(response.body).toMatchObject({ type: "urn:dscp:problem:forbidden" });
    }
  });

  it("lets an agency register its own system, and only the operator grant roles", async () => {
    const own = await generateIdentity(`${consumer}.REPORTS`);
    const created = await as(consumerSystem).registerSystem(consumer, {
      id: own.systemId,
      name: "Provincial reports",
      capabilities: ["consumer"],
    });
    const escalation = await as(consumerSystem).send("POST", `/v1/agencies/${consumer}/systems`, {
      body: { id: `${consumer}.ROOT`, name: "Root", capabilities: ["consumer"], roles: ["platform-admin"] },
    });

    expect(created).toMatchObject({ id: own.systemId, agencyCode: consumer, roles: [], status: "active" });
    expect(escalation.status).toBe(403);
  });
});

describe("endpoints the platform would be asked to call", () => {
  it.each([
    "http://169.254.169.254/latest/meta-data",
    "http://0xa9fea9fe/",
    "http://[fd00:ec2::254]/",
    "http://10.0.0.1/",
  ])("refuses %s at registration, naming the endpoint", async (endpoint) => {
    const response = await world.admin.send("POST", `/v1/agencies/${provider}/systems`, {
      body: { id: `${provider}.SSRF`, name: "Internal", capabilities: ["provider"], endpoint },
    });

    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ invalidParams: [expect.objectContaining({ name: "endpoint" })] });
  });

  it("is pending until the operator approves the endpoint the system registered", async () => {
    const system = `${provider}.NODE`;
    const registered = await world.admin.registerSystem(provider, {
      id: system,
      name: "Agent Node",
      capabilities: ["provider"],
      endpoint: "https://node.example.gov.vn/dscp",
    });
    const bySystem = await as(providerSystem).send("POST", `/v1/systems/${system}/endpoint/approval`, {
      body: { endpoint: "https://node.example.gov.vn/dscp" },
    });
    const another = await world.admin.send("POST", `/v1/systems/${system}/endpoint/approval`, {
      body: { endpoint: "https://elsewhere.example.gov.vn" },
    });
    const approved = await world.admin.approveEndpoint(system, "https://node.example.gov.vn/dscp");

    expect(registered.endpointStatus).toBe("pending");
    expect(bySystem.status).toBe(403);
    expect(another.status).toBe(409);
    expect(approved).toMatchObject({ endpointStatus: "approved", endpointApprovedBy: "NDC.OPERATOR" });
  });

  it("lists the endpoints awaiting approval to the operator, and an agency only its own", async () => {
    const system = `${provider}.LISTED`;
    const endpoint = "https://listed.example.gov.vn/dscp";
    await as(providerSystem).registerSystem(provider, {
      id: system,
      name: "Agent Node",
      capabilities: ["provider"],
      endpoint,
    });
    /** Every pending system the caller sees, page by page. */
    const pendingSeenBy = async (client: World["admin"]) => {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await client.listSystems({
          endpointStatus: "pending",
          limit: 100,
          ...(cursor ? { cursor } : {}),
        });
        seen.push(...page.items.map((listed) => listed.id));
        cursor = page.nextCursor;
      } while (cursor);
      return seen;
    };

    const beforeApproval = await pendingSeenBy(world.admin);
    const byItsAgency = await pendingSeenBy(as(providerSystem));
    const byAnotherAgency = await pendingSeenBy(as(consumerSystem));
    const naming = await as(consumerSystem).send("GET", `/v1/systems?agency=${provider}&endpointStatus=pending`);
    await world.admin.approveEndpoint(system, endpoint);
    const afterApproval = await pendingSeenBy(world.admin);

    expect(beforeApproval).toContain(system);
    expect(byItsAgency).toContain(system);
    expect(byItsAgency.every((id) => id.startsWith(`${provider}.`))).toBe(true);
    expect(byAnotherAgency).not.toContain(system);
    expect(naming.status).toBe(403);
    expect(afterApproval).not.toContain(system);
  });

  it("is pending again once its agency moves it", async () => {
    const system = `${provider}.MOVING`;
    await world.admin.registerSystem(provider, {
      id: system,
      name: "Agent Node",
      capabilities: ["provider"],
      endpoint: "https://old.example.gov.vn/dscp",
    });
    await world.admin.approveEndpoint(system, "https://old.example.gov.vn/dscp");

    const moved = await as(providerSystem).changeEndpoint(system, "https://new.example.gov.vn/dscp");
    const toMetadata = await as(providerSystem).send("PATCH", `/v1/systems/${system}`, {
      body: { endpoint: "http://[::ffff:a9fe:a9fe]/" },
    });

    expect(moved).toMatchObject({ endpoint: "https://new.example.gov.vn/dscp", endpointStatus: "pending" });
    expect(moved.endpointApprovedBy).toBeUndefined();
    expect(toMetadata.status).toBe(400);
  });
});

describe("systems holding platform roles", () => {
  it("cannot be taken over by a sibling system adding its own key", async () => {
    const auditor = await generateIdentity(`${consumer}.AUDIT`);
    await world.admin.registerSystem(consumer, {
      id: auditor.systemId,
      name: "Provincial inspection",
      capabilities: ["consumer"],
      roles: ["supervisor"],
      keys: [{ kid: auditor.kid, jwk: auditor.publicJwk as never }],
    });

    const takeover = await as(consumerSystem).send("POST", `/v1/systems/${auditor.systemId}/keys`, {
      body: { kid: "sibling", jwk: consumerSystem.publicJwk },
    });
    const own = await as(auditor).send("POST", `/v1/systems/${auditor.systemId}/keys`, {
      body: { kid: "second", jwk: (await generateIdentity(auditor.systemId)).publicJwk },
    });

    expect(takeover.status).toBe(403);
    expect(own.status).toBe(201);
  });
});

describe("re-registering a system that holds a platform role", () => {
  let auditor: IdentityFile;
  /** The sibling's own key pair, as it would plant it under the auditor's id. */
  const planted = (kid: string): IdentityFile => ({ ...consumerSystem, systemId: auditor.systemId, kid });
  const reregister = (kid: string, endpoint?: string) =>
    as(consumerSystem).send("POST", `/v1/agencies/${consumer}/systems`, {
      body: {
        id: auditor.systemId,
        name: "Takeover",
        capabilities: ["consumer"],
        ...(endpoint ? { endpoint } : {}),
        keys: [{ kid, jwk: consumerSystem.publicJwk }],
      },
    });

  beforeAll(async () => {
    auditor = await generateIdentity(`${consumer}.INSPECT`);
    await world.admin.registerSystem(consumer, {
      id: auditor.systemId,
      name: "Provincial inspection",
      capabilities: ["consumer"],
      roles: ["supervisor"],
      keys: [{ kid: auditor.kid, jwk: auditor.publicJwk as never }],
    });
  });

  it("with an oversized endpoint answers 400 and plants no key", async () => {
    const attempt = await reregister("planted", `https://inspect.example.gov.vn/${"x".repeat(300_000)}`);
    const signed = await as(planted("planted")).send("GET", "/v1/agencies");

    expect(attempt.status).toBe(400);
    expect(attempt.body).toMatchObject({ invalidParams: [expect.objectContaining({ name: "endpoint" })] });
    expect(signed.status).toBe(401);
  });

  it("overlapping with itself answers 409 to every attempt, and the key it sends never signs, not even meanwhile", async () => {
    // Signing attempts race the registrations: a key written before the system item was committed would sign here.
    const [attempts, meanwhile] = await Promise.all([
      Promise.all(["race", "race", "race-2", "race-2"].map((kid) => reregister(kid))),
      Promise.all(
        Array.from({ length: 8 }, (_, index) =>
          as(planted(index % 2 === 0 ? "race" : "race-2")).send("GET", "/v1/agencies"),
        ),
      ),
    ]);
    const after = await as(planted("race")).send("GET", "/v1/agencies");

    expect(attempts.map((attempt) => attempt.status)).toEqual([409, 409, 409, 409]);
    expect(meanwhile.map((response) => response.status)).toEqual(Array(8).fill(401));
    expect(after.status).toBe(401);
  });
});

describe("key rotation", () => {
  it("accepts the new key at once and refuses the revoked one", async () => {
    const rotated = await generateIdentity(providerSystem.systemId);
    const oldKey = providerSystem;
    await as(oldKey).addKey(oldKey.systemId, { kid: rotated.kid, jwk: rotated.publicJwk as never });

    const revoked = await as(rotated).revokeKey(oldKey.systemId, oldKey.kid);
    const withNew = await as(rotated).send("GET", "/v1/agencies");
    const withOld = await as(oldKey).send("GET", "/v1/agencies");

    expect(revoked).toMatchObject({ kid: oldKey.kid, status: "revoked", revokedAt: expect.any(String) });
    expect(withNew.status).toBe(200);
    expect(withOld.status).toBe(401);
    expect(withOld.body).toMatchObject({ type: "urn:dscp:problem:auth:revoked-key" });
    providerSystem = rotated;
  });
});

describe("authentication refusals", () => {
  const sign = (
    identity: IdentityFile,
    overrides: Partial<{ audience: string; path: string; now: Date; body: string }> = {},
  ) =>
    signRequest(
      identity,
      overrides.audience ?? audience,
      {
        method: overrides.body ? "POST" : "GET",
        path: overrides.path ?? "/v1/agencies",
        ...(overrides.body ? { body: overrides.body } : {}),
      },
      overrides.now ? { now: overrides.now } : {},
    );

  it.each([
    ["no token at all", async () => undefined, "unauthenticated"],
    ["a token that is not a JWT", async () => "not-a-token", "invalid-token"],
    ["an unknown system", async () => sign(await generateIdentity(`${consumer}.GHOST`)), "unknown-system"],
    [
      "an unregistered key",
      async () => sign({ ...(await generateIdentity(consumerSystem.systemId, "ES256")), kid: "nope" }),
      "unknown-key",
    ],
    [
      "a signature by another key under a registered kid",
      async () => sign({ ...(await generateIdentity(consumerSystem.systemId, "ES256")), kid: consumerSystem.kid }),
      "bad-signature",
    ],
    [
      "an expired token",
      async () => sign(consumerSystem, { now: new Date(Date.now() - 10 * 60_000) }),
      "token-expired",
    ],
    [
      "another platform's audience",
      async () => sign(consumerSystem, { audience: "urn:dscp:elsewhere" }),
      "wrong-audience",
    ],
    [
      "a token signed for another path",
      async () => sign(consumerSystem, { path: "/v1/health" }),
      "token-not-for-request",
    ],
  ])("refuses %s with its own 401 problem type", async (_case, token, failure) => {
    const response = await rawRequest("GET", "/v1/agencies", await token());

    expect(response.status).toBe(401);
    expect(response.type).toBe("application/problem+json");
    expect(response.problem).toMatchObject({ type: `urn:dscp:problem:auth:${failure}`, status: 401 });
  });

  it("refuses on the exchange routes, whose function verifies tokens itself, exactly as the authoriser does elsewhere", async () => {
    const path = `/v1/exchange/${consumerSystem.systemId}.NOTHING/records/1`;
    const cases: Array<[string | undefined, string]> = [
      [undefined, "unauthenticated"],
      ["not-a-token", "invalid-token"],
      [await sign(consumerSystem, { path, now: new Date(Date.now() - 10 * 60_000) }), "token-expired"],
      [await sign(consumerSystem, { path, audience: "urn:dscp:elsewhere" }), "wrong-audience"],
      [await sign(consumerSystem), "token-not-for-request"],
    ];
    const replayed = await sign(consumerSystem, { path });

    const refusals = [];
    for (const [token] of cases) refusals.push(await rawRequest("GET", path, token));
    const first = await rawRequest("GET", path, replayed);
    const second = await rawRequest("GET", path, replayed);

    for (const [index, [, failure]] of cases.entries()) {
      expect(refusals[index]?.status).toBe(401);
      expect(refusals[index]?.type).toBe("application/problem+json");
      expect(refusals[index]?.problem).toMatchObject({
        type: `urn:dscp:problem:auth:${failure}`,
        title: "Authentication failed",
        status: 401,
        transactionId: expect.any(String),
      });
    }
    // Authenticated, then refused for what it asks (no such dataset); the same token again is a replay.
    expect(first.status).not.toBe(401);
    expect(second.status).toBe(401);
    expect(second.problem).toMatchObject({ type: "urn:dscp:problem:auth:token-replayed" });
  });

  it("refuses a replayed token", async () => {
    const token = await sign(consumerSystem);

    const first = await rawRequest("GET", "/v1/agencies", token);
    const second = await rawRequest("GET", "/v1/agencies", token);

    expect(first.status).toBe(200);
    expect(second.status).toBe(401);
    expect(second.problem).toMatchObject({ type: "urn:dscp:problem:auth:token-replayed" });
  });

  it("refuses a body other than the one the token signed", async () => {
    const signedBody = JSON.stringify({ code: `T${run}`, name: "Signed", level: "central" });
    const token = await sign(operator, { body: signedBody });

    const response = await rawRequest("POST", "/v1/agencies", token, signedBody.replace("Signed", "Tampered"));

    expect(response.status).toBe(401);
    expect(response.problem).toMatchObject({ type: "urn:dscp:problem:auth:body-digest-mismatch" });
  });

  it("names the transaction in every refusal", async () => {
    const response = await fetch(new URL("v1/agencies", apiUrl));
    const problem = (await response.json()) as { transactionId: string };

    expect(problem.transactionId).toBe(response.headers.get("x-transaction-id"));
  });
});
