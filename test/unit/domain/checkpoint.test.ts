import { describe, expect, it } from "vitest";
import { type ChainedEntry, GENESIS_HASH, link } from "../../../domain/exchange-log/chain.ts";
import {
  type Checkpoint,
  CheckpointVerificationError,
  checkpointDigest,
  parseSegment,
  segmentBody,
  signCheckpoint,
  verifyCheckpoint,
} from "../../../domain/exchange-log/checkpoint.ts";
import {
  type LogArchive,
  type StoredCheckpoint,
  takeCheckpoint,
  type VerifiableChain,
  verifyArchive,
  verifyLog,
} from "../../../domain/exchange-log/checkpointing.ts";
import { exchangeEntryFixture, platformKeyFixture } from "./fixtures.ts";

const platform = platformKeyFixture("platform-key-1");

const checkpoint: Checkpoint = {
  issuer: "urn:dscp:test",
  number: 7,
  time: "2026-11-29T10:00:00.000Z",
  previous: "a".repeat(64),
  shards: [
    { shard: 0, seq: 12, hash: "b".repeat(64) },
    { shard: 1, seq: 0, hash: GENESIS_HASH },
  ],
};

/** A JWS's payload replaced, its signature kept. */
function withPayload(jws: string, payload: unknown): string {
  const [header, , signature] = jws.split(".");
  return `${header}.${Buffer.from(JSON.stringify(payload)).toString("base64url")}.${signature}`;
}

