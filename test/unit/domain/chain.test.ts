import { describe, expect, it } from "vitest";
import type { ExchangeEntry } from "../../../domain/exchange/model.ts";
import {
  type ChainedEntry,
  canonicalJson,
  GENESIS_HASH,
  link,
  ShardVerifier,
  shardOf,
} from "../../../domain/exchange-log/chain.ts";

const entry = (n: number): ExchangeEntry => ({
  transactionId: `t-${n}`,
  time: `2026-11-27T08:00:0${n % 10}.000Z`,
  consumerSystem: "HCM.PORTAL",
  consumerAgency: "HCM",
  datasetId: "MPS.POPULATION.CITIZENS",
  providerSystem: "MPS.POPULATION",
  providerAgency: "MPS",
  operation: "get-record",
  method: "request",
  fieldsReturned: ["personalId"],
  recordCount: 1,
  outcome: "allowed",
  status: 200,
  latencyMs: 12,
  bytes: 100,
  crossBorder: false,
});

const chain = (count: number) =>
  link(
    Array.from({ length: count }, (_, index) => entry(index + 1)),
    3,
    { seq: 0, hash: GENESIS_HASH },
  );

function verify(entries: readonly ChainedEntry[], head = entries.at(-1)) {
  const verifier = new ShardVerifier(3, head ? { seq: head.seq, hash: head.hash } : undefined);
  for (const item of entries) verifier.add(item);
  return verifier.finish();
}

describe("the log's hash chains", () => {
  it("verify when untouched", () => {
    expect(verify(chain(5))).toEqual({ shard: 3, entries: 5, valid: true });
  });

  it("detect an altered entry", () => {
    const entries = chain(5);
    entries[2] = { ...(entries[2] as ChainedEntry), status: 204 };
    expect(verify(entries)).toMatchObject({ valid: false, brokenAt: 3, reason: expect.stringContaining("altered") });
  });

  it("verify entries naming an end user and case beside entries that name none", () => {
    const entries = link([entry(1), { ...entry(2), endUser: "Nguyễn Văn An", caseRef: "HS-2026/118" }, entry(3)], 3, {
      seq: 0,
      hash: GENESIS_HASH,
    });
    expect(verify(entries)).toEqual({ shard: 3, entries: 3, valid: true });
  });

  it("detect an end user altered or removed, as part of the hashed entry", () => {
    const entries = link([entry(1), { ...entry(2), endUser: "Nguyễn Văn An" }], 3, { seq: 0, hash: GENESIS_HASH });
    const { endUser: _removed, ...withoutUser } = entries[1] as ChainedEntry;

    expect(
      verify([entries[0] as ChainedEntry, { ...(entries[1] as ChainedEntry), endUser: "Someone else" }]),
    ).toMatchObject({ valid: false, brokenAt: 2 });
    expect(verify([entries[0] as ChainedEntry, withoutUser])).toMatchObject({ valid: false, brokenAt: 2 });
  });

  it("detect an entry removed from the middle", () => {
    const entries = chain(5);
    expect(verify([...entries.slice(0, 2), ...entries.slice(3)])).toMatchObject({ valid: false, brokenAt: 3 });
  });

  it("detect entries removed from the end, against the head", () => {
    const entries = chain(5);
    expect(verify(entries.slice(0, 3), entries[4])).toMatchObject({
      valid: false,
      reason: expect.stringContaining("removed"),
    });
  });

  it("detect two entries swapped, even with their positions rewritten", () => {
    const entries = chain(4);
    const [a, b] = [entries[1] as ChainedEntry, entries[2] as ChainedEntry];
    const swapped = [entries[0] as ChainedEntry, { ...b, seq: 2 }, { ...a, seq: 3 }, entries[3] as ChainedEntry];
    expect(verify(swapped).valid).toBe(false);
  });

  it("accept a head that lags the chain after an interrupted append", () => {
    const entries = chain(5);
    expect(verify(entries, entries[2]).valid).toBe(true);
  });

  it("hash the same entry the same whatever the key order", () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}',
    );
  });

  it("spread transactions over shards deterministically", () => {
    const shards = Array.from({ length: 400 }, (_, index) => shardOf(`txn-${index}`, 8));
    expect(new Set(shards).size).toBe(8);
    expect(shardOf("txn-1", 8)).toBe(shardOf("txn-1", 8));
  });
});
