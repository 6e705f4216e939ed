import { chmodSync, mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLocalJWKSet, jwtVerify } from "jose";
import { describe, expect, it } from "vitest";
import {
  KeyFileError,
  keygen,
  loadKeyFile,
  publicJwkOf,
  removeKey,
  signingIdentity,
  signingKey,
} from "../../../agent/keys.ts";
import { signRequest } from "../../../client/sign.ts";

const SYSTEM = "MPS.POPULATION";
const keyFileIn = () => join(mkdtempSync(join(tmpdir(), "agent-keys-")), "node-key.json");

describe("the node's key file", () => {
  it("is written readable by its owner only, with a P-256 key whose private half stays in it", async () => {
    const keyFile = keyFileIn();

    const result = await keygen({ keyFile, systemId: SYSTEM });

    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(result.publicJwk).toMatchObject({ kty: "EC", crv: "P-256", kid: result.key.kid, alg: "ES256" });
    expect(result.publicJwk).not.toHaveProperty("d");
    expect(readFileSync(result.publicFile, "utf8")).not.toContain('"d"');
    expect(result.register).toBe(
      `npx dscp systems add ${SYSTEM} --public-key ${result.publicFile} --name "<system name>" --capabilities provider,consumer --endpoint <the node's provider URL>`,
    );
  });

  it("is refused when group or others may read it", async () => {
    const keyFile = keyFileIn();
    await keygen({ keyFile, systemId: SYSTEM });
    chmodSync(keyFile, 0o644);

    expect(() => loadKeyFile(keyFile)).toThrow(/readable by group or others \(mode 644\): chmod 600/);
  });

  it("is not replaced by a second keygen without --force", async () => {
    const keyFile = keyFileIn();
    await keygen({ keyFile, systemId: SYSTEM });

    await expect(keygen({ keyFile, systemId: SYSTEM })).rejects.toThrow(KeyFileError);
  });

  it("signs tokens the registered public key verifies", async () => {
    const keyFile = keyFileIn();
    const { publicJwk } = await keygen({ keyFile, systemId: SYSTEM });
    const identity = signingIdentity(loadKeyFile(keyFile));

    const token = await signRequest(identity, "urn:dscp:test", { method: "GET", path: "/v1/health" });
    const { payload } = await jwtVerify(token, createLocalJWKSet({ keys: [publicJwk] }), { audience: "urn:dscp:test" });

    expect(payload).toMatchObject({ iss: SYSTEM, htm: "GET", htu: "/v1/health" });
  });
});

describe("key rotation with overlap", () => {
  it("adds a next key, printing the command that registers it, and keeps signing with the first", async () => {
    const keyFile = keyFileIn();
    const first = await keygen({ keyFile, systemId: SYSTEM, kid: "k1" });

    const next = await keygen({ keyFile, systemId: SYSTEM, next: true, kid: "k2" });

    expect(loadKeyFile(keyFile).keys.map((key) => key.kid)).toEqual(["k1", "k2"]);
    expect(next.register).toBe(`npx dscp keys add ${SYSTEM} --public-key ${next.publicFile}`);
    expect(signingKey(loadKeyFile(keyFile)).kid).toBe(first.key.kid);
  });

  it("signs with the newest key the platform has accepted", async () => {
    const keyFile = keyFileIn();
    await keygen({ keyFile, systemId: SYSTEM, kid: "k1" });
    await keygen({ keyFile, systemId: SYSTEM, next: true, kid: "k2" });
    const file = loadKeyFile(keyFile);

    expect(signingKey(file, ["k1"]).kid).toBe("k1");
    expect(signingKey(file, ["k1", "k2"]).kid).toBe("k2");
    expect(() => signingKey(file, ["k9"])).toThrow(/platform\.kids: none of k9 is in the key file/);
  });

  it("removes an old key once retired, never the last one", async () => {
    const keyFile = keyFileIn();
    await keygen({ keyFile, systemId: SYSTEM, kid: "k1" });
    await keygen({ keyFile, systemId: SYSTEM, next: true, kid: "k2" });

    expect(removeKey(keyFile, "k1").keys.map((key) => key.kid)).toEqual(["k2"]);
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(() => removeKey(keyFile, "k2")).toThrow(/only key/);
  });

  it("publishes only the public half of every key", async () => {
    const keyFile = keyFileIn();
    await keygen({ keyFile, systemId: SYSTEM });

    for (const key of loadKeyFile(keyFile).keys) expect(publicJwkOf(key)).not.toHaveProperty("d");
  });
});
