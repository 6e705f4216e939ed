import {
  type AttributeValue,
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
} from "@aws-sdk/client-dynamodb";
import { marshall, unmarshall } from "@aws-sdk/util-dynamodb";
import { beforeAll, describe, expect, inject, it } from "vitest";
import { runCli } from "../../cli/dscp.ts";
import { type ChainedEntry, type LogFinding, link, shardOf } from "../../domain/exchange-log/chain.ts";
import { type SignedCheckpoint, verifyCheckpoint } from "../../domain/exchange-log/checkpoint.ts";
import type { LogVerification } from "../../domain/exchange-log/checkpointing.ts";
import { isStageName, stageConfig } from "../../lib/stage.ts";
import { eventually } from "../runtime/helpers.ts";
import { target } from "./target.ts";
import { createWorld, runId, type World } from "./world.ts";

/*
 * The exchange log as evidence (Art. 13): its chain heads are signed by the platform key and
 * archived, so an insider who can write the log table can no longer shorten or rewrite it
 * quietly. Each test tampers with the table as such an insider would, checks that verify
 * reports it against the signed checkpoint, and puts the table back as it was.
 */

const { apiUrl, audience, outputs, stage } = target();
const table = String(outputs.ExchangeLogTableName);
const endpoint = inject("dynamodbEndpoint");
const dynamodb = new DynamoDBClient(
  endpoint ? { endpoint, region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } } : {},
);
let world: World;
let signed: SignedCheckpoint;

beforeAll(async () => {
  world = await createWorld({ run: runId() });
  // Denied exchange attempts are logged too: a few of them fill some chains.
  const missing = `${world.provider.systemId}.NOTHING`;
  // Until one chain holds at least three of them: the tests below tamper with three entries.
  const shards = stageConfig(isStageName(stage) ? stage : "local").logShards;
  const ids = new Set<string>();
  const perShard = new Map<number, number>();
  for (let round = 0; round < 8 && Math.max(0, ...perShard.values()) < 3; round++) {
    const made = await Promise.all(
      Array.from({ length: 12 }, (_, index) =>
        world.client(world.consumer).send("GET", `/v1/exchange/${missing}/records/${round * 12 + index}`),
      ),
    );
    for (const { transactionId } of made) {
      ids.add(String(transactionId));
      const shard = shardOf(String(transactionId), shards);
      perShard.set(shard, (perShard.get(shard) ?? 0) + 1);
    }
  }
  await eventually(async () => {
    const page = await world
      .client(world.supervisor)
      .listLogEntries({ view: "all", datasetId: missing, limit: 100 } as never);
    return page.items.filter((entry) => ids.has(entry.transactionId)).length === ids.size ? true : undefined;
  });
  signed = await world.admin.takeLogCheckpoint();
});

/** A shard the latest checkpoint commits at least three entries of, and all its items in the table. */
async function busiestShard(): Promise<{ shard: number; seq: number; items: Array<Record<string, AttributeValue>> }> {
  const [busiest] = [...signed.checkpoint.shards].sort((a, b) => b.seq - a.seq);
  if (!busiest || busiest.seq < 3) throw new Error("no shard with three checkpointed entries");
  const items: Array<Record<string, AttributeValue>> = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamodb.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: "pk = :pk AND begins_with(sk, :seq)",
        ExpressionAttributeValues: { ":pk": { S: `CHAIN#${busiest.shard}` }, ":seq": { S: "SEQ#" } },
        ConsistentRead: true,
        ...(start ? { ExclusiveStartKey: start } : {}),
      }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return { shard: busiest.shard, seq: busiest.seq, items };
}

const headKey = (shard: number) => ({ pk: { S: `CHAIN#${shard}` }, sk: { S: "HEAD" } });
const seqOf = (item: Record<string, AttributeValue>) => Number(item.seq?.N);

async function putHead(shard: number, seq: number, hash: string): Promise<void> {
  await dynamodb.send(
    new PutItemCommand({ TableName: table, Item: { ...headKey(shard), seq: { N: String(seq) }, hash: { S: hash } } }),
  );
}

/** Puts the shard's items and head back as they were. */
async function restore(shard: number, items: Array<Record<string, AttributeValue>>): Promise<void> {
  for (const item of items) await dynamodb.send(new PutItemCommand({ TableName: table, Item: item }));
  const last = unmarshall(items.at(-1) as Record<string, AttributeValue>);
  await putHead(shard, Number(last.seq), String(last.hash));
}

async function verify(): Promise<LogVerification> {
  return world.client(world.supervisor).verifyLog();
}

const findingsOf = (verification: LogVerification, shard: number): readonly LogFinding[] =>
  verification.shards.find((verdict) => verdict.shard === shard)?.findings ?? [];

