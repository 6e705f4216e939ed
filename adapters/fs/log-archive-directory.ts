import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parseSegment } from "../../domain/exchange-log/checkpoint.ts";
import type { LogArchive, StoredCheckpoint } from "../../domain/exchange-log/checkpointing.ts";

/**
 * A copy of the log-archive bucket in a folder (`aws s3 sync s3://<LogArchiveBucketName> <dir>`),
 * read-only, laid out as the bucket is: `checkpoints/` newest first by name, `segments/shard-<n>/`
 * in sequence order.
 */
export function directoryLogArchive(directory: string): LogArchive {
  const names = (folder: string) => (existsSync(folder) ? readdirSync(folder).sort() : []);
  const checkpoints = (): StoredCheckpoint[] =>
    names(join(directory, "checkpoints"))
      .filter((name) => name.endsWith(".jws"))
      .map((name) => ({
        key: `checkpoints/${name}`,
        jws: readFileSync(join(directory, "checkpoints", name), "utf8").trim(),
      }));
  const readOnly = () => Promise.reject(new Error("a copy of the archive is read-only"));
  return {
    putSegment: readOnly,
    putCheckpoint: readOnly,
    async latest() {
      return checkpoints()[0];
    },
    async list(limit) {
      const all = checkpoints();
      return { items: all.slice(0, limit), more: all.length > limit };
    },
    async *segments(shard) {
      const folder = join(directory, "segments", `shard-${shard}`);
      for (const name of names(folder).filter((candidate) => candidate.endsWith(".ndjson"))) {
        yield { key: `segments/shard-${shard}/${name}`, entries: parseSegment(readFileSync(join(folder, name))) };
      }
    },
  };
}