describe("a log checkpoint", () => {
  it("verifies offline with the platform's published key and gives back what was signed", async () => {
    const { jws } = await signCheckpoint(platform.signer, checkpoint);

    expect(verifyCheckpoint(jws, [platform.jwk])).toEqual(checkpoint);
    expect(JSON.parse(Buffer.from(jws.split(".")[0] as string, "base64url").toString())).toEqual({
      alg: "ES256",
      kid: "platform-key-1",
      typ: "dscp-log-checkpoint+jws",
    });
  });

  it("is refused when a head in it was changed after signing", async () => {
    const { jws } = await signCheckpoint(platform.signer, checkpoint);
    const rewound = withPayload(jws, { ...checkpoint, shards: [{ shard: 0, seq: 9, hash: "c".repeat(64) }] });

    expect(() => verifyCheckpoint(rewound, [platform.jwk])).toThrow(/signature does not verify/);
  });

  it("is refused when forged: signed by another key that claims the platform key's id", async () => {
    const forger = platformKeyFixture("platform-key-1");
    const { jws } = await signCheckpoint(forger.signer, { ...checkpoint, shards: [] });

    expect(() => verifyCheckpoint(jws, [platform.jwk])).toThrow(CheckpointVerificationError);
    expect(() => verifyCheckpoint(jws, [platform.jwk])).toThrow(/signature does not verify/);
  });

  it("is refused when it names a key the platform does not publish, or is not a checkpoint JWS", async () => {
    const stranger = platformKeyFixture("someone-else");
    const { jws } = await signCheckpoint(stranger.signer, checkpoint);
    const [, payload, signature] = jws.split(".");
    const asJwt = `${Buffer.from(JSON.stringify({ alg: "ES256", kid: "platform-key-1", typ: "JWT" })).toString("base64url")}.${payload}.${signature}`;

    expect(() => verifyCheckpoint(jws, [platform.jwk])).toThrow(/not among the platform's published keys/);
    expect(() => verifyCheckpoint(asJwt, [platform.jwk])).toThrow(/not dscp-log-checkpoint\+jws/);
    expect(() => verifyCheckpoint("not.a-jws", [platform.jwk])).toThrow(/not a compact JWS/);
  });
});

/** The archive in memory, as the bucket holds it. */
function memoryArchive(): LogArchive & { objects: Map<string, Buffer> } {
  const objects = new Map<string, Buffer>();
  const checkpoints: StoredCheckpoint[] = [];
  return {
    objects,
    async putSegment(shard, entries, body) {
      const key = `segments/shard-${shard}/${(entries[0] as ChainedEntry).seq}-${(entries.at(-1) as ChainedEntry).seq}`;
      objects.set(key, body);
      return key;
    },
    async putCheckpoint(number, jws) {
      checkpoints.unshift({ key: `checkpoints/${number}`, jws });
    },
    async latest() {
      return checkpoints[0];
    },
    async list(limit) {
      return { items: checkpoints.slice(0, limit), more: checkpoints.length > limit };
    },
    async *segments(shard) {
      const keys = [...objects.keys()].filter((key) => key.startsWith(`segments/shard-${shard}/`));
      keys.sort((a, b) => Number(a.split("/")[2]?.split("-")[0]) - Number(b.split("/")[2]?.split("-")[0]));
      for (const key of keys) yield { key, entries: parseSegment(objects.get(key) as Buffer) };
    },
  };
}

/** One shard's chain in a table, with its head item, that a test may tamper with. */
function memoryTable(shards: number): VerifiableChain & {
  chains: ChainedEntry[][];
  heads: Array<{ seq: number; hash: string } | undefined>;
  append(shard: number, count: number): void;
} {
  const chains: ChainedEntry[][] = Array.from({ length: shards }, () => []);
  const heads: Array<{ seq: number; hash: string } | undefined> = Array.from({ length: shards }, () => undefined);
  return {
    chains,
    heads,
    append(shard, count) {
      const chain = chains[shard] as ChainedEntry[];
      const after = chain.at(-1) ?? { seq: 0, hash: GENESIS_HASH };
      const entries = Array.from({ length: count }, (_, index) =>
        exchangeEntryFixture({ transactionId: `t-${shard}-${after.seq + index + 1}` }),
      );
      chain.push(...link(entries, shard, after));
      const last = chain.at(-1) as ChainedEntry;
      heads[shard] = { seq: last.seq, hash: last.hash };
    },
    async head(shard) {
      return heads[shard];
    },
    async readShard(shard, afterSeq, limit = 500) {
      const after = (chains[shard] ?? []).filter((entry) => entry.seq > afterSeq);
      return { entries: after.slice(0, limit), more: after.length > limit };
    },
  };
}

async function checkpointed(shards = 2) {
  const table = memoryTable(shards);
  const archive = memoryArchive();
  table.append(0, 6);
  table.append(1, 3);
  const run = await takeCheckpoint({
    source: table,
    archive,
    signer: platform.signer,
    issuer: "urn:dscp:test",
    shards,
  });
  const verify = () => verifyLog({ table, archive, keys: [platform.jwk], shards });
  return { table, archive, run, verify };
}

describe("checkpointing the log", () => {
  it("signs every shard's head and archives the entries it covers", async () => {
    const { table, archive, run } = await checkpointed();

    expect(run.refused).toEqual([]);
    expect(verifyCheckpoint(run.signed.jws, [platform.jwk])).toMatchObject({
      number: 1,
      previous: null,
      shards: [
        { shard: 0, seq: 6, hash: table.chains[0]?.[5]?.hash, segment: { fromSeq: 1, toSeq: 6 } },
        { shard: 1, seq: 3, hash: table.chains[1]?.[2]?.hash, segment: { fromSeq: 1, toSeq: 3 } },
      ],
    });
    expect(parseSegment(archive.objects.get("segments/shard-0/1-6") as Buffer)).toEqual(table.chains[0]);
  });

  it("chains each checkpoint to the previous one and archives only what is new", async () => {
    const { table, archive, run: first } = await checkpointed();
    table.append(0, 2);

    const { signed } = await takeCheckpoint({
      source: table,
      archive,
      signer: platform.signer,
      issuer: "urn:dscp:test",
      shards: 2,
    });

    expect(signed.checkpoint).toMatchObject({
      number: 2,
      previous: checkpointDigest(first.signed.jws),
      shards: [
        { shard: 0, seq: 8, segment: { fromSeq: 7, toSeq: 8 } },
        { shard: 1, seq: 3, hash: table.chains[1]?.[2]?.hash },
      ],
    });
    expect(signed.checkpoint.shards[1]?.segment).toBeUndefined();
  });

  it("does not extend a shard whose table no longer continues the last checkpoint", async () => {
    const { table, archive } = await checkpointed();
    // Rewritten from entry 4 on, and a new entry after: the table chain holds together, but not with the checkpoint.
    const chain = table.chains[0] as ChainedEntry[];
    chain.splice(3, 3, ...link([exchangeEntryFixture({ transactionId: "forged" })], 0, chain[2] as ChainedEntry));
    table.append(0, 3);

    const run = await takeCheckpoint({
      source: table,
      archive,
      signer: platform.signer,
      issuer: "urn:dscp:test",
      shards: 2,
    });

    expect(run.refused).toEqual([{ shard: 0, seq: 7, reason: "entry 7 does not link to entry 6" }]);
    expect(run.signed.checkpoint.shards[0]).toMatchObject({ seq: 6 });
  });
});

describe("verifying the log against its latest signed checkpoint", () => {
  it("finds nothing wrong when the table is as checkpointed, or has grown since", async () => {
    const { table, verify } = await checkpointed();
    table.append(1, 2);

    const verification = await verify();

    expect(verification).toMatchObject({ valid: true, entries: 11, checkpoint: { number: 1 } });
    expect(verification.shards[0]).toEqual({
      shard: 0,
      entries: 6,
      valid: true,
      checkpointed: { checkpoint: 1, seq: 6, hash: table.chains[0]?.[5]?.hash },
    });
  });

  it("reports entries deleted below the checkpointed head, and the head rewound, by shard and entry", async () => {
    const { table, verify } = await checkpointed();
    const chain = table.chains[0] as ChainedEntry[];
    chain.splice(4);
    table.heads[0] = { seq: 4, hash: (chain[3] as ChainedEntry).hash };

    const verification = await verify();

    expect(verification.valid).toBe(false);
    expect(verification.shards[1]?.valid).toBe(true);
    expect(verification.shards[0]).toMatchObject({
      valid: false,
      brokenAt: 5,
      findings: [
        { kind: "truncated", seq: 5, reason: expect.stringContaining("entries 5 to 6 are gone") },
        { kind: "rewound", seq: 5, reason: expect.stringContaining("the head is at 4, behind entry 6") },
      ],
    });
  });

  it("reports an entry rewritten with its hash and the chain after it recomputed, at the entry rewritten", async () => {
    const { table, verify } = await checkpointed();
    const chain = table.chains[0] as ChainedEntry[];
    const rest = chain.splice(2).map(({ shard: _s, seq: _q, prevHash: _p, hash: _h, ...entry }) => entry);
    rest[0] = { ...(rest[0] as (typeof rest)[number]), outcome: "denied", status: 403 };
    chain.push(...link(rest, 0, chain[1] as ChainedEntry));
    table.heads[0] = { seq: 6, hash: (chain[5] as ChainedEntry).hash };

    const verification = await verify();

    expect(verification.shards[0]).toMatchObject({
      valid: false,
      brokenAt: 3,
      findings: [
        {
          kind: "rewritten",
          seq: 3,
          reason: expect.stringContaining("entry 3 differs from the one archived in segments/shard-0/1-6"),
        },
      ],
    });
  });

  it("is not valid when the latest checkpoint in the archive is forged", async () => {
    const { archive, verify } = await checkpointed();
    const forger = platformKeyFixture("platform-key-1");
    await archive.putCheckpoint(2, (await signCheckpoint(forger.signer, { ...checkpoint, number: 2, shards: [] })).jws);

    const verification = await verify();

    expect(verification.valid).toBe(false);
    expect(verification.checkpointProblem).toMatch(/signature does not verify/);
  });
});

describe("verifying the archive alone (entries the table no longer holds)", () => {
  it("finds every archived entry chained from the genesis to the heads the latest checkpoint signs", async () => {
    const { table, archive } = await checkpointed();
    table.append(0, 2);
    await takeCheckpoint({ source: table, archive, signer: platform.signer, issuer: "urn:dscp:test", shards: 2 });

    const verdict = await verifyArchive(archive, [platform.jwk]);

    expect(verdict).toMatchObject({
      valid: true,
      checkpoint: { number: 2 },
      shards: [
        { shard: 0, entries: 8, valid: true },
        { shard: 1, entries: 3, valid: true },
      ],
    });
  });

  it("names the segment and entry of an archived entry altered, and entries missing from the archive", async () => {
    const { archive } = await checkpointed();
    const altered = parseSegment(archive.objects.get("segments/shard-0/1-6") as Buffer);
    altered[1] = { ...(altered[1] as ChainedEntry), status: 500 };
    archive.objects.set("segments/shard-0/1-6", segmentBody(altered));
    archive.objects.delete("segments/shard-1/1-3");

    const verdict = await verifyArchive(archive, [platform.jwk]);

    expect(verdict.valid).toBe(false);
    expect(verdict.shards).toEqual([
      { shard: 0, entries: 1, valid: false, problem: "segments/shard-0/1-6: entry 2 was altered" },
      { shard: 1, entries: 0, valid: false, problem: "entries 1 to 3 are not in the archive" },
    ]);
  });
});