describe("the exchange log's signed checkpoints", () => {
  it("are published to anyone and verify offline with the platform's published key set", async () => {
    const anyone = world.client();
    const latest = await anyone.latestLogCheckpoint();
    const listed = await anyone.listLogCheckpoints({ limit: 2 });
    const keys = (await anyone.platformKeys()).keys;
    let stdout = "";
    const code = await runCli(["checkpoints", "verify", "--api-url", apiUrl, "--audience", audience], {
      stdout: (text: string) => {
        stdout += text;
      },
      stderr: () => undefined,
      env: {},
      cwd: process.cwd(),
    });

    expect(latest.checkpoint.number).toBeGreaterThanOrEqual(signed.checkpoint.number);
    expect(verifyCheckpoint(latest.jws, keys)).toEqual(latest.checkpoint);
    expect(listed.items[0]?.checkpoint.number).toBe(latest.checkpoint.number);
    expect(latest.checkpoint.shards).toHaveLength(8);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^valid: checkpoint \d+ of /);
  });

  it("let verify report entries deleted below the checkpointed head and the head rewound", async () => {
    const { shard, seq, items } = await busiestShard();
    // The insider deletes the newest entries, from one before the checkpointed head on, and rewinds the head.
    const kept = items.filter((item) => seqOf(item) < seq - 1);
    const deleted = items.filter((item) => seqOf(item) >= seq - 1);
    for (const item of deleted) {
      await dynamodb.send(new DeleteItemCommand({ TableName: table, Key: { pk: item.pk, sk: item.sk } as never }));
    }
    const newest = unmarshall(kept.at(-1) as Record<string, AttributeValue>);
    await putHead(shard, Number(newest.seq), String(newest.hash));
    let tampered: LogVerification;
    let stdout = "";
    let code: number;
    try {
      tampered = await verify();
      code = await runCli(["verify", "--key", inject("operatorKeyFile"), "--api-url", apiUrl, "--audience", audience], {
        stdout: (text: string) => {
          stdout += text;
        },
        stderr: () => undefined,
        env: {},
        cwd: process.cwd(),
      });
    } finally {
      await restore(shard, items);
    }
    const restored = await verify();

    expect(tampered.valid).toBe(false);
    expect(findingsOf(tampered, shard)).toEqual([
      expect.objectContaining({ kind: "truncated", seq: seq - 1, reason: expect.stringContaining("truncated") }),
      expect.objectContaining({ kind: "rewound", seq: seq - 1, reason: expect.stringContaining("rewound") }),
    ]);
    expect(code).toBe(1);
    expect(stdout).toContain(`chain ${shard}: entry ${seq - 1}: truncated:`);
    expect(stdout).toContain(`chain ${shard}: entry ${seq - 1}: rewound:`);
    expect(findingsOf(restored, shard)).toEqual([]);
  });

  it("let verify report an entry rewritten with its hash and the chain after it recomputed, at that entry", async () => {
    const { shard, seq, items } = await busiestShard();
    const at = seq - 1;
    // The insider changes an entry's outcome, then recomputes its hash and every link after it, head included.
    const before = items.filter((item) => seqOf(item) < at).map((item) => unmarshall(item) as ChainedEntry);
    const rewritten = items.filter((item) => seqOf(item) >= at);
    const contents = rewritten.map((item) => {
      const { pk: _pk, sk: _sk, shard: _shard, seq: _seq, prevHash: _prev, hash: _hash, ...entry } = unmarshall(item);
      for (const key of Object.keys(entry)) if (key.startsWith("gsi")) delete entry[key];
      return entry as ChainedEntry;
    });
    // Other suites log exchanges concurrently, so the entry may already be an allowed one: flip it either way.
    const original = contents[0] as ChainedEntry;
    contents[0] =
      original.outcome === "allowed"
        ? { ...original, outcome: "denied", status: 403 }
        : { ...original, outcome: "allowed", status: 200 };
    const relinked = link(contents, shard, before.at(-1) as ChainedEntry);
    for (const [index, item] of rewritten.entries()) {
      const entry = relinked[index] as ChainedEntry;
      await dynamodb.send(
        new PutItemCommand({
          TableName: table,
          Item: {
            ...item,
            ...marshall({ outcome: entry.outcome, status: entry.status, prevHash: entry.prevHash, hash: entry.hash }),
          },
        }),
      );
    }
    await putHead(shard, (relinked.at(-1) as ChainedEntry).seq, (relinked.at(-1) as ChainedEntry).hash);
    let tampered: LogVerification;
    try {
      tampered = await verify();
    } finally {
      await restore(shard, items);
    }
    const restored = await verify();

    expect(tampered.valid).toBe(false);
    expect(tampered.checkpoint?.number).toBeGreaterThanOrEqual(signed.checkpoint.number);
    expect(findingsOf(tampered, shard)).toEqual([
      expect.objectContaining({
        kind: "rewritten",
        seq: at,
        reason: expect.stringMatching(/differs from the one archived in segments\/shard-\d+\/.* recomputed/),
      }),
    ]);
    expect(findingsOf(restored, shard)).toEqual([]);
  });
});
