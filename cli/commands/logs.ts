import { readFileSync, writeFileSync } from "node:fs";
import { directoryLogArchive } from "../../adapters/fs/log-archive-directory.ts";
import { logReaderRoutes } from "../../api/logs.ts";
import { CheckpointVerificationError, verifyCheckpoint } from "../../domain/exchange-log/checkpoint.ts";
import { verifyArchive } from "../../domain/exchange-log/checkpointing.ts";
import type { MetricsSummary } from "../../domain/exchange-log/metrics.ts";
import type { Command } from "../command.ts";
import { keySetOption, mapPage, optional, pageOf, paging } from "../options.ts";

/** The exchange log: its entries, its hash chains, and the platform's signed checkpoints of them. */
export const logCommands: readonly Command[] = [
  {
    name: "logs",
    args: [],
    summary: "The exchange log: your agency's calls (--view provider: calls to your datasets; all: supervisor)",
    options: {
      view: { type: "string" },
      from: { type: "string", hint: "ISO date-time" },
      to: { type: "string", hint: "ISO date-time" },
      dataset: { type: "string" },
      outcome: { type: "string", hint: "allowed, denied or failed" },
      ...paging,
    },
    async run(context, _args, values) {
      const page = await context.client().listLogEntries({
        ...optional({
          view: values.view,
          from: values.from,
          to: values.to,
          datasetId: values.dataset,
          outcome: values.outcome,
        }),
        ...pageOf(values),
      } as never);
      context.table(page, [
        "time",
        "transactionId",
        "consumerSystem",
        "datasetId",
        "operation",
        "outcome",
        "status",
        "fieldsReturned",
        "latencyMs",
      ]);
      return 0;
    },
  },
  {
    name: "verify",
    args: [],
    summary: "Verify every hash chain of the exchange log (operator, supervisor); exit 1 if broken",
    async run(context) {
      const verdict = await context.client().verifyLog();
      if (context.json) context.print(verdict);
      else {
        context.io.stdout(
          `${verdict.valid ? "valid" : "BROKEN"}: ${verdict.entries} entries in ${verdict.shards.length} chains, checked ${verdict.checkedAt}\n`,
        );
        if (verdict.checkpoint) {
          context.io.stdout(`  against signed checkpoint ${verdict.checkpoint.number} of ${verdict.checkpoint.time}\n`);
        } else if (!verdict.checkpointProblem) context.io.stdout("  no signed checkpoint yet: chains checked alone\n");
        if (verdict.checkpointProblem) context.io.stdout(`  ${verdict.checkpointProblem}\n`);
        for (const shard of verdict.shards.filter((candidate) => !candidate.valid)) {
          const findings = shard.findings ?? [{ kind: "broken", seq: shard.brokenAt ?? 0, reason: shard.reason ?? "" }];
          for (const finding of findings) {
            context.io.stdout(`  chain ${shard.shard}: entry ${finding.seq}: ${finding.kind}: ${finding.reason}\n`);
          }
        }
      }
      return verdict.valid ? 0 : 1;
    },
  },
  {
    name: "checkpoints",
    args: [],
    summary: "The exchange log's signed checkpoints, newest first (no key needed)",
    options: { ...paging },
    async run(context, _args, values) {
      const page = await context.client(false).listLogCheckpoints(pageOf(values));
      context.table(
        mapPage(page, ({ checkpoint }) => ({
          number: checkpoint.number,
          time: checkpoint.time,
          entries: checkpoint.shards.reduce((sum, shard) => sum + shard.seq, 0),
          archived: checkpoint.shards.reduce(
            (sum, shard) => sum + (shard.segment ? shard.segment.toSeq - shard.segment.fromSeq + 1 : 0),
            0,
          ),
        })),
        ["number", "time", "entries", "archived"],
      );
      return 0;
    },
  },
  {
    name: "checkpoints latest",
    args: [],
    summary: "The exchange log's latest signed checkpoint (no key needed); --out keeps it to verify later",
    options: { out: { type: "string", hint: "save the checkpoint (JSON with its JWS) to this file" } },
    async run(context, _args, values) {
      const signed = await context.client(false).latestLogCheckpoint();
      if (values.out) {
        const path = context.resolve(String(values.out));
        writeFileSync(path, `${JSON.stringify(signed, null, 2)}\n`);
        context.io.stdout(`checkpoint ${signed.checkpoint.number} of ${signed.checkpoint.time} saved to ${path}\n`);
      } else context.print(signed);
      return 0;
    },
  },
  {
    name: "checkpoints take",
    args: [],
    summary: "Take a signed checkpoint of the exchange log now (operator, supervisor)",
    async run(context) {
      const signed = await context.client().takeLogCheckpoint();
      if (context.json) context.print(signed);
      else context.io.stdout(`checkpoint ${signed.checkpoint.number} of ${signed.checkpoint.time}\n`);
      return 0;
    },
  },
  {
    name: "checkpoints verify-archive",
    args: ["directory"],
    summary:
      "Verify a copy of the log-archive bucket offline (aws s3 sync): its latest checkpoint's signature, and every archived entry chained up to the heads it signs",
    options: keySetOption,
    async run(context, [directory], values) {
      const path = context.existing(String(directory), "folder");
      const keys = await context.verificationKeys(values.keys);
      const verdict = await verifyArchive(directoryLogArchive(path), keys);
      if (context.json) context.print(verdict);
      else {
        context.io.stdout(
          verdict.checkpoint
            ? `${verdict.valid ? "valid" : "NOT valid"}: checkpoint ${verdict.checkpoint.number} of ${verdict.checkpoint.time}, ${verdict.shards.reduce((sum, shard) => sum + shard.entries, 0)} archived entries chained to its heads\n`
            : `NOT valid: ${verdict.checkpointProblem}\n`,
        );
        for (const shard of verdict.shards.filter((candidate) => !candidate.valid)) {
          context.io.stdout(`  chain ${shard.shard}: ${shard.problem}\n`);
        }
      }
      return verdict.valid ? 0 : 1;
    },
  },
  {
    name: "checkpoints verify",
    args: ["file?"],
    summary:
      "Verify a checkpoint offline with the platform's published key set: a file (as checkpoints latest --out saved it, or the bare JWS), or the latest",
    options: keySetOption,
    async run(context, [file], values) {
      let jws: string;
      if (file) {
        const text = readFileSync(context.existing(String(file)), "utf8").trim();
        jws = text.startsWith("{") ? String((JSON.parse(text) as { jws?: unknown }).jws ?? "") : text;
      } else jws = (await context.client(false).latestLogCheckpoint()).jws;
      const keys = await context.verificationKeys(values.keys);
      try {
        const checkpoint = verifyCheckpoint(jws, keys);
        if (context.json) context.print({ valid: true, checkpoint });
        else {
          context.io.stdout(
            `valid: checkpoint ${checkpoint.number} of ${checkpoint.issuer} at ${checkpoint.time}, ${checkpoint.shards.length} chains, signed by the platform\n`,
          );
          for (const shard of checkpoint.shards) {
            context.io.stdout(`  chain ${shard.shard}: entry ${shard.seq} ${shard.hash}\n`);
          }
        }
        return 0;
      } catch (error) {
        if (!(error instanceof CheckpointVerificationError)) throw error;
        if (context.json) context.print({ valid: false, problem: error.message });
        else context.io.stdout(`NOT valid: ${error.message}\n`);
        return 1;
      }
    },
  },
];

