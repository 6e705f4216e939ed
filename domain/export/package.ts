import { createHash } from "node:crypto";
import type { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { setImmediate as nextTurn } from "node:timers/promises";
import { createGzip } from "node:zlib";
import type { JsonSchema } from "../dictionary/model.ts";
import type { RecordValidator } from "../dictionary/validator.ts";
import { derToJose, type PlatformSigner } from "../identity/platform-token.ts";
import type { ExportTerms } from "./model.ts";
import { TarWriter } from "./tar.ts";

/*
 * Export packages (Art. 7.2d): a BagIt 1.0 bag (RFC 8493) in a gzipped ustar archive, which
 * explains itself without the platform. Payload: the records in files of bounded size and the
 * JSON Schema they follow. Tags: bagit.txt, bag-info.txt, the payload manifest and the tag
 * manifest (SHA-256), and DSCP's own manifest (dataset, schema, who asked for what and why,
 * counts, every file's SHA-256) with a detached JWS over it, signed by the platform's key.
 */

/** The DSCP manifest's file name inside the bag, and its detached signature's. */
export const MANIFEST_FILE = "dscp-manifest.json";
export const SIGNATURE_FILE = "dscp-manifest.json.jws";
/** The `typ` of the signature's protected header. */
export const SIGNATURE_TYPE = "dscp-manifest+jws";

/** What the package is of, for whom and why: everything the manifest states besides its files. */
export interface PackageSpec extends ExportTerms {
  readonly exportId: string;
  readonly createdAt: string;
  /** The platform that made it (its audience, as in its tokens). */
  readonly platform: string;
  readonly dataset: {
    readonly id: string;
    readonly title: string;
    readonly managingAgency: string;
    readonly providerSystem: string;
    readonly classification: string;
    readonly keyFields: readonly string[];
  };
  readonly schema: { readonly id: string; readonly version: string; readonly jsonSchema: JsonSchema };
}

export interface PackagedFile {
  /** Path inside the bag, e.g. `data/records-000001.ndjson`. */
  readonly path: string;
  readonly sha256: string;
  readonly bytes: number;
  readonly records?: number;
}

/** `dscp-manifest.json`. */
export interface PackageManifest extends Omit<PackageSpec, "schema"> {
  readonly dscpPackage: "1.0";
  readonly layout: "BagIt 1.0 (RFC 8493), gzipped ustar";
  readonly schema: { readonly id: string; readonly version: string; readonly file: PackagedFile };
  readonly records: {
    readonly exported: number;
    /** Records that broke the schema: withheld, never altered; a sample by key with each error. */
    readonly withheld: number;
    readonly withheldSample: ReadonlyArray<{ key: string; errors: ReadonlyArray<{ path: string; rule: string }> }>;
  };
  readonly files: readonly PackagedFile[];
  readonly signature: { readonly file: string; readonly alg: "ES256"; readonly kid: string };
}

export interface PackageOptions {
  readonly signer: PlatformSigner;
  readonly validator: RecordValidator;
  /** The data key of a record, for the withheld sample. */
  readonly keyOf: (record: Readonly<Record<string, unknown>>) => string;
  /** A data file closes after this many records or bytes, whichever comes first (it is held in memory until then). */
  readonly recordsPerFile?: number;
  readonly bytesPerFile?: number;
  /** Told every so many records how many are done (for the job's progress). */
  readonly progress?: (records: number) => Promise<void> | void;
}

/**
 * Writes the package of `records` to `out` as a gzipped ustar stream: each record validated
 * against the schema, projected to the exported fields, added to the current data file, each
 * full file hashed and appended to the archive while the next fills. Memory holds two
 * data files (8 MiB each at most by default) and the streams' buffers, whatever the dataset's size.
 */
export async function writePackage(
  spec: PackageSpec,
  records: AsyncIterable<Readonly<Record<string, unknown>>>,
  out: Writable,
  options: PackageOptions,
): Promise<PackageManifest> {
  // Compressed output in chunks of 1 MiB rather than 16 KiB: a data file (8 MiB, about 1 MiB
  // compressed) is then compressed in one or two passes on libuv's threads, not in dozens, each
  // of which would wait for a turn of the event loop to start the next.
  const gzip = createGzip({ level: 6, chunkSize: 1_048_576 });
  const sent = pipeline(gzip, out);
  const tar = new TarWriter(gzip);
  const base = spec.exportId;
  const check = options.validator.check(spec.schema.jsonSchema);
  // Each exported field's `"name":`, written once.
  const keys = spec.fields.map((field) => `${JSON.stringify(field)}:`);
  const recordsPerFile = options.recordsPerFile ?? 250_000;
  const bytesPerFile = options.bytesPerFile ?? 8 * 1_048_576;
  const files: PackagedFile[] = [];
  const withheldSample: Array<{ key: string; errors: Array<{ path: string; rule: string }> }> = [];
  let read = 0;
  let exported = 0;
  let withheld = 0;
  /** The data file being filled, held in memory until it closes. */
  let current: DataFile | undefined;
  // Two buffers take turns, one filling while the archive takes the other: a new buffer for
  // every file would be faulted into memory anew, page by page, costing about as much as the
  // encoding into it.
  let spare: Buffer | undefined;

  // A full file is handed to the archive while the next one fills: compression (on libuv's
  // threads) overlaps validation and serialisation; at most two files are held at once.
  let inflight: Promise<void> = Promise.resolve();
  const close = async () => {
    if (!current) return;
    const closing = current;
    current = undefined;
    const content = closing.content();
    files.push({ path: closing.path, sha256: sha256(content), bytes: content.length, records: closing.records });
    await inflight;
    inflight = tar.file(`${base}/${closing.path}`, content.length, content).then(() => {
      spare = closing.memory;
    });
    inflight.catch(() => undefined);
  };
  const open = (): DataFile => {
    const number = String(files.length + 1).padStart(6, "0");
    const memory = spare ?? Buffer.allocUnsafe(bytesPerFile + LINE_ROOM);
    spare = undefined;
    const file = new DataFile(`data/records-${number}.${spec.format}`, memory);
    if (spec.format === "csv") file.append(`${spec.fields.map(csvCell).join(",")}\r\n`);
    return file;
  };

  try {
    for await (const record of records) {
      // Compression and the upload move on only in turns of the event loop (their callbacks):
      // a source that never waits, records at hand, would hold them back until a file closes.
      if (++read % RECORDS_PER_TURN === 0) await nextTurn();
      const errors = check(record);
      if (errors.length > 0) {
        withheld++;
        if (withheldSample.length < 100) {
          withheldSample.push({
            key: options.keyOf(record),
            errors: errors.map((error) => ({ path: error.path, rule: error.rule })),
          });
        }
        continue;
      }
      current ??= open();
      current.append(spec.format === "csv" ? csvRow(record, spec.fields) : jsonLine(record, spec.fields, keys));
      current.records++;
      exported++;
      if (current.records >= recordsPerFile || current.bytes >= bytesPerFile) await close();
      if (options.progress && exported % 10_000 === 0) await options.progress(exported);
    }
    await close();
    await inflight;

    const schemaBytes = Buffer.from(
      `${JSON.stringify(exportedSchema(spec.schema.jsonSchema, spec.fields), null, 2)}\n`,
    );
    const schemaFile: PackagedFile = {
      path: "data/schema.json",
      sha256: sha256(schemaBytes),
      bytes: schemaBytes.length,
    };
    await tar.file(`${base}/${schemaFile.path}`, schemaFile.bytes, schemaBytes);
    const payload = [...files, schemaFile];

    const { schema: _schema, ...described } = spec;
    const manifest: PackageManifest = {
      dscpPackage: "1.0",
      layout: "BagIt 1.0 (RFC 8493), gzipped ustar",
      ...described,
      schema: { id: spec.schema.id, version: spec.schema.version, file: schemaFile },
      records: { exported, withheld, withheldSample },
      files,
      signature: { file: SIGNATURE_FILE, alg: "ES256", kid: options.signer.keyId },
    };
    const manifestBytes = Buffer.from(`${JSON.stringify(manifest, null, 2)}\n`);
    const tags: Array<[string, Buffer]> = [
      ["bagit.txt", Buffer.from("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")],
      [
        "bag-info.txt",
        Buffer.from(
          [
            `Source-Organization: ${spec.dataset.managingAgency} via ${spec.platform}`,
            `Bagging-Date: ${spec.createdAt.slice(0, 10)}`,
            `External-Identifier: ${spec.exportId}`,
            `External-Description: ${oneLine(`${spec.dataset.id} ${spec.schema.id} ${spec.schema.version}, for ${spec.consumer.system}: ${spec.purpose}`)}`,
            `Payload-Oxum: ${payload.reduce((sum, file) => sum + file.bytes, 0)}.${payload.length}`,
            `DSCP-Dataset: ${spec.dataset.id}`,
            `DSCP-Schema: ${spec.schema.id} ${spec.schema.version}`,
            `DSCP-Records: ${exported}`,
            "",
          ].join("\n"),
        ),
      ],
      ["manifest-sha256.txt", Buffer.from(payload.map((file) => `${file.sha256}  ${file.path}\n`).join(""))],
      [MANIFEST_FILE, manifestBytes],
      [SIGNATURE_FILE, Buffer.from(`${await detachedJws(options.signer, manifestBytes)}\n`)],
    ];
    for (const [name, bytes] of tags) await tar.file(`${base}/${name}`, bytes.length, bytes);
    const tagManifest = Buffer.from(tags.map(([name, bytes]) => `${sha256(bytes)}  ${name}\n`).join(""));
    await tar.file(`${base}/tagmanifest-sha256.txt`, tagManifest.length, tagManifest);
    await tar.finish();
    gzip.end();
    await sent;
    return manifest;
  } catch (error) {
    gzip.destroy(error as Error);
    await sent.catch(() => undefined);
    throw error;
  }
}

/** A compact JWS with detached payload (RFC 7515, Appendix F): `<header>..<signature>`. */
async function detachedJws(signer: PlatformSigner, payload: Buffer): Promise<string> {
  const header = Buffer.from(JSON.stringify({ alg: "ES256", kid: signer.keyId, typ: SIGNATURE_TYPE })).toString(
    "base64url",
  );
  const der = await signer.sign(Buffer.from(`${header}.${payload.toString("base64url")}`));
  return `${header}..${Buffer.from(derToJose(der, 32)).toString("base64url")}`;
}

/**
 * The schema the exported records follow: the dataset's, cut to the exported fields (the others
 * are neither present nor required), naming the schema it derives from instead of its `$id`.
 */
export function exportedSchema(schema: JsonSchema, fields: readonly string[]): JsonSchema {
  const { $id, properties, required, ...rest } = schema as JsonSchema & {
    properties?: Record<string, unknown>;
    required?: string[];
  };
  return {
    ...rest,
    ...($id ? { "x-dscp-derivedFrom": $id } : {}),
    "x-dscp-fields": [...fields],
    properties: Object.fromEntries(Object.entries(properties ?? {}).filter(([name]) => fields.includes(name))),
    required: (required ?? []).filter((name) => fields.includes(name)),
  };
}

/**
 * The exported fields of a record as one JSON line, in the export's order (absent ones left
 * out): what `JSON.stringify` of the projected record gives, without building that record.
 */
function jsonLine(
  record: Readonly<Record<string, unknown>>,
  fields: readonly string[],
  keys: readonly string[],
): string {
  let line = "";
  for (let index = 0; index < fields.length; index++) {
    const value = record[fields[index] as string];
    if (value === undefined) continue;
    line += `${line === "" ? "{" : ","}${keys[index]}${JSON.stringify(value)}`;
  }
  return `${line === "" ? "{" : line}}\n`;
}

function csvRow(record: Readonly<Record<string, unknown>>, fields: readonly string[]): string {
  let row = "";
  for (let index = 0; index < fields.length; index++) {
    row += `${index === 0 ? "" : ","}${csvCell(record[fields[index] as string])}`;
  }
  return `${row}\r\n`;
}

/** RFC 4180: quoted when it holds a comma, a quote or a line break; objects as JSON. */
export function csvCell(value: unknown): string {
  if (value === undefined || value === null) return "";
  const text = typeof value === "object" ? JSON.stringify(value) : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/**
 * A data file as it fills: its lines encoded one by one straight into a buffer that has room for
 * the file's bound and the line that crosses it. Encoding a long string built by appending the
 * lines costs twice as much: that string is a rope of small pieces, flattened before encoding.
 */
class DataFile {
  records = 0;
  private length = 0;

  constructor(
    readonly path: string,
    private buffer: Buffer,
  ) {}

  get bytes(): number {
    return this.length;
  }

  append(text: string): void {
    // UTF-8 takes at most 3 bytes per UTF-16 code unit; the exact count only when that is too many.
    if (this.length + text.length * 3 > this.buffer.length) this.reserve(Buffer.byteLength(text));
    this.length += this.buffer.write(text, this.length);
  }

  /** The file's bytes (a view: the file must not be appended to after). */
  content(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  /** The whole buffer, for another file once this one's bytes are no longer needed. */
  get memory(): Buffer {
    return this.buffer;
  }

  /** Room for `bytes` more: a line too long for the room left takes the file past its bound, so once at most. */
  private reserve(bytes: number): void {
    const needed = this.length + bytes;
    if (needed <= this.buffer.length) return;
    const larger = Buffer.allocUnsafe(needed);
    this.buffer.copy(larger, 0, 0, this.length);
    this.buffer = larger;
  }
}

/** Room past a data file's bound for the line that crosses it (a longer one makes the buffer grow). */
const LINE_ROOM = 65_536;

/** Records read between turns of the event loop (a few milliseconds of work). */
const RECORDS_PER_TURN = 1000;

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
