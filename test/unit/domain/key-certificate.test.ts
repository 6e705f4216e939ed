import { generateKeyPairSync } from "node:crypto";
import { createLocalJWKSet, type JWK, type JWTVerifyGetKey } from "jose";
import { describe, expect, it } from "vitest";
import { derToJose } from "../../../domain/identity/es256.ts";
import {
  type CertifiedKey,
  certifyKey,
  type EnvironmentJwk,
  environmentKeys,
  jwkThumbprint,
  KEY_CERTIFICATE_TYPE,
  KeyCertificationError,
} from "../../../domain/identity/key-certificate.ts";
import {
  type PlatformSigner,
  signPlatformToken,
  verifyPlatformToken,
} from "../../../domain/identity/platform-token.ts";
import { platformKeyFixture } from "./fixtures.ts";

const platform = platformKeyFixture("platform-key-1");
const keySet = createLocalJWKSet({ keys: [platform.jwk as JWK] });
const t0 = Date.parse("2026-11-30T08:00:00.000Z") / 1000;
const at = (seconds: number) => new Date(seconds * 1000);
const call = { issuer: "urn:dscp:test", audience: "MPS.POPULATION", method: "GET", path: "/citizens/records/1" };
const expected = { issuer: "urn:dscp:test", audience: "MPS.POPULATION", requiredClaims: ["jti", "htm", "htu"] };

/** The platform signer, counting its Sign calls (each one a KMS request on AWS), failing while `down`. */
function countingSigner(signer: PlatformSigner = platform.signer) {
  const counter = { signs: 0, down: false };
  const counted: PlatformSigner = {
    keyId: signer.keyId,
    publicKey: () => signer.publicKey(),
    sign: async (message) => {
      counter.signs += 1;
      if (counter.down) throw Object.assign(new Error("Rate exceeded"), { name: "ThrottlingException" });
      return signer.sign(message);
    },
  };
  return { counter, signer: counted };
}

/** A fresh P-256 key, certified by `signer` from `iat` to `exp`. */
async function certifiedKey(signer: PlatformSigner, iat: number, exp: number): Promise<CertifiedKey> {
  const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const exported = publicKey.export({ format: "jwk" });
  const jwk: EnvironmentJwk = { kty: "EC", crv: "P-256", x: String(exported.x), y: String(exported.y) };
  const kid = jwkThumbprint(jwk);
  return { kid, certificate: await certifyKey(signer, { kid, jwk, iat, exp }), expires: exp, privateKey };
}

/** Keys that always hand out `key`, whatever its certificate says. */
const always = (key: CertifiedKey) => ({ keyUntil: async () => key });

