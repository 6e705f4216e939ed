import type { Writable } from "node:stream";

/*
 * POSIX ustar archives (IEEE Std 1003.1), written and read as streams: a 512-byte header per
 * file, its bytes padded to 512, two zero blocks at the end. What the export packages need and
 * no more: regular files only, names of up to 255 bytes (prefix + name).
 */

const BLOCK = 512;

/** Writes a ustar archive to `out`, one file at a time, each chunk once `out` has taken the one before. */
export class TarWriter {
  private readonly mtime = Math.floor(Date.now() / 1000);

  constructor(private readonly out: Writable) {}

  /**
   * One file of `size` bytes, its content from `body` (which must yield exactly `size` bytes);
   * resolves once `out` has taken them all, when their memory may be reused.
   */
  async file(name: string, size: number, body: Buffer | AsyncIterable<Buffer>): Promise<void> {
    await this.write(header(name, size, this.mtime));
    let written = 0;
    for await (const chunk of Buffer.isBuffer(body) ? [body] : body) {
      written += chunk.length;
      await this.write(chunk);
    }
    if (written !== size) throw new Error(`${name}: ${written} bytes written for a header saying ${size}`);
    const padding = (BLOCK - (size % BLOCK)) % BLOCK;
    if (padding > 0) await this.write(Buffer.alloc(padding));
  }

  /** The end-of-archive marker: two zero blocks. */
  async finish(): Promise<void> {
    await this.write(Buffer.alloc(BLOCK * 2));
  }

  /** Resolves once `out` has taken the chunk (a transform: processed it): its memory may then be reused. */
  private write(chunk: Buffer): Promise<void> {
    return new Promise((resolve, reject) => {
      this.out.write(chunk, (error) => (error ? reject(error) : resolve()));
    });
  }
}

function header(path: string, size: number, mtime: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  const bytes = Buffer.from(path, "utf8");
  let name = path;
  let prefix = "";
  if (bytes.length > 100) {
    const cut = path.lastIndexOf("/", 155);
    if (cut <= 0 || Buffer.byteLength(path.slice(cut + 1)) > 100) throw new Error(`${path}: too long for ustar`);
    prefix = path.slice(0, cut);
    name = path.slice(cut + 1);
  }
  block.write(name, 0, 100, "utf8");
  octal(block, 100, 8, 0o644);
  octal(block, 108, 8, 0);
  octal(block, 116, 8, 0);
  octal(block, 124, 12, size);
  octal(block, 136, 12, mtime);
  block.fill(0x20, 148, 156); // the checksum counts itself as spaces
  block.write("0", 156, 1, "ascii");
  block.write("ustar\u000000", 257, 8, "ascii");
  block.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const byte of block) sum += byte;
  block.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, 8, "ascii");
  return block;
}

function octal(block: Buffer, offset: number, length: number, value: number): void {
  block.write(`${value.toString(8).padStart(length - 1, "0")}\u0000`, offset, length, "ascii");
}

/** What reading an archive hands on, file by file. */
export interface TarVisitor {
  /** A file begins; what it returns receives its bytes, in order. */
  file(name: string, size: number): (chunk: Buffer) => void;
}

/**
 * Reads a ustar archive from a stream of bytes, handing each file's content on as it passes:
 * memory holds one block of header and whatever chunk the stream gives, whatever the sizes.
 * Directories and other tools' extended headers are passed over. Throws on a damaged header (its
 * checksum), an entry that is neither, or an archive that ends mid-file.
 */
export async function readTar(input: AsyncIterable<Buffer>, visitor: TarVisitor): Promise<void> {
  let pending: Buffer = Buffer.alloc(0);
  let remaining = 0;
  let padding = 0;
  let sink: ((chunk: Buffer) => void) | undefined;
  let longName: string | undefined;
  let ended = false;
  for await (const incoming of input) {
    pending = pending.length === 0 ? incoming : Buffer.concat([pending, incoming]);
    for (;;) {
      if (ended) break;
      if (remaining > 0) {
        if (pending.length === 0) break;
        const take = Math.min(remaining, pending.length);
        sink?.(pending.subarray(0, take));
        pending = pending.subarray(take);
        remaining -= take;
        continue;
      }
      if (padding > 0) {
        if (pending.length === 0) break;
        const skip = Math.min(padding, pending.length);
        pending = pending.subarray(skip);
        padding -= skip;
        continue;
      }
      if (pending.length < BLOCK) break;
      const block = pending.subarray(0, BLOCK);
      pending = pending.subarray(BLOCK);
      if (block.every((byte) => byte === 0)) {
        ended = true;
        break;
      }
      const { name, size, type } = parseHeader(block);
      remaining = size;
      padding = (BLOCK - (size % BLOCK)) % BLOCK;
      if (type === "5" || type === "x" || type === "g") {
        // Directories, and extended headers other tools write: nothing to hand on.
        sink = undefined;
        continue;
      }
      if (type === "L") {
        // GNU's long name: the next entry is called what this one holds.
        const parts: Buffer[] = [];
        sink = (chunk) => {
          parts.push(Buffer.from(chunk));
          if (parts.reduce((sum, part) => sum + part.length, 0) === size) {
            longName = Buffer.concat(parts).toString("utf8").replace(/\0+$/, "");
          }
        };
        continue;
      }
      sink = visitor.file(longName ?? name, size);
      longName = undefined;
      if (size === 0) sink(Buffer.alloc(0));
    }
  }
  if (remaining > 0 || padding > 0) throw new Error("the archive ends in the middle of a file");
  if (!ended) throw new Error("the archive has no end-of-archive marker: it was cut short");
}

function parseHeader(block: Buffer): { name: string; size: number; type: string } {
  const text = (start: number, length: number) => {
    const field = block.subarray(start, start + length);
    const end = field.indexOf(0);
    return field.subarray(0, end === -1 ? length : end).toString("utf8");
  };
  const stored = Number.parseInt(text(148, 8).trim(), 8);
  let sum = 0;
  for (let index = 0; index < BLOCK; index++) sum += index >= 148 && index < 156 ? 0x20 : (block[index] as number);
  if (stored !== sum) throw new Error("a file header of the archive is damaged (its checksum does not match)");
  const type = text(156, 1) || "0";
  if (!["0", "5", "x", "g", "L"].includes(type)) {
    throw new Error(`the archive holds an entry of type '${type}', which is neither a file nor a directory`);
  }
  const prefix = text(345, 155);
  const name = text(0, 100);
  return { name: prefix ? `${prefix}/${name}` : name, size: Number.parseInt(text(124, 12).trim() || "0", 8), type };
}
