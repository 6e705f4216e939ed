import { beforeAll, describe, expect, it } from "vitest";
import { generateIdentity, type IdentityFile } from "../../../client/identity-files.ts";
import { signRequest } from "../../../client/sign.ts";
import { authenticate } from "../../../domain/identity/authenticate.ts";
import { cachedDirectory } from "../../../domain/identity/cached-directory.ts";
import type { KeyRecord, SystemRecord } from "../../../domain/registry/model.ts";
import { portalSystemFixture } from "./fixtures.ts";

const AUDIENCE = "urn:dscp:test";
const now = new Date("2026-11-27T08:00:00Z");
const TTL_MS = 30_000;
let caller: IdentityFile;
let system: SystemRecord;

beforeAll(async () => {
  caller = await generateIdentity("HCM.PORTAL", "EdDSA", "k1");
  system = portalSystemFixture(now.toISOString());
});

/** A registry holding HCM.PORTAL with the keys given, counting its reads, on a clock of our own. */
function registry(keys: KeyRecord[]) {
  const state = { keys, reads: [] as string[], clock: 0, failing: false };
  const directory = cachedDirectory(
    async (systemId) => {
      state.reads.push(systemId);
      if (state.failing) throw new Error("table unavailable");
      return systemId === system.id ? { system, keys: state.keys.map((key) => ({ ...key })) } : undefined;
    },
    { ttlMs: TTL_MS, maxEntries: 2, now: () => state.clock },
  );
  return { state, directory };
}

function keyRecord(kid: string, status: KeyRecord["status"] = "active"): KeyRecord {
  return {
    systemId: system.id,
    kid,
    alg: "EdDSA",
    jwk: caller.publicJwk as never,
    status,
    createdAt: now.toISOString(),
  };
}

const request = async (directory: ReturnType<typeof cachedDirectory>) =>
  authenticate({
    token: await signRequest(caller, AUDIENCE, { method: "GET", path: "/v1/agencies" }, { now }),
    audience: AUDIENCE,
    method: "GET",
    target: "/v1/agencies",
    now,
    directory,
    replayGuard: async () => true,
  });

describe("cachedDirectory", () => {
  it("answers a second lookup of a fresh system from what it read, without a second read", async () => {
    const { state, directory } = registry([keyRecord("k1")]);

    await request(directory);
    state.clock = TTL_MS - 1;
    await request(directory);

    expect(state.reads).toEqual([system.id]);
  });

  it("refuses a revoked key once the bound has passed since the revocation", async () => {
    const { state, directory } = registry([keyRecord("k1")]);
    await request(directory);

    state.keys = [keyRecord("k1", "revoked")];
    state.clock = TTL_MS;

    await expect(request(directory)).rejects.toMatchObject({ failure: "revoked-key" });
    expect(state.reads).toEqual([system.id, system.id]);
  });

  it("reads once more for a key it does not know, and at most once per bound", async () => {
    const { state, directory } = registry([keyRecord("k1")]);
    await directory(system.id, "k1");

    state.keys = [keyRecord("k1"), keyRecord("k2")];
    const added = await directory(system.id, "k2");
    for (const kid of ["x1", "x2", "x3"]) await directory(system.id, kid);

    expect(added?.keys.map((key) => key.kid)).toEqual(["k1", "k2"]);
    expect(state.reads).toEqual([system.id, system.id]);
    state.clock = TTL_MS;
    await directory(system.id, "x4");
    await directory(system.id, "x5");
    expect(state.reads).toHaveLength(4);
  });

  it("remembers an unknown system no longer than the bound, reading it at most twice meanwhile", async () => {
    const { state, directory } = registry([keyRecord("k1")]);

    for (let attempt = 0; attempt < 5; attempt++) expect(await directory("HCM.NOBODY", "k1")).toBeUndefined();

    expect(state.reads).toEqual(["HCM.NOBODY", "HCM.NOBODY"]);
  });

  it("does not remember a failed read", async () => {
    const { state, directory } = registry([keyRecord("k1")]);
    state.failing = true;
    await expect(directory(system.id, "k1")).rejects.toThrow("table unavailable");

    state.failing = false;
    expect(await directory(system.id, "k1")).toBeDefined();
    expect(state.reads).toHaveLength(2);
  });

  it("keeps at most maxEntries systems, forgetting the least recently read", async () => {
    const { state, directory } = registry([keyRecord("k1")]);
    await directory(system.id, "k1");
    await directory("HCM.A", undefined);
    await directory(system.id, "k1");
    await directory("HCM.B", undefined);
    await directory(system.id, "k1");
    await directory("HCM.A", undefined);

    expect(state.reads).toEqual([system.id, "HCM.A", "HCM.B", "HCM.A"]);
  });

  it("reads on every lookup when the bound is 0", async () => {
    const reads: string[] = [];
    const directory = cachedDirectory(
      async (systemId) => {
        reads.push(systemId);
        return undefined;
      },
      { ttlMs: 0 },
    );
    await directory("HCM.A", "k1");
    await directory("HCM.A", "k1");
    expect(reads).toEqual(["HCM.A", "HCM.A"]);
  });
});