describe("platform tokens signed with a certified environment key", () => {
  it("verify with nothing but the published key set, naming the certified key", async () => {
    const keys = environmentKeys(platform.signer, { now: () => at(t0) });

    const token = await signPlatformToken(keys, { ...call, now: at(t0) });
    const verified = await verifyPlatformToken(token, keySet, { ...expected, now: at(t0 + 1) });

    expect(verified.payload).toMatchObject({ iss: "urn:dscp:test", aud: "MPS.POPULATION", htm: "GET" });
    expect(verified.certificate).toMatchObject({ kid: verified.kid, iat: t0, exp: t0 + 3600 });
    expect(verified.kid).not.toBe("platform-key-1");
  });

  it("carry the end user and case the consumer named as usr and case, and neither when it named none", async () => {
    const keys = environmentKeys(platform.signer, { now: () => at(t0) });

    const named = await signPlatformToken(keys, { ...call, endUser: "Nguyễn Văn An", caseRef: "HS-1", now: at(t0) });
    const unnamed = await signPlatformToken(keys, { ...call, now: at(t0) });

    expect((await verifyPlatformToken(named, keySet, { ...expected, now: at(t0) })).payload).toMatchObject({
      usr: "Nguyễn Văn An",
      case: "HS-1",
    });
    expect((await verifyPlatformToken(unnamed, keySet, { ...expected, now: at(t0) })).payload).not.toHaveProperty(
      "usr",
    );
  });

  it("cost one platform-key signature for many tokens from one environment", async () => {
    const { counter, signer } = countingSigner();
    const keys = environmentKeys(signer, { now: () => at(t0) });

    const tokens = await Promise.all(
      Array.from({ length: 50 }, (_, index) => signPlatformToken(keys, { ...call, path: `/r/${index}`, now: at(t0) })),
    );
    const kids = await Promise.all(
      tokens.map(async (token) => (await verifyPlatformToken(token, keySet, { ...expected, now: at(t0) })).kid),
    );

    expect(counter.signs).toBe(1);
    expect(new Set(kids).size).toBe(1);
  });

  it("are refused when the certificate has expired", async () => {
    const key = await certifiedKey(platform.signer, t0 - 3000, t0 - 100);
    const token = await signPlatformToken(always(key), { ...call, now: at(t0 - 200) });

    await expect(verifyPlatformToken(token, keySet, { ...expected, now: at(t0 - 150) })).resolves.toBeDefined();
    await expect(verifyPlatformToken(token, keySet, { ...expected, now: at(t0) })).rejects.toThrow(
      /key certificate does not verify.*exp/,
    );
  });

  it("are refused when the certificate is signed by another key under the platform key's kid", async () => {
    const impostor = platformKeyFixture("platform-key-1");
    const key = await certifiedKey(impostor.signer, t0, t0 + 3600);
    const token = await signPlatformToken(always(key), { ...call, now: at(t0) });

    await expect(verifyPlatformToken(token, keySet, { ...expected, now: at(t0) })).rejects.toThrow(
      /key certificate does not verify/,
    );
  });

  it("are refused when the token's kid is not the certified key's", async () => {
    const key = await certifiedKey(platform.signer, t0, t0 + 3600);
    const token = await signPlatformToken(always({ ...key, kid: "another-key" }), { ...call, now: at(t0) });

    await expect(verifyPlatformToken(token, keySet, { ...expected, now: at(t0) })).rejects.toThrow(
      "the token's kid is not the certified key's",
    );
  });

  it("are refused when signed by another key than the certified one", async () => {
    const key = await certifiedKey(platform.signer, t0, t0 + 3600);
    const other = await certifiedKey(platform.signer, t0, t0 + 3600);
    const token = await signPlatformToken(always({ ...key, privateKey: other.privateKey }), { ...call, now: at(t0) });

    await expect(verifyPlatformToken(token, keySet, { ...expected, now: at(t0) })).rejects.toThrow(/signature/);
  });

  it("are refused when the token outlives its certificate", async () => {
    const key = await certifiedKey(platform.signer, t0 - 3000, t0 + 30);
    const token = await signPlatformToken(always(key), { ...call, now: at(t0) });

    await expect(verifyPlatformToken(token, keySet, { ...expected, now: at(t0) })).rejects.toThrow(
      "the token outlives its key's certificate",
    );
  });

  it("are refused for another audience", async () => {
    const token = await signPlatformToken(environmentKeys(platform.signer, { now: () => at(t0) }), {
      ...call,
      now: at(t0),
    });

    await expect(
      verifyPlatformToken(token, keySet, { ...expected, audience: "HCM.PORTAL", now: at(t0) }),
    ).rejects.toThrow(/aud/);
  });

  it("still verify when signed directly by a published key", async () => {
    const issued = at(t0);
    const header = { alg: "ES256", kid: "platform-key-1", typ: "JWT" };
    const claims = { iss: call.issuer, aud: call.audience, iat: t0, exp: t0 + 60, jti: "j", htm: "GET", htu: "/" };
    const input = [header, claims].map((part) => Buffer.from(JSON.stringify(part)).toString("base64url")).join(".");
    const signature = Buffer.from(derToJose(await platform.signer.sign(Buffer.from(input)), 32));
    const token = `${input}.${signature.toString("base64url")}`;

    const verified = await verifyPlatformToken(token, keySet, { ...expected, now: issued });

    expect(verified.kid).toBe("platform-key-1");
    expect(verified.certificate).toBeUndefined();
  });
});

