import { beforeAll, describe, expect, it } from "vitest";
import { generateIdentity, type IdentityFile } from "../../../client/identity-files.ts";
import { signRequest } from "../../../client/sign.ts";
import { type AuthenticationInput, authenticate } from "../../../domain/identity/authenticate.ts";
import { AuthenticationError } from "../../../domain/identity/errors.ts";
import type { KeyRecord, SystemRecord } from "../../../domain/registry/model.ts";
import { portalSystemFixture } from "./fixtures.ts";

const AUDIENCE = "urn:dscp:test";
const now = new Date("2026-11-27T08:00:00Z");
let caller: IdentityFile;
let system: SystemRecord;
let key: KeyRecord;

beforeAll(async () => {
  caller = await generateIdentity("HCM.PORTAL", "EdDSA", "k1");
  system = portalSystemFixture(now.toISOString());
  key = {
    systemId: system.id,
    kid: "k1",
    alg: "EdDSA",
    jwk: caller.publicJwk as never,
    status: "active",
    createdAt: now.toISOString(),
  };
});

function input(token: string | undefined, overrides: Partial<AuthenticationInput> = {}): AuthenticationInput {
  const seen = new Set<string>();
  return {
    token,
    audience: AUDIENCE,
    method: "GET",
    target: "/v1/agencies?limit=2",
    now,
    directory: async (id) => (id === system.id ? { system, keys: [key] } : undefined),
    replayGuard: async (issuer, jti) => {
      const id = `${issuer}#${jti}`;
      if (seen.has(id)) return false;
      seen.add(id);
      return true;
    },
    ...overrides,
  };
}

const sign = (options: { lifetimeSeconds?: number; now?: Date } = {}, identity: IdentityFile = caller) =>
  signRequest(
    identity,
    AUDIENCE,
    { method: "GET", path: "/v1/agencies", query: [["limit", "2"]] },
    { now, ...options },
  );

async function failureOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AuthenticationError) return error.failure;
    throw error;
  }
  return "accepted";
}

