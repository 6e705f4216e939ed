import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A fresh temporary folder for one test file. */
export function temporaryDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `dscp-${prefix}-`));
}

/**
 * Polls `probe` until it returns a value that is not undefined, for at most `attempts` tries
 * `intervalMs` apart. For effects that happen asynchronously (queues, executions).
 */
export async function eventually<T>(probe: () => Promise<T | undefined>, attempts = 60, intervalMs = 250): Promise<T> {
  let last: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  throw new Error(`condition not met after ${attempts} attempts${last ? `: ${String(last)}` : ""}`);
}