/** `dscp metrics`: figures over a window of the exchange log. */
export const metrics: Command = {
  name: "metrics",
  args: [],
  summary: "Exchange figures over a window from the log: outcomes, rates, latency, per operation, dataset, consumer",
  options: {
    view: { type: "string", hint: "consumer (default), provider or all (operator, supervisor)" },
    from: { type: "string", hint: "start (ISO 8601; default 24 hours ago)" },
    to: { type: "string", hint: "end (ISO 8601; default now)" },
    dataset: { type: "string" },
  },
  async run(context, _args, values) {
    const summary: MetricsSummary = await context.client().invoke(logReaderRoutes.getMetrics, {
      query: optional({ view: values.view, from: values.from, to: values.to, datasetId: values.dataset }),
    });
    if (context.json) {
      context.print(summary);
      return 0;
    }
    const { outcomes, latencyMs } = summary;
    context.io.stdout(
      `${summary.from} to ${summary.to}: ${summary.entries} exchanges${summary.truncated ? " (truncated: narrow the window)" : ""}; allowed ${outcomes.allowed}, denied ${outcomes.denied} (${summary.denialRate}%), failed ${outcomes.failed} (${summary.errorRate}%); latency p50 ${latencyMs.p50} ms, p95 ${latencyMs.p95} ms, p99 ${latencyMs.p99} ms; ${summary.records} records, ${summary.bytes} bytes\n\n`,
    );
    const columns = ["total", "allowed", "denied", "failed", "records", "bytes"];
    context.table({ items: summary.byOperation }, ["operation", ...columns]);
    context.io.stdout("\n");
    context.table({ items: summary.byDataset }, ["datasetId", ...columns]);
    context.io.stdout("\n");
    context.table({ items: summary.byConsumer }, ["consumerSystem", ...columns]);
    if (summary.problems.length > 0) {
      context.io.stdout("\n");
      context.table({ items: summary.problems }, ["problemType", "count"]);
    }
    return 0;
  },
};