describe("key certificates", () => {
  it("are never made for longer than an hour", async () => {
    await expect(certifiedKey(platform.signer, t0, t0 + 3601).then((key) => key.certificate)).rejects.toBeInstanceOf(
      RangeError,
    );
  });

  it("are refused by verifiers when longer than an hour, though signed by the platform key", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const exported = publicKey.export({ format: "jwk" });
    const jwk: EnvironmentJwk = { kty: "EC", crv: "P-256", x: String(exported.x), y: String(exported.y) };
    const kid = jwkThumbprint(jwk);
    const header = { alg: "ES256", kid: "platform-key-1", typ: KEY_CERTIFICATE_TYPE };
    const payload = { kid, jwk, iat: t0, exp: t0 + 7200 };
    const input = [header, payload].map((part) => Buffer.from(JSON.stringify(part)).toString("base64url")).join(".");
    const signature = Buffer.from(derToJose(await platform.signer.sign(Buffer.from(input)), 32));
    const key = { kid, certificate: `${input}.${signature.toString("base64url")}`, expires: t0 + 7200, privateKey };
    const token = await signPlatformToken(always(key), { ...call, now: at(t0) });

    await expect(verifyPlatformToken(token, keySet, { ...expected, now: at(t0) })).rejects.toThrow(
      /valid for more than 3600 s/,
    );
  });

  it("are of their own type, so that a platform token cannot pass for one", async () => {
    const key = await certifiedKey(platform.signer, t0, t0 + 3600);
    const [, payload, signature] = key.certificate.split(".");
    const header = Buffer.from(JSON.stringify({ alg: "ES256", kid: "platform-key-1", typ: "JWT" })).toString(
      "base64url",
    );
    const token = await signPlatformToken(always({ ...key, certificate: `${header}.${payload}.${signature}` }), {
      ...call,
      now: at(t0),
    });

    await expect(verifyPlatformToken(token, keySet, { ...expected, now: at(t0) })).rejects.toThrow(
      /key certificate does not verify/,
    );
  });
});

describe("an environment's keys", () => {
  it("rotate before the certificate expires, and tokens of the old key verify while they are valid", async () => {
    let clock = t0;
    const { counter, signer } = countingSigner();
    const keys = environmentKeys(signer, { now: () => at(clock) });
    const old = await signPlatformToken(keys, { ...call, now: at(clock) });

    clock = t0 + 3000;
    const renewed = await signPlatformToken(keys, { ...call, now: at(clock) });
    const oldKid = (await verifyPlatformToken(old, keySet, { ...expected, now: at(t0 + 59) })).kid;
    const newKid = (await verifyPlatformToken(renewed, keySet, { ...expected, now: at(clock) })).kid;

    expect(counter.signs).toBe(2);
    expect(newKid).not.toBe(oldKid);
  });

  it("are certified anew after the old certificate expired, and the new key verifies", async () => {
    let clock = t0;
    const keys = environmentKeys(platform.signer, { now: () => at(clock) });
    await signPlatformToken(keys, { ...call, now: at(clock) });

    clock = t0 + 4000;
    const token = await signPlatformToken(keys, { ...call, now: at(clock) });
    const verified = await verifyPlatformToken(token, keySet, { ...expected, now: at(clock) });

    expect(verified.certificate).toMatchObject({ iat: t0 + 4000, exp: t0 + 7600 });
  });

  it("keep signing with the old key while a renewal fails and its certificate still covers the token", async () => {
    let clock = t0;
    const { counter, signer } = countingSigner();
    const keys = environmentKeys(signer, { now: () => at(clock) });
    const first = await keys.keyUntil(t0 + 60);

    clock = t0 + 3100;
    counter.down = true;
    const during = await keys.keyUntil(clock + 60);

    expect(during.kid).toBe(first.kid);
    clock = t0 + 3590;
    await expect(keys.keyUntil(clock + 60)).rejects.toBeInstanceOf(KeyCertificationError);
  });

  it("fail with a 503 to retry later when the platform key cannot certify, and try again on the next call", async () => {
    const { counter, signer } = countingSigner();
    const keys = environmentKeys(signer, { now: () => at(t0) });
    counter.down = true;

    const failure = await signPlatformToken(keys, { ...call, now: at(t0) }).catch((error: unknown) => error);
    counter.down = false;
    const token = await signPlatformToken(keys, { ...call, now: at(t0) });

    expect(failure).toBeInstanceOf(KeyCertificationError);
    expect(failure).toMatchObject({ status: 503, slug: "dependency-unavailable", retryAfterSeconds: 2 });
    expect((failure as Error).cause).toMatchObject({ name: "ThrottlingException" });
    await expect(verifyPlatformToken(token, keySet, { ...expected, now: at(t0) })).resolves.toBeDefined();
    expect(counter.signs).toBe(2);
  });

  it("are never certified for longer than an hour, whatever is asked", async () => {
    const keys = environmentKeys(platform.signer, { now: () => at(t0), lifetimeSeconds: 86_400 });

    const key = await keys.keyUntil(t0 + 60);

    expect(key.expires).toBe(t0 + 3600);
  });
});

