// Measures the embedded local runtime serving the platform: start-up, the first (cold) request,
// then GET /v1/health sequentially and with concurrent clients. Loopback only, bounded counts.

import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { healthRoutes } from "../api/platform.ts";
import { pathOf, routeKey } from "../api/route.ts";
import { startLocalRuntime } from "../runtime/local-runtime.ts";
import { PROJECT_ROOT, synthesize } from "../runtime/synth.ts";

const SEQUENTIAL = 300;
const CONCURRENT = 2000;
const CLIENTS = 16;

const workDir = join(PROJECT_ROOT, ".dscp", "bench");
const assemblyDir = join(workDir, "cdk.out");
await synthesize({ outdir: assemblyDir, quiet: true });

let started = performance.now();
const runtime = await startLocalRuntime({ assemblyDir, dataDir: join(workDir, "data"), fresh: true });
const startupMs = performance.now() - started;
const apiUrl = Object.values(runtime.outputs).find((outputs) => outputs.ApiUrl)?.ApiUrl;
if (!apiUrl) throw new Error("no ApiUrl output");
const health = new URL(pathOf(healthRoutes.getHealth).slice(1), apiUrl);

async function get(): Promise<number> {
  const begin = performance.now();
  const response = await fetch(health);
  await response.arrayBuffer();
  if (response.status !== 200) throw new Error(`health answered ${response.status}`);
  return performance.now() - begin;
}

function summary(latencies: number[], wallMs: number) {
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]?.toFixed(1);
  return `${(latencies.length / (wallMs / 1000)).toFixed(0)} req/s, p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, p99 ${at(0.99)} ms`;
}

try {
  const cold = await get();
  const sequential: number[] = [];
  started = performance.now();
  for (let index = 0; index < SEQUENTIAL; index++) sequential.push(await get());
  const sequentialWall = performance.now() - started;

  const concurrent: number[] = [];
  let next = 0;
  started = performance.now();
  await Promise.all(
    Array.from({ length: CLIENTS }, async () => {
      while (next++ < CONCURRENT) concurrent.push(await get());
    }),
  );
  const concurrentWall = performance.now() - started;

  const lines = [
    `local runtime start (emulators, provisioning, API): ${startupMs.toFixed(0)} ms`,
    `first request (cold function): ${cold.toFixed(0)} ms`,
    `${routeKey(healthRoutes.getHealth)}, ${SEQUENTIAL} sequential: ${summary(sequential, sequentialWall)}`,
    `${routeKey(healthRoutes.getHealth)}, ${CONCURRENT} from ${CLIENTS} clients: ${summary(concurrent, concurrentWall)}`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
} finally {
  await runtime.stop();
}
