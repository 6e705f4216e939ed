import type { LineSink, ObjectStore } from "../../../domain/sync/objects.ts";

/** An object store in memory, for the sync jobs' unit tests: what was committed is in `stored`. */
export function memoryObjects(): ObjectStore & { readonly stored: Map<string, string[]> } {
  const stored = new Map<string, string[]>();
  const refused = async (): Promise<never> => {
    throw new Error("not in the in-memory object store");
  };
  return {
    stored,
    presignPut: async (key) => `memory://${key}?put`,
    startParts: async (key) => `upload-of-${key}`,
    presignParts: async (key, _uploadId, parts) =>
      Array.from({ length: parts }, (_, i) => `memory://${key}?part=${i + 1}`),
    completeParts: refused,
    exists: async (key) => stored.has(key),
    size: async (key) => {
      const lines = stored.get(key);
      return lines ? lines.reduce((bytes, line) => bytes + Buffer.byteLength(line) + 1, 0) : undefined;
    },
    async *lines(key) {
      yield* stored.get(key) ?? [];
    },
    presignGet: async (key) => `memory://${key}`,
    async stage(key): Promise<LineSink> {
      const lines: string[] = [];
      return {
        write: async (line) => {
          lines.push(line);
        },
        commit: async () => {
          stored.set(key, lines);
        },
        discard: async () => {},
      };
    },
  };
}