describe("a provider verifying platform calls", () => {
  /** The published key set, counting the keys it hands out (one per certificate verified). */
  function countingKeySet() {
    const counter = { lookups: 0 };
    const counted: JWTVerifyGetKey = async (header, token) => {
      counter.lookups += 1;
      return keySet(header, token);
    };
    return { counter, keySet: counted };
  }

  it("verifies an environment's certificate once, and every token in full", async () => {
    const { counter, keySet: published } = countingKeySet();
    const key = await certifiedKey(platform.signer, t0, t0 + 3600);
    const first = await signPlatformToken(always(key), { ...call, now: at(t0) });
    const second = await signPlatformToken(always(key), { ...call, path: "/citizens/records/2", now: at(t0 + 10) });
    const forged = `${second.slice(0, second.lastIndexOf(".") + 1)}${"A".repeat(86)}`;

    await verifyPlatformToken(first, published, { ...expected, now: at(t0 + 1) });
    await verifyPlatformToken(second, published, { ...expected, now: at(t0 + 11) });

    expect(counter.lookups).toBe(1);
    await expect(verifyPlatformToken(forged, published, { ...expected, now: at(t0 + 11) })).rejects.toThrow();
  });

  it("refuses a token once its remembered certificate has expired", async () => {
    const { keySet: published } = countingKeySet();
    const key = await certifiedKey(platform.signer, t0, t0 + 600);
    const early = await signPlatformToken(always(key), { ...call, now: at(t0) });
    const late = await signPlatformToken(always(key), { ...call, now: at(t0 + 590) });

    await verifyPlatformToken(early, published, { ...expected, now: at(t0 + 1) });

    await expect(verifyPlatformToken(late, published, { ...expected, now: at(t0 + 700) })).rejects.toThrow();
  });

  it("verifies the certificate again after five minutes, and with each key set on its own", async () => {
    const { counter, keySet: published } = countingKeySet();
    const key = await certifiedKey(platform.signer, t0, t0 + 3600);
    const token = (seconds: number) =>
      signPlatformToken(always(key), { ...call, path: `/citizens/records/${seconds}`, now: at(t0 + seconds) });
    const other = createLocalJWKSet({ keys: [platformKeyFixture("another-platform").jwk as JWK] });

    await verifyPlatformToken(await token(0), published, { ...expected, now: at(t0) });
    await verifyPlatformToken(await token(301), published, { ...expected, now: at(t0 + 301) });

    expect(counter.lookups).toBe(2);
    await expect(verifyPlatformToken(await token(302), other, { ...expected, now: at(t0 + 302) })).rejects.toThrow(
      /key certificate does not verify/,
    );
  });
});