describe("authenticate", () => {
  it("returns the caller, its key and the token id for a valid token", async () => {
    const result = await authenticate(input(await sign()));

    expect(result.caller).toEqual({
      systemId: "HCM.PORTAL",
      agencyCode: "HCM",
      roles: [],
      capabilities: ["consumer"],
      kid: "k1",
    });
    expect(result.jti).toMatch(/^[\w-]{36}$/);
  });

  it("accepts a Bearer prefix in any case", async () => {
    await expect(authenticate(input(`bearer ${await sign()}`))).resolves.toBeDefined();
  });

  it("refuses a token living longer than five minutes", async () => {
    expect(await failureOf(authenticate(input(await sign({ lifetimeSeconds: 301 }))))).toBe("invalid-token");
  });

  it("refuses a token issued in the future beyond the clock skew", async () => {
    const future = new Date(now.getTime() + 120_000);
    expect(await failureOf(authenticate(input(await sign({ now: future }))))).toBe("invalid-token");
  });

  it("tolerates a small clock skew", async () => {
    const slightlyAhead = new Date(now.getTime() + 30_000);
    expect(await failureOf(authenticate(input(await sign({ now: slightlyAhead }))))).toBe("accepted");
  });

  it("refuses a key whose algorithm is not the registered one", async () => {
    const es256 = await generateIdentity("HCM.PORTAL", "ES256", "k1");
    expect(await failureOf(authenticate(input(await sign({}, es256))))).toBe("bad-signature");
  });

  it("refuses a suspended system as unknown", async () => {
    const token = await sign();
    const suspended = input(token, {
      directory: async () => ({ system: { ...system, status: "suspended" }, keys: [key] }),
    });
    expect(await failureOf(authenticate(suspended))).toBe("unknown-system");
  });

  it("refuses the same query in another order of values as another request", async () => {
    const token = await sign();
    expect(await failureOf(authenticate(input(token, { target: "/v1/agencies?limit=3" })))).toBe(
      "token-not-for-request",
    );
  });

  it("does not spend a token id on a forged signature", async () => {
    const forged = await generateIdentity("HCM.PORTAL", "EdDSA", "k1");
    const jti = "fixed-id";
    const base = input(undefined);
    const forgedToken = await signRequest(
      forged,
      AUDIENCE,
      { method: "GET", path: "/v1/agencies", query: [["limit", "2"]] },
      { now, jti },
    );
    const genuineToken = await signRequest(
      caller,
      AUDIENCE,
      { method: "GET", path: "/v1/agencies", query: [["limit", "2"]] },
      { now, jti },
    );

    expect(await failureOf(authenticate({ ...base, token: forgedToken }))).toBe("bad-signature");
    expect(await failureOf(authenticate({ ...base, token: genuineToken }))).toBe("accepted");
    expect(await failureOf(authenticate({ ...base, token: genuineToken }))).toBe("token-replayed");
  });
  it("refuses an oversized jti as an invalid token before it is remembered", async () => {
    const remembered: string[] = [];
    const token = await signRequest(
      caller,
      AUDIENCE,
      { method: "GET", path: "/v1/agencies", query: [["limit", "2"]] },
      { now, jti: "x".repeat(5000) },
    );

    const failure = await failureOf(
      authenticate(
        input(token, {
          replayGuard: async (_issuer, jti) => {
            remembered.push(jti);
            return true;
          },
        }),
      ),
    );

    expect(failure).toBe("invalid-token");
    expect(remembered).toEqual([]);
  });

  it("refuses an issuer no system can have without reading the directory", async () => {
    const looked: string[] = [];
    const stranger = await generateIdentity(`HCM.${"P".repeat(3000)}`, "EdDSA", "k1");

    const failure = await failureOf(
      authenticate(
        input(await sign({}, stranger), {
          directory: async (id) => {
            looked.push(id);
            return undefined;
          },
        }),
      ),
    );

    expect(failure).toBe("invalid-token");
    expect(looked).toEqual([]);
  });

  it("refuses an oversized token as invalid", async () => {
    expect(await failureOf(authenticate(input(`${"a".repeat(9000)}.b.c`)))).toBe("invalid-token");
  });

  describe("the end user and case claims", () => {
    const signFor = (onBehalfOf: { endUser?: unknown; caseRef?: unknown }) =>
      signRequest(
        caller,
        AUDIENCE,
        { method: "GET", path: "/v1/agencies", query: [["limit", "2"]] },
        { now, ...(onBehalfOf as { endUser?: string; caseRef?: string }) },
      );
    const refusalOf = async (token: string) => {
      try {
        await authenticate(input(token));
      } catch (error) {
        return error as AuthenticationError;
      }
      throw new Error("accepted");
    };

    it("hands on the end user and case the token names", async () => {
      const result = await authenticate(
        input(await signFor({ endUser: "Nguyễn Văn An (cán bộ 042)", caseRef: "HS-2026/118" })),
      );

      expect(result).toMatchObject({ endUser: "Nguyễn Văn An (cán bộ 042)", caseRef: "HS-2026/118" });
    });

    it("names neither when the token names neither", async () => {
      const result = await authenticate(input(await signFor({})));

      expect(result).not.toHaveProperty("endUser");
      expect(result).not.toHaveProperty("caseRef");
    });

    it("refuses an end user longer than 200 characters, naming usr", async () => {
      const refusal = await refusalOf(await signFor({ endUser: "a".repeat(201) }));

      expect(refusal.failure).toBe("invalid-token");
      expect(refusal.message).toMatch(/^usr \(the end user\)/);
    });

    it("accepts an end user of exactly 200 characters", async () => {
      const result = await authenticate(input(await signFor({ endUser: "ạ".repeat(200) })));

      expect(result.endUser).toHaveLength(200);
    });

    it("refuses a case reference with a control character, naming case", async () => {
      const refusal = await refusalOf(await signFor({ caseRef: "HS-1\nforged line" }));

      expect(refusal.failure).toBe("invalid-token");
      expect(refusal.message).toMatch(/^case \(the case reference\)/);
    });

    it("refuses a blank, empty, bidirectional-override or non-string claim", async () => {
      for (const endUser of ["   ", "", "abc\u202Efed", 42]) {
        expect((await refusalOf(await signFor({ endUser }))).message, String(endUser)).toMatch(/^usr /);
      }
    });
  });
});
