// Helpers for benchmarks that measure a window of work on the local runtime: the functions'
// CPU time, their invocations and the AWS calls counted by the runtime.

import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { GetQueueAttributesCommand, ListQueuesCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { type AwsCallCounts, callsBetween, RUNTIME_CALLER } from "../runtime/aws-calls.ts";
import type { LocalRuntime } from "../runtime/local-runtime.ts";

/** What the runtime has counted so far; two of these bound a measured window. */
export interface WindowMark {
  readonly cpuMs: Record<string, number>;
  readonly invocations: Record<string, { count: number; ms: number }>;
  readonly awsCalls: AwsCallCounts;
  /** Bytes written so far to each log file (functions' output, the API access log). */
  readonly logBytes: Record<string, number>;
}

export function windowOf(runtime: LocalRuntime, logDir: string): WindowMark {
  const logBytes: Record<string, number> = {};
  for (const name of readdirSync(logDir)) logBytes[name] = statSync(join(logDir, name)).size;
  return {
    cpuMs: runtime.lambdas.cpuMs(),
    invocations: runtime.lambdas.invocations(),
    awsCalls: runtime.awsCalls(),
    logBytes,
  };
}

/**
 * What the platform did between two marks, each figure passed through `per` (per exchange, per
 * record): every function's invocations and CPU, and the AWS calls by caller, the runtime's own
 * (provisioning, a benchmark's queue checks) left out.
 */
export function workBetween(
  before: WindowMark,
  after: WindowMark,
  per: (value: number) => number,
): { functions: Record<string, { count: number; cpuMs: number }>; calls: AwsCallCounts } {
  const functions: Record<string, { count: number; cpuMs: number }> = {};
  for (const [logicalId, runs] of Object.entries(after.invocations)) {
    const count = runs.count - (before.invocations[logicalId]?.count ?? 0);
    const cpuMs = (after.cpuMs[logicalId] ?? 0) - (before.cpuMs[logicalId] ?? 0);
    if (count > 0) functions[logicalId] = { count: per(count), cpuMs: per(cpuMs) };
  }
  const calls = Object.fromEntries(
    Object.entries(callsBetween(before.awsCalls, after.awsCalls)).filter(([caller]) => caller !== RUNTIME_CALLER),
  );
  return { functions, calls };
}

/** Bytes the logs grew by between two marks. */
export function logBytesBetween(before: WindowMark, after: WindowMark): number {
  return Object.entries(after.logBytes).reduce((sum, [name, size]) => sum + size - (before.logBytes[name] ?? 0), 0);
}

/** A figure per exchange (or record), rounded to three decimals. */
export function perExchange(value: number, exchanges: number): number {
  return Number((value / exchanges).toFixed(3));
}

/**
 * Waits until no work queue (dead-letter queues aside) holds a message, visible, in flight or
 * delayed, twice in a row: every message sent so far has been processed and deleted.
 */
export async function drainQueues(sqs: SQSClient, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quiet = 0;
  while (quiet < 2) {
    if (Date.now() > deadline) throw new Error("the queues did not drain in time");
    const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({}));
    let held = 0;
    for (const url of QueueUrls.filter((candidate) => !/dead/i.test(candidate))) {
      const { Attributes = {} } = await sqs.send(
        new GetQueueAttributesCommand({
          QueueUrl: url,
          AttributeNames: [
            "ApproximateNumberOfMessages",
            "ApproximateNumberOfMessagesNotVisible",
            "ApproximateNumberOfMessagesDelayed",
          ],
        }),
      );
      held +=
        Number(Attributes.ApproximateNumberOfMessages ?? 0) +
        Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
        Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0);
    }
    quiet = held === 0 ? quiet + 1 : 0;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Throughput and latency of a load: requests per second, p50 and p99 in ms, answers other than 200. */
export interface LoadFigures {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

/** Makes `requests` calls, `concurrency` at a time; each call answers its HTTP status. */
export async function load(
  call: (index: number) => Promise<number>,
  requests: number,
  concurrency: number,
): Promise<LoadFigures> {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const index = next++;
        const begin = performance.now();
        const status = await call(index);
        latencies.push(performance.now() - begin);
        if (status !== 200) errors++;
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    Number((latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0).toFixed(1));
  return { rps: Number((requests / seconds).toFixed(1)), p50: at(0.5), p99: at(0.99), errors };
}
