import { createHash } from "node:crypto";
import type { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import type { JsonSchema } from "../dictionary/model.ts";
import type { RecordValidator } from "../dictionary/validator.ts";
import { derToJose, type PlatformSigner } from "../identity/platform-token.ts";
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
export interface PackageSpec {
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
  readonly format: "ndjson" | "csv";
  /** The fields exported, in this order (CSV columns). */
  readonly fields: readonly string[];
  readonly filter: Readonly<Record<string, unknown>>;
  readonly requester: { readonly system: string; readonly agency: string };
  /** The consumer the package is for, and the permission and purpose it is exported under. */
  readonly consumer: { readonly system: string; readonly agency: string };
  readonly purpose: string;
  readonly purposeClass?: string;
  readonly permissionId?: string;
  readonly legalBasis?: string;
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
 * against the schema, projected to the exported fields, added to the current data file (hashed
 * as it grows), each full file appended to the archive while the next fills. Memory holds two
 * data files (8 MiB each at most by default) and the streams' buffers, whatever the dataset's size.
 */
export async function writePackage(
  spec: PackageSpec,
  records: AsyncIterable<Readonly<Record<string, unknown>>>,
  out: Writable,
  options: PackageOptions,
): Promise<PackageManifest> {
  const gzip = createGzip({ level: 6 });
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
  let exported = 0;
  let withheld = 0;
  /** The data file being filled: held in memory (at most `bytesPerFile`), hashed as it grows. */
  let current:
    | {
        path: string;
        chunks: Buffer[];
        text: string;
        hash: ReturnType<typeof createHash>;
        bytes: number;
        records: number;
      }
    | undefined;

  const flush = () => {
    if (!current || current.text === "") return;
    const bytes = Buffer.from(current.text, "utf8");
    current.text = "";
    current.hash.update(bytes);
    current.chunks.push(bytes);
    current.bytes += bytes.length;
  };
  // A full file is handed to the archive while the next one fills: compression (on libuv's
  // threads) overlaps validation and serialisation; at most two files are held at once.
  let inflight: Promise<void> = Promise.resolve();
  const close = async () => {
    if (!current) return;
    flush();
    const closing = current;
    current = undefined;
    files.push({
      path: closing.path,
      sha256: closing.hash.digest("hex"),
      bytes: closing.bytes,
      records: closing.records,
    });
    await inflight;
    inflight = tar.file(`${base}/${closing.path}`, closing.bytes, Buffer.concat(closing.chunks));
    inflight.catch(() => undefined);
  };
  const write = (text: string) => {
    if (!current) {
      const number = String(files.length + 1).padStart(6, "0");
      current = {
        path: `data/records-${number}.${spec.format}`,
        chunks: [],
        text: spec.format === "csv" ? `${spec.fields.map(csvCell).join(",")}\r\n` : "",
        hash: createHash("sha256"),
        bytes: 0,
        records: 0,
      };
    }
    current.text += text;
    if (current.text.length >= 65_536) flush();
  };

  try {
    for await (const record of records) {
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
      write(spec.format === "csv" ? csvRow(record, spec.fields) : jsonLine(record, spec.fields, keys));
      exported++;
      const filling = current as NonNullable<typeof current>;
      filling.records++;
      if (filling.records >= recordsPerFile || filling.bytes + filling.text.length >= bytesPerFile) await close();
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

function sha256(bytes: Buffer): string {
  return createHash("sha256").update(bytes).digest("hex");
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
