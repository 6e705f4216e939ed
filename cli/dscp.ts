import { createHash, type JsonWebKey } from "node:crypto";
import {
  createReadStream,
  createWriteStream,
  existsSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { isAbsolute, join } from "node:path";
import { createInterface } from "node:readline";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { directoryLogArchive } from "../adapters/fs/log-archive-directory.ts";
import { DscpClient, DscpProblemError } from "../client/dscp-client.ts";
import { generateIdentity, identityPath, loadIdentity, saveIdentity } from "../client/identity-files.ts";
import { readPlatformOutputs } from "../client/outputs.ts";
import type { DeliveryState } from "../domain/delivery/model.ts";
import { RecordValidator } from "../domain/dictionary/validator.ts";
import { CheckpointVerificationError, verifyCheckpoint } from "../domain/exchange-log/checkpoint.ts";
import { verifyArchive } from "../domain/exchange-log/checkpointing.ts";
import type { MetricsSummary } from "../domain/exchange-log/metrics.ts";
import { verifyPackage } from "../domain/export/verify.ts";
import type { Audit, AuditsQueued, ComplianceReport, Ranking } from "../domain/oversight/model.ts";
import type { PurposeClass } from "../domain/permissions/model.ts";
import type { ProblemDetails } from "../domain/problem.ts";
import { type Bar, barChartSvg, toCsv } from "./reports.ts";

/** Where the CLI writes and what it reads; the process's own by default, a test's in tests. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly cwd: string;
}

type OptionSpec = {
  readonly type: "string" | "boolean";
  readonly multiple?: boolean;
  readonly short?: string;
  readonly hint?: string;
};
type Values = Record<string, string | boolean | string[] | undefined>;
type Page = { items: object[]; nextCursor?: string };

interface Command {
  /** The command words, e.g. `agencies add`. */
  readonly name: string;
  readonly args: readonly string[];
  readonly summary: string;
  readonly options?: Readonly<Record<string, OptionSpec>>;
  /** Options that must be given. */
  readonly required?: readonly string[];
  run(context: Context, args: readonly string[], values: Values): Promise<number | undefined>;
}

class UsageError extends Error {}

const GLOBAL_OPTIONS: Readonly<Record<string, OptionSpec>> = {
  as: { type: "string", hint: "system id: sign with .dscp/keys/<id>.json (env DSCP_AS)" },
  key: { type: "string", hint: "key file to sign with (env DSCP_KEY)" },
  "keys-dir": { type: "string", hint: "folder of key files (default .dscp/keys, env DSCP_KEYS_DIR)" },
  outputs: { type: "string", hint: "stack outputs file (default .dscp/outputs.json, env DSCP_OUTPUTS)" },
  "api-url": { type: "string", hint: "API base URL, instead of the outputs file (env DSCP_API_URL)" },
  audience: { type: "string", hint: "platform audience, with --api-url (env DSCP_AUDIENCE)" },
  json: { type: "boolean", hint: "print the API's JSON as it came" },
  quiet: { type: "boolean", short: "q", hint: "print only the id of what was created or changed (for scripts)" },
  help: { type: "boolean", short: "h", hint: "show help" },
};

const paging = {
  limit: { type: "string", hint: "page size, 1-100" },
  cursor: { type: "string", hint: "the cursor a previous page printed" },
} as const;

const listFilter = {
  view: { type: "string", hint: "consumer (default), provider or all (operator, supervisor)" },
  status: { type: "string" },
  dataset: { type: "string" },
  consumer: { type: "string" },
  ...paging,
} as const;

/** Where a report's table and chart are also written. */
const reportFiles = {
  csv: { type: "string", hint: "also write the table as CSV to this file" },
  chart: { type: "string", hint: "also draw it as a chart in this SVG file (*.svg)" },
} as const;

/** An audit's scores, as its report names them. */
const SCORE_COLUMNS = ["overall", "completeness", "validity", "timeliness", "uniqueness", "access"] as const;
const AUDIT_COLUMNS = [
  "datasetId",
  "state",
  "completedAt",
  "records",
  ...SCORE_COLUMNS,
  "high",
  "medium",
  "low",
] as const;

/** One row per audit: its scores and how many findings of each severity. */
function auditRow(audit: Audit): Record<string, unknown> {
  const report = audit.report;
  const findings = (severity: string) => report?.findings.filter((finding) => finding.severity === severity).length;
  return {
    auditId: audit.auditId,
    datasetId: audit.datasetId,
    state: audit.state,
    completedAt: audit.completedAt,
    records: report?.records,
    ...report?.scores,
    high: findings("high"),
    medium: findings("medium"),
    low: findings("low"),
  };
}

/** Waits for work the platform does in the background, checking every second for up to `seconds`. */
async function until<T>(check: () => Promise<T | undefined>, seconds: number, what: string): Promise<T> {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const done = await check();
    if (done !== undefined) return done;
    if (Date.now() >= deadline) throw new Error(`${what} did not finish within ${seconds} s; look again later`);
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

const accessTerms = {
  fields: { type: "string", hint: "comma-separated fields" },
  purpose: { type: "string", hint: "what the data is for" },
  "purpose-class": { type: "string", hint: "state-management, public-service or commercial (Art. 16)" },
  methods: { type: "string", hint: "comma-separated: request, sync, integrated, export (default request)" },
  from: { type: "string", hint: "valid from (date or date-time; default now)" },
  until: { type: "string", hint: "valid until (date or date-time)" },
  "legal-basis": { type: "string", hint: "the law or decision that allows it" },
} as const;
const accessRequired = ["fields", "purpose", "purpose-class", "until", "legal-basis"];

/** Every command, in the order `dscp help` lists them. */
const COMMANDS: readonly Command[] = [
  {
    name: "keygen",
    args: ["systemId"],
    summary: "Create a key pair for a system in the keys folder; prints the public key to register",
    options: {
      alg: { type: "string", hint: "EdDSA (default) or ES256" },
      kid: { type: "string" },
      force: { type: "boolean", hint: "replace an existing key file" },
    },
    async run(context, [systemId], values) {
      const path = identityPath(context.keysDir(), String(systemId));
      if (existsSync(path) && !values.force) throw new UsageError(`${path} exists; --force replaces it`);
      const alg = String(values.alg ?? "EdDSA");
      if (alg !== "EdDSA" && alg !== "ES256") throw new UsageError("--alg must be EdDSA or ES256");
      const identity = await generateIdentity(String(systemId), alg, values.kid as string | undefined);
      context.io.stderr(`wrote ${saveIdentity(context.keysDir(), identity)}\n`);
      context.print({ kid: identity.kid, jwk: identity.publicJwk });
      return 0;
    },
  },
  {
    name: "health",
    args: [],
    summary: "Is the platform up",
    async run(context) {
      context.print(await context.client(false).health());
      return 0;
    },
  },
  {
    name: "agencies list",
    args: [],
    summary: "List registered agencies",
    options: paging,
    async run(context, _args, values) {
      const page = await context.client().listAgencies(pageOf(values));
      context.table(page, ["code", "level", "country", "parentCode", "name"]);
      return 0;
    },
  },
  {
    name: "agencies add",
    args: ["code"],
    summary: "Register an agency (operator)",
    options: {
      name: { type: "string" },
      "name-en": { type: "string" },
      level: { type: "string", hint: "central, provincial, commune or foreign" },
      parent: { type: "string", hint: "parent agency code" },
      country: { type: "string", hint: "ISO 3166-1 alpha-2 (default VN)" },
    },
    required: ["name", "level"],
    async run(context, [code], values) {
      const agency = await context.client().registerAgency({
        code: String(code),
        name: String(values.name),
        level: values.level as never,
        ...optional({ nameEn: values["name-en"], parentCode: values.parent, country: values.country }),
      });
      context.print(agency);
      return 0;
    },
  },
  {
    name: "systems add",
    args: ["systemId"],
    summary: "Register a system (Agent Node) with the public key from its key file (dscp keygen)",
    options: {
      name: { type: "string" },
      capabilities: { type: "string", hint: "provider, consumer or provider,consumer" },
      endpoint: { type: "string", hint: "base URL the platform calls, once the operator approves it" },
      roles: { type: "string", hint: "platform-admin, supervisor (operator only)" },
      agency: { type: "string", hint: "default: the system id's first part" },
    },
    required: ["name", "capabilities"],
    async run(context, [systemId], values) {
      const path = identityPath(context.keysDir(), String(systemId));
      if (!existsSync(path)) throw new UsageError(`no key file ${path}: run dscp keygen ${systemId} first`);
      const identity = loadIdentity(path);
      const system = await context.client().registerSystem(String(values.agency ?? String(systemId).split(".")[0]), {
        id: String(systemId),
        name: String(values.name),
        capabilities: list(values.capabilities) as never,
        ...optional({ endpoint: values.endpoint }),
        ...(values.roles ? { roles: list(values.roles) as never } : {}),
        keys: [{ kid: identity.kid, jwk: identity.publicJwk as never }],
      });
      context.print(system);
      return 0;
    },
  },
  {
    name: "systems list",
    args: [],
    summary:
      "List systems: the operator every agency's, others their own agency's; --pending: endpoints awaiting approval",
    options: {
      pending: { type: "boolean", hint: "only systems whose endpoint awaits the operator's approval" },
      agency: { type: "string", hint: "only this agency's systems" },
      ...paging,
    },
    async run(context, _args, values) {
      const page = await context.client().listSystems({
        ...optional({ agency: values.agency }),
        ...(values.pending ? { endpointStatus: "pending" as const } : {}),
        ...pageOf(values),
      });
      context.table(page, ["id", "agencyCode", "endpoint", "endpointStatus"]);
      return 0;
    },
  },
  {
    name: "systems set-endpoint",
    args: ["systemId", "endpoint"],
    summary: "Move a system to a new endpoint; the platform calls it once the operator approves it",
    async run(context, [systemId, endpoint]) {
      context.print(await context.client().changeEndpoint(String(systemId), String(endpoint)));
      return 0;
    },
  },
  {
    name: "systems approve-endpoint",
    args: ["systemId", "endpoint"],
    summary: "Approve the endpoint a system registered (operator): only then does the platform call it",
    async run(context, [systemId, endpoint]) {
      context.print(await context.client().approveEndpoint(String(systemId), String(endpoint)));
      return 0;
    },
  },
  {
    name: "keys rotate",
    args: ["systemId"],
    summary: "Register a new key for a system and switch its key file to it (the old file is kept aside)",
    options: { alg: { type: "string", hint: "EdDSA (default) or ES256" } },
    async run(context, [systemId], values) {
      const directory = context.keysDir();
      const path = identityPath(directory, String(systemId));
      const client = context.client();
      const alg = String(values.alg ?? "EdDSA");
      if (alg !== "EdDSA" && alg !== "ES256") throw new UsageError("--alg must be EdDSA or ES256");
      const fresh = await generateIdentity(String(systemId), alg);
      const key = await client.addKey(String(systemId), { kid: fresh.kid, jwk: fresh.publicJwk as never });
      if (existsSync(path)) {
        const previous = loadIdentity(path);
        const aside = join(directory, `${systemId}.${previous.kid}.json`);
        renameSync(path, aside);
        context.io.stderr(
          `previous key kept in ${aside}; revoke it with dscp keys revoke ${systemId} ${previous.kid}\n`,
        );
      }
      context.io.stderr(`wrote ${saveIdentity(directory, fresh)}\n`);
      context.print(key);
      return 0;
    },
  },
  {
    name: "keys revoke",
    args: ["systemId", "kid"],
    summary: "Revoke a key: tokens it signs are refused from now on",
    async run(context, [systemId, kid]) {
      context.print(await context.client().revokeKey(String(systemId), String(kid)));
      return 0;
    },
  },
  {
    name: "datasets list",
    args: [],
    summary: "The public catalog (no key needed)",
    options: {
      agency: { type: "string" },
      classification: { type: "string" },
      mandatory: { type: "string", hint: "appendix-i, appendix-ii or none" },
      method: { type: "string", hint: "request, sync, integrated or export" },
      "cross-border": { type: "string", hint: "true or false" },
      ...paging,
    },
    async run(context, _args, values) {
      const crossBorder = values["cross-border"];
      const page = await context.client(false).listCatalog({
        ...optional({
          agency: values.agency,
          classification: values.classification,
          mandatory: values.mandatory,
          method: values.method,
        }),
        ...(crossBorder === undefined ? {} : { crossBorderAllowed: crossBorder === "true" }),
        ...pageOf(values),
      } as never);
      context.table(page, ["id", "classification", "mandatory", "methods", "crossBorderAllowed", "title"]);
      return 0;
    },
  },
  {
    name: "datasets show",
    args: ["datasetId"],
    summary: "One dataset of the catalog (no key needed)",
    async run(context, [datasetId]) {
      context.print(await context.client(false).getCatalogDataset(String(datasetId)));
      return 0;
    },
  },
  {
    name: "datasets publish",
    args: ["file"],
    summary: "Publish a dataset described in a JSON file (provider)",
    async run(context, [file]) {
      context.print(await context.client().publishDataset(context.readJson(String(file)) as never));
      return 0;
    },
  },
  {
    name: "datasets amend",
    args: ["datasetId", "file"],
    summary: "Amend a dataset's description with the members of a JSON file (provider)",
    async run(context, [datasetId, file]) {
      context.print(await context.client().amendDataset(String(datasetId), context.readJson(String(file)) as never));
      return 0;
    },
  },
  {
    name: "fields list",
    args: [],
    summary: "The dictionary's fields (no key needed)",
    options: {
      status: { type: "string", hint: "draft, published or deprecated" },
      owner: { type: "string" },
      ...paging,
    },
    async run(context, _args, values) {
      const page = await context.client(false).call<Page>("GET", "/v1/dictionary/fields", {
        query: { ...optional({ status: values.status, owner: values.owner }), ...pageOf(values) },
      });
      context.table(page, ["code", "type", "codeList", "status", "owner", "name", "nameEn"]);
      return 0;
    },
  },
  {
    name: "fields add",
    args: ["file"],
    summary:
      "Define dictionary fields from a JSON file holding one field or a list; existing ones are skipped (operator)",
    async run(context, [file]) {
      const content = context.readJson(String(file));
      const client = context.client();
      // Importing a file again is harmless: fields already defined are named and left as they are.
      for (const field of Array.isArray(content) ? content : [content]) {
        const response = await client.send("POST", "/v1/dictionary/fields", { body: field });
        if (response.status === 409) context.io.stderr(`exists: ${(field as { code?: string }).code}\n`);
        else if (response.status >= 400) throw new DscpProblemError(response.status, response.body as ProblemDetails);
        else context.print(response.body);
      }
      return 0;
    },
  },
  {
    name: "codes list",
    args: ["codeList?"],
    summary: "The code lists, or one list's codes (no key needed)",
    options: paging,
    async run(context, [code], values) {
      const client = context.client(false);
      if (code === undefined) {
        const page = await client.call<Page>("GET", "/v1/dictionary/code-lists", { query: pageOf(values) });
        context.table(page, ["code", "entryCount", "owner", "name", "nameEn"]);
      } else {
        const page = await client.call<Page>("GET", `/v1/dictionary/code-lists/${encodeURIComponent(code)}/entries`, {
          query: pageOf(values),
        });
        context.table(page, ["code", "label", "labelEn", "parent"]);
      }
      return 0;
    },
  },
  {
    name: "codes add",
    args: ["file"],
    summary: "Define a code list from a JSON file, or add its entries to the existing list (operator)",
    async run(context, [file]) {
      const { entries = [], ...list } = context.readJson(String(file)) as { code: string; entries?: unknown[] };
      const client = context.client();
      const first = await client.send("POST", "/v1/dictionary/code-lists", {
        body: { ...list, entries: entries.slice(0, 500) },
      });
      if (first.status >= 400 && first.status !== 409)
        throw new DscpProblemError(first.status, first.body as ProblemDetails);
      // The rest (or, for a list that exists, all of it) in batches of 500: new codes added, known ones relabelled.
      let result: unknown = first.body;
      for (let start = first.status === 409 ? 0 : 500; start < entries.length; start += 500) {
        result = await client.call("POST", `/v1/dictionary/code-lists/${encodeURIComponent(list.code)}/entries`, {
          body: { entries: entries.slice(start, start + 500) },
        });
      }
      context.print(result);
      return 0;
    },
  },
  {
    name: "schemas list",
    args: ["schemaId?"],
    summary: "The dictionary's schemas, or one schema's versions (no key needed)",
    options: paging,
    async run(context, [id], values) {
      const client = context.client(false);
      if (id === undefined) {
        const page = await client.call<Page>("GET", "/v1/dictionary/schemas", { query: pageOf(values) });
        context.table(page, ["id", "latestVersion", "owner", "updatedAt", "title"]);
      } else {
        const page = await client.call<Page>("GET", `/v1/dictionary/schemas/${encodeURIComponent(id)}/versions`, {
          query: pageOf(values),
        });
        context.table(page, ["version", "publishedAt", "publishedBy", "keyFields", "changes"]);
      }
      return 0;
    },
  },
  {
    name: "schemas show",
    args: ["schemaId", "version?"],
    summary: "A schema version (default latest) as its JSON Schema document (no key needed)",
    async run(context, [id, version]) {
      const document = await context.client(false).getJsonSchema(String(id), version);
      context.io.stdout(`${JSON.stringify(document, null, 2)}\n`);
      return 0;
    },
  },
  {
    name: "schemas publish",
    args: ["file"],
    summary: "Publish a schema version described in a JSON file (operator, or the agency it belongs to)",
    async run(context, [file]) {
      context.print(
        await context.client().call("POST", "/v1/dictionary/schemas", { body: context.readJson(String(file)) }),
      );
      return 0;
    },
  },
  {
    name: "validate",
    args: ["schemaId", "version", "file"],
    summary: "Validate an NDJSON file against a schema version, here, line by line; exit 1 if a record fails",
    options: { max: { type: "string", hint: "stop reporting after this many failing records (default 100)" } },
    async run(context, [id, version, file], values) {
      const schema = await context.client(false).getJsonSchema(String(id), String(version));
      const summary = await validateNdjson(context.resolve(String(file)), schema, Number(values.max ?? 100), (line) =>
        context.io.stdout(line),
      );
      context.io.stdout(
        `${summary.valid} valid, ${summary.invalid} invalid of ${summary.records} records (${schema.$id as string})\n`,
      );
      return summary.invalid > 0 ? 1 : 0;
    },
  },
  {
    name: "master-data list",
    args: [],
    summary: "The master data items and their one source each (no key needed)",
    options: { level: { type: "string", hint: "national or sectoral" }, agency: { type: "string" }, ...paging },
    async run(context, _args, values) {
      const page = await context.client(false).call<Page>("GET", "/v1/master-data", {
        query: { ...optional({ level: values.level, agency: values.agency }), ...pageOf(values) },
      });
      context.table(page, ["code", "level", "sector", "sourceDataset", "managingAgency", "name"]);
      return 0;
    },
  },
  {
    name: "master-data add",
    args: ["file"],
    summary: "Register a master data item from a JSON file (operator, or the agency managing its source)",
    async run(context, [file]) {
      context.print(await context.client().call("POST", "/v1/master-data", { body: context.readJson(String(file)) }));
      return 0;
    },
  },
  {
    name: "standardisation",
    args: [],
    summary: "Standardisation of each dataset against its Art. 24 deadline, and per agency",
    options: { agency: { type: "string" } },
    async run(context, _args, values) {
      const report = await context.client().call<{
        agencies: object[];
        datasets: object[];
      }>("GET", "/v1/standardisation", { query: optional({ agency: values.agency }) });
      if (context.json) {
        context.print(report);
        return 0;
      }
      context.table({ items: report.datasets }, [
        "datasetId",
        "status",
        "deadline",
        "daysLeft",
        "standardisedOn",
        "schema",
      ]);
      context.io.stdout("\n");
      context.table({ items: report.agencies }, [
        "agency",
        "datasets",
        "standardised",
        "standardisedLate",
        "pending",
        "overdue",
        "late",
      ]);
      return 0;
    },
  },
  {
    name: "sync push",
    args: ["datasetId", "file"],
    summary: "Push an NDJSON file of operations (upsert/delete) as one batch, and follow it to completion (provider)",
    options: {
      batch: {
        type: "string",
        hint: "batch id (default: one derived from the file's content, so a retry is harmless)",
      },
      full: { type: "boolean", hint: "a full sync: records the file does not carry are deleted" },
      "no-wait": { type: "boolean", hint: "return once the batch is accepted" },
    },
    async run(context, [datasetId, file], values) {
      const path = context.resolve(String(file));
      if (!existsSync(path)) throw new UsageError(`no file ${path}`);
      const client = context.client();
      const batchId = String(values.batch ?? `file-${await fileDigest(path)}`);
      const size = statSync(path).size;
      // Files above 8 MiB go up in 8 MiB parts (S3 multipart), one part in memory at a time.
      const parts = size > PART_BYTES ? Math.ceil(size / PART_BYTES) : undefined;
      const opened = await client.call<{
        batch: { state: string; providerSystem: string };
        upload?: { url?: string; parts?: Array<{ partNumber: number; url: string }> };
      }>("POST", `/v1/sync/${encodeURIComponent(String(datasetId))}/uploads`, {
        body: { batchId, mode: values.full ? "full" : "incremental", ...(parts ? { parts } : {}) },
      });
      const uploaded: Array<{ partNumber: number; etag: string }> = [];
      if (opened.upload?.url) {
        context.io.stderr(`uploading ${size} bytes as batch ${batchId}\n`);
        await putBytes(opened.upload.url, readFileSync(path));
      } else if (opened.upload?.parts) {
        context.io.stderr(`uploading ${size} bytes in ${opened.upload.parts.length} parts as batch ${batchId}\n`);
        for (const part of opened.upload.parts) {
          const bytes = await readRange(path, (part.partNumber - 1) * PART_BYTES, PART_BYTES);
          uploaded.push({ partNumber: part.partNumber, etag: await putBytes(part.url, bytes) });
          context.io.stderr(`\rpart ${part.partNumber}/${opened.upload.parts.length}`);
        }
        context.io.stderr("\n");
      }
      // Batch ids are their provider's: named, so that the operator pushing for a provider follows it too.
      const owner = { provider: opened.batch.providerSystem };
      let batch = await client.call<SyncBatch>("POST", `/v1/sync/batches/${encodeURIComponent(batchId)}/complete`, {
        body: uploaded.length > 0 ? { parts: uploaded } : {},
        query: owner,
      });
      while (!values["no-wait"] && (batch.state === "processing" || batch.state === "awaiting-upload")) {
        context.io.stderr(`\r${progressBar(batch)}`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        batch = await client.call<SyncBatch>("GET", `/v1/sync/batches/${encodeURIComponent(batchId)}`, {
          query: owner,
        });
      }
      context.io.stderr(`\r${progressBar(batch)}\n`);
      if (context.json) context.print(batch);
      else {
        context.io.stdout(
          `${batch.batchId}: ${batch.state}; received ${batch.received}, applied ${batch.applied} (unchanged ${batch.unchanged}), rejected ${batch.rejected}, deleted as absent ${batch.tombstoned}\n`,
        );
        const { expected, delivered, failed, refused } = batch.deliveries ?? { expected: 0 };
        if (expected > 0) {
          context.io.stdout(
            `deliveries to subscribers: ${delivered} of ${expected} record versions delivered, ${failed} failed, ${refused} refused (dscp sync deliveries ${batch.batchId})\n`,
          );
        }
        for (const rejection of batch.rejections) {
          for (const error of rejection.errors) {
            context.io.stdout(`line ${rejection.index + 1}: ${error.path}: ${error.rule}: ${error.message}\n`);
          }
        }
        if (batch.rejected > batch.rejections.length) {
          // The rest are in the batch's report file: printed from it, line by line.
          const { rejectionReportUrl } = await client.call<SyncBatch>(
            "GET",
            `/v1/sync/batches/${encodeURIComponent(batchId)}`,
            { query: owner },
          );
          const report = rejectionReportUrl ? await fetch(rejectionReportUrl) : undefined;
          if (report?.ok && report.body) {
            const lines = createInterface({ input: Readable.fromWeb(report.body as never) });
            let number = 0;
            for await (const line of lines) {
              if (number++ < batch.rejections.length || !line) continue;
              const rejection = JSON.parse(line) as SyncBatch["rejections"][number];
              for (const error of rejection.errors) {
                context.io.stdout(`line ${rejection.index + 1}: ${error.path}: ${error.rule}: ${error.message}\n`);
              }
            }
          } else {
            context.io.stdout(`(${batch.rejected - batch.rejections.length} more rejected records not listed)\n`);
          }
        }
      }
      return batch.state === "failed" || batch.rejected > 0 ? 1 : 0;
    },
  },
  {
    name: "sync status",
    args: ["batchId"],
    summary: "A batch's state and counts, with its rejections and its deliveries to subscribers",
    options: { provider: { type: "string", hint: "the provider system whose batch it is (default: yours)" } },
    async run(context, [batchId], values) {
      context.print(
        await context.client().getBatch(String(batchId), values.provider ? String(values.provider) : undefined),
      );
      return 0;
    },
  },
  {
    name: "sync deliveries",
    args: ["batchId"],
    summary: "Where each delivery of a batch's changes stands: state, attempts, last error",
    options: {
      state: { type: "string", hint: "pending, delivered, failed or refused" },
      provider: { type: "string", hint: "the provider system whose batch it is (default: yours)" },
      ...paging,
    },
    async run(context, [batchId], values) {
      const page = await context.client().listBatchDeliveries(String(batchId), {
        ...(values.state ? { state: String(values.state) as DeliveryState } : {}),
        ...(values.provider ? { provider: String(values.provider) } : {}),
        ...pageOf(values),
      });
      context.table(page, ["messageId", "consumerSystem", "delivery", "records", "state", "attempts", "lastError"]);
      return 0;
    },
  },
  {
    name: "subscribe",
    args: ["datasetId"],
    summary:
      "Receive a dataset's sync batches (7.2b): pushed to your endpoint (--push PATH) or in your inbox (--inbox)",
    options: {
      push: { type: "string", hint: "path below your system's endpoint that takes deliveries, e.g. /dscp/deliveries" },
      inbox: { type: "boolean", hint: "keep deliveries in the inbox (dscp inbox)" },
      fields: { type: "string", hint: "comma-separated (default: every field your permission covers)" },
      consumer: { type: "string", hint: "the system subscribed (operator only; default: caller)" },
    },
    async run(context, [datasetId], values) {
      if (Boolean(values.push) === Boolean(values.inbox)) throw new UsageError("say --push PATH or --inbox");
      context.print(
        await context.client().subscribe({
          datasetId: String(datasetId),
          delivery: values.inbox ? "inbox" : "push",
          ...optional({ path: values.push, consumerSystem: values.consumer }),
          ...(values.fields ? { fields: list(values.fields) } : {}),
        }),
      );
      return 0;
    },
  },
  {
    name: "subscriptions",
    args: [],
    summary: "Subscriptions to a dataset (--dataset), or of a system (yours by default)",
    options: { dataset: { type: "string" }, consumer: { type: "string" } },
    async run(context, _args, values) {
      const found = await context
        .client()
        .listSubscriptions(optional({ datasetId: values.dataset, consumerSystem: values.consumer }));
      context.table(found, ["id", "delivery", "path", "fields", "permissionId", "createdAt"]);
      return 0;
    },
  },
  {
    name: "unsubscribe",
    args: ["subscriptionId"],
    summary: "End a subscription (<datasetId>@<system>)",
    async run(context, [subscriptionId]) {
      context.print(await context.client().unsubscribe(String(subscriptionId)));
      return 0;
    },
  },
  {
    name: "inbox",
    args: [],
    summary: "Your inbox of deliveries, oldest first, a record per line; --ack acknowledges what was printed",
    options: {
      dataset: { type: "string" },
      ack: { type: "boolean", hint: "acknowledge the messages printed (once you have applied them)" },
      ...paging,
    },
    async run(context, _args, values) {
      const client = context.client();
      const page = await client.readInbox({ ...optional({ datasetId: values.dataset }), ...pageOf(values) });
      const acknowledged =
        values.ack && page.items.length > 0
          ? await client.acknowledge(page.items.map((item) => item.receipt))
          : undefined;
      if (context.json) context.print({ ...page, ...(acknowledged ? { acknowledged } : {}) });
      else {
        context.table(
          {
            items: page.items.flatMap((message) =>
              message.records.map((record) => ({ messageId: message.messageId, ...record })),
            ),
            ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
          },
          ["idempotencyKey", "op", "version", "record", "messageId"],
        );
        if (acknowledged) context.io.stdout(`acknowledged ${acknowledged.acknowledged} message(s)\n`);
      }
      return 0;
    },
  },
  {
    name: "redrive",
    args: [],
    summary: "Move dead-lettered deliveries back to the delivery queue (operator)",
    options: {
      consumer: { type: "string", hint: "only this subscriber's" },
      dataset: { type: "string" },
      max: { type: "string", hint: "at most this many messages (default 100)" },
    },
    async run(context, _args, values) {
      const result = await context.client().redriveDeliveries({
        ...optional({ consumerSystem: values.consumer, datasetId: values.dataset }),
        ...(values.max ? { max: Number(values.max) } : {}),
      });
      if (context.json) context.print(result);
      else
        context.io.stdout(
          `redriven ${result.redriven} message(s)\n${result.messages.map((id) => `  ${id}\n`).join("")}`,
        );
      return 0;
    },
  },
  {
    name: "request",
    args: ["datasetId"],
    summary: "Ask for access to a dataset (consumer)",
    options: { ...accessTerms, consumer: { type: "string", hint: "the system that will use it (default: caller)" } },
    required: accessRequired,
    async run(context, [datasetId], values) {
      const request = await context.client().requestAccess({
        ...termsOf(String(datasetId), values),
        ...optional({ consumerSystem: values.consumer }),
      });
      context.print(request);
      return 0;
    },
  },
  {
    name: "requests",
    args: [],
    summary: "Access requests of your agency (--view provider: those to decide)",
    options: listFilter,
    async run(context, _args, values) {
      const page = await context.client().listAccessRequests({ ...filterOf(values), ...pageOf(values) });
      context.table(page, ["id", "status", "consumerSystem", "datasetId", "fields", "purposeClass", "validUntil"]);
      return 0;
    },
  },
  {
    name: "decide",
    args: ["requestId", "decision"],
    summary: "Approve or reject an access request, with a reason (provider, operator)",
    options: {
      reason: { type: "string" },
      fields: { type: "string", hint: "approve only these of the fields asked for" },
    },
    required: ["reason"],
    async run(context, [requestId, decision], values) {
      if (decision !== "approve" && decision !== "reject") throw new UsageError("decision must be approve or reject");
      const result = await context.client().decide(String(requestId), {
        decision,
        reason: String(values.reason),
        ...(values.fields ? { fields: list(values.fields) } : {}),
      });
      context.print(result);
      return 0;
    },
  },
  {
    name: "grant",
    args: ["datasetId"],
    summary: "Grant a dataset on a mandatory list to a consumer without a request (operator, Art. 3.5)",
    options: { ...accessTerms, consumer: { type: "string" } },
    required: [...accessRequired, "consumer"],
    async run(context, [datasetId], values) {
      const permission = await context.client().grantMandatory({
        ...termsOf(String(datasetId), values),
        consumerSystem: String(values.consumer),
      });
      context.print(permission);
      return 0;
    },
  },
  {
    name: "permissions",
    args: [],
    summary: "Permissions of your agency (--view provider: those on your datasets)",
    options: listFilter,
    async run(context, _args, values) {
      const page = await context.client().listPermissions({ ...filterOf(values), ...pageOf(values) });
      context.table(page, ["id", "status", "grantType", "consumerSystem", "datasetId", "fields", "validUntil"]);
      return 0;
    },
  },
  {
    name: "revoke",
    args: ["permissionId"],
    summary: "Revoke a permission, with a reason (provider, operator)",
    options: { reason: { type: "string" } },
    required: ["reason"],
    async run(context, [permissionId], values) {
      context.print(await context.client().revokePermission(String(permissionId), String(values.reason)));
      return 0;
    },
  },
  {
    name: "query",
    args: ["datasetId", "key?"],
    summary: "Ask for a record by key, or for records --where field=value (consumer, Art. 7.2a)",
    options: {
      fields: { type: "string", hint: "comma-separated; default every permitted field" },
      where: { type: "string", multiple: true, hint: "field=value (a string) or field:=JSON; repeatable" },
      ...paging,
    },
    async run(context, [datasetId, key], values) {
      const client = context.client();
      const fields = values.fields ? list(values.fields) : undefined;
      if (key !== undefined) {
        if (values.where) throw new UsageError("give a key or --where filters, not both");
        const response = await context.send(
          client,
          "GET",
          `/v1/exchange/${encodeURIComponent(String(datasetId))}/records/${encodeURIComponent(key)}`,
          fields ? { query: { fields: fields.join(",") } } : {},
        );
        context.print(response.body, (body) => (body as { record: Record<string, unknown> }).record);
        return 0;
      }
      const response = await context.send(
        client,
        "POST",
        `/v1/exchange/${encodeURIComponent(String(datasetId))}/query`,
        {
          body: {
            filters: Object.fromEntries(((values.where as string[] | undefined) ?? []).map(filterOf1)),
            ...(fields ? { fields } : {}),
            ...(values.limit ? { limit: Number(values.limit) } : {}),
            ...optional({ cursor: values.cursor }),
          },
        },
      );
      const page = response.body as { items: Record<string, unknown>[]; nextCursor?: string };
      context.table(page, fields ?? [...new Set(page.items.flatMap((item) => Object.keys(item)))]);
      return 0;
    },
  },
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
        {
          items: page.items.map(({ checkpoint }) => ({
            number: checkpoint.number,
            time: checkpoint.time,
            entries: checkpoint.shards.reduce((sum, shard) => sum + shard.seq, 0),
            archived: checkpoint.shards.reduce(
              (sum, shard) => sum + (shard.segment ? shard.segment.toSeq - shard.segment.fromSeq + 1 : 0),
              0,
            ),
          })),
          ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
        },
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
    options: {
      keys: {
        type: "string",
        hint: "the platform's key set as dscp platform-keys printed it (default: fetched from the platform)",
      },
    },
    async run(context, [directory], values) {
      const path = context.resolve(String(directory));
      if (!existsSync(path)) throw new UsageError(`no folder ${path}`);
      const keys = values.keys
        ? (context.readJson(String(values.keys)) as { keys?: JsonWebKey[] } & JsonWebKey)
        : await context.client(false).platformKeys();
      const verdict = await verifyArchive(directoryLogArchive(path), keys.keys ?? [keys]);
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
    options: {
      keys: {
        type: "string",
        hint: "the platform's key set as dscp platform-keys printed it (default: fetched from the platform)",
      },
    },
    async run(context, [file], values) {
      let jws: string;
      if (file) {
        const path = context.resolve(String(file));
        if (!existsSync(path)) throw new UsageError(`no file ${path}`);
        const text = readFileSync(path, "utf8").trim();
        jws = text.startsWith("{") ? String((JSON.parse(text) as { jws?: unknown }).jws ?? "") : text;
      } else jws = (await context.client(false).latestLogCheckpoint()).jws;
      const keys = values.keys
        ? (context.readJson(String(values.keys)) as { keys?: JsonWebKey[] } & JsonWebKey)
        : await context.client(false).platformKeys();
      try {
        const checkpoint = verifyCheckpoint(jws, keys.keys ?? [keys]);
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
  {
    name: "openapi",
    args: [],
    summary: "Print the platform's OpenAPI 3.1 document (no key needed)",
    async run(context) {
      context.io.stdout(`${JSON.stringify(await context.client(false).openApi(), null, 2)}\n`);
      return 0;
    },
  },
  {
    name: "audit run",
    args: [],
    summary: "Audit datasets (Art. 14): one (--dataset), an agency's (--agency), or every one (supervisor, operator)",
    options: {
      dataset: { type: "string" },
      agency: { type: "string" },
      "stale-after": { type: "string", hint: "ISO 8601 duration; a record older is stale (default P365D)" },
      "access-window": { type: "string", hint: "ISO 8601 duration of log examined (default P90D)" },
      "no-wait": { type: "boolean", hint: "return once the audits are queued" },
      ...reportFiles,
    },
    async run(context, _args, values) {
      const client = context.client();
      const { audits } = await client.call<AuditsQueued>("POST", "/v1/audits", {
        body: optional({
          datasetId: values.dataset,
          agency: values.agency,
          staleAfter: values["stale-after"],
          accessWindow: values["access-window"],
        }),
      });
      if (values["no-wait"]) {
        context.table({ items: audits }, ["auditId", "datasetId", "state"]);
        return 0;
      }
      const done: Audit[] = [];
      for (const { auditId } of audits) {
        done.push(
          await until(
            async () => {
              const audit = await client.call<Audit>("GET", `/v1/audits/${encodeURIComponent(auditId)}`);
              return audit.state === "completed" || audit.state === "failed" ? audit : undefined;
            },
            900,
            `audit ${auditId}`,
          ),
        );
      }
      if (done.length === 1 && done[0] && values.csv === undefined && values.chart === undefined) {
        return printAudit(context, done[0]);
      }
      context.report(done.map(auditRow), ["auditId", ...AUDIT_COLUMNS], values, auditChart(done));
      return done.some((audit) => audit.state === "failed") ? 1 : 0;
    },
  },
  {
    name: "audits",
    args: [],
    summary: "The latest audit of each dataset in scope, or (--dataset) every audit of one, with scores and findings",
    options: { dataset: { type: "string" }, agency: { type: "string" }, ...paging, ...reportFiles },
    async run(context, _args, values) {
      const page = await context.client().call<{ items: Audit[]; nextCursor?: string }>("GET", "/v1/audits", {
        query: optional({
          datasetId: values.dataset,
          agency: values.agency,
          limit: values.limit,
          cursor: values.cursor,
        }),
      });
      context.report(page.items.map(auditRow), ["auditId", ...AUDIT_COLUMNS], values, auditChart(page.items), page);
      return 0;
    },
  },
  {
    name: "audit show",
    args: ["auditId"],
    summary: "One audit's report: figures per check, and every finding with sample offending keys",
    async run(context, [auditId]) {
      return printAudit(
        context,
        await context.client().call<Audit>("GET", `/v1/audits/${encodeURIComponent(String(auditId))}`),
      );
    },
  },
  {
    name: "ranking compute",
    args: ["year"],
    summary: "Rank every database for a year on criteria (a)-(h) of Art. 15, then print it (supervisor, operator)",
    options: {
      indices: { type: "string", hint: "version of the ranking indices (default: the latest)" },
      ...reportFiles,
    },
    async run(context, [year], values) {
      const client = context.client();
      const path = `/v1/rankings/${encodeURIComponent(String(year))}`;
      await client.call("POST", path, { body: optional({ indices: values.indices }) });
      const ranking = await until(
        async () => {
          const current = await client.call<Ranking>("GET", path);
          return current.state === "computing" ? undefined : current;
        },
        900,
        `the ${year} ranking`,
      );
      printRanking(context, ranking, values);
      return ranking.state === "published" ? 0 : 1;
    },
  },
  {
    name: "ranking",
    args: ["year"],
    summary: "A year's ranking: each database's class, score and criteria, and why it is not higher",
    options: { ...reportFiles },
    async run(context, [year], values) {
      const ranking = await context.client().call<Ranking>("GET", `/v1/rankings/${encodeURIComponent(String(year))}`);
      printRanking(context, ranking, values);
      return ranking.state === "failed" ? 1 : 0;
    },
  },
  {
    name: "ranking indices",
    args: [],
    summary: "Every published version of the ranking indices: weights, class thresholds, targets",
    async run(context) {
      context.print(await context.client().call("GET", "/v1/rankings/indices"));
      return 0;
    },
  },
  {
    name: "compliance",
    args: [],
    summary: "Each database standardised and connected against the Art. 24 deadlines, late ones named, per agency",
    options: { agency: { type: "string" }, ...reportFiles },
    async run(context, _args, values) {
      const report = await context
        .client()
        .call<ComplianceReport>("GET", "/v1/compliance", { query: optional({ agency: values.agency }) });
      if (context.json) {
        context.print(report);
        return 0;
      }
      context.report(
        report.datasets,
        ["datasetId", "mandatory", "standardisation", "standardisedOn", "connection", "connectedOn", "late"],
        values,
        {
          title: `Databases on track against the Art. 24 deadlines, per agency (${report.asOf.slice(0, 10)})`,
          bars: report.agencies.map((agency) => ({
            label: agency.agency,
            value: Math.round((agency.onTrack / Math.max(1, agency.datasets)) * 1000) / 10,
            tone: agency.late.length > 0 ? "late" : "ok",
            note: `% (${agency.onTrack} of ${agency.datasets})`,
          })),
        },
      );
      context.io.stdout("\n");
      context.table(
        { items: report.agencies.map((agency) => ({ ...agency, late: agency.late.map((entry) => entry.datasetId) })) },
        ["agency", "datasets", "standardised", "connected", "onTrack", "late"],
      );
      for (const agency of report.agencies) {
        for (const late of agency.late) context.io.stdout(`late: ${late.datasetId}: ${late.reasons.join("; ")}\n`);
      }
      return 0;
    },
  },
  {
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
      const summary = await context.client().call<MetricsSummary>("GET", "/v1/metrics", {
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
  },
  {
    name: "platform-keys",
    args: [],
    summary: "Print the platform's public key set (keep it to verify packages offline; no key needed)",
    async run(context) {
      context.io.stdout(`${JSON.stringify(await context.client(false).platformKeys(), null, 2)}\n`);
      return 0;
    },
  },
  {
    name: "export create",
    args: ["datasetId"],
    summary: "Export a dataset as a signed package (Art. 7.2d), follow the job, download and verify it",
    options: {
      format: { type: "string", hint: "ndjson (default) or csv" },
      fields: { type: "string", hint: "comma-separated (default: every field your permission covers)" },
      where: { type: "string", multiple: true, hint: "field=value (a string) or field:=JSON; repeatable" },
      consumer: { type: "string", hint: "the consumer it is for (operator only)" },
      purpose: { type: "string", hint: "why (the operator exporting under its own mandate)" },
      out: { type: "string", hint: "where to save the package (default <exportId>.tar.gz)" },
      "no-wait": { type: "boolean", hint: "return once the job is started" },
    },
    async run(context, [datasetId], values) {
      const client = context.client();
      let job = await client.call<ExportStatus>("POST", "/v1/exports", {
        body: {
          datasetId: String(datasetId),
          ...optional({ format: values.format, consumerSystem: values.consumer, purpose: values.purpose }),
          ...(values.fields ? { fields: list(values.fields) } : {}),
          filter: Object.fromEntries(((values.where as string[] | undefined) ?? []).map(filterOf1)),
        },
      });
      while (!values["no-wait"] && job.state === "running") {
        context.io.stderr(`\r${job.exportId}: ${job.progress} records written`);
        await new Promise((resolve) => setTimeout(resolve, 1000));
        job = await client.call<ExportStatus>("GET", `/v1/exports/${encodeURIComponent(job.exportId)}`);
      }
      context.io.stderr("\n");
      if (job.state === "failed") {
        context.print(job);
        return 1;
      }
      if (!job.download) {
        context.print(job);
        return 0;
      }
      const path = context.resolve(String(values.out ?? `${job.exportId}.tar.gz`));
      const response = await fetch(job.download.url);
      if (!response.ok || !response.body) throw new Error(`the download failed: ${response.status}`);
      await pipeline(Readable.fromWeb(response.body as never), createWriteStream(path));
      const verdict = await verifyPackage(createReadStream(path), (await client.platformKeys()).keys);
      if (context.json) context.print({ ...job, savedTo: path, verdict });
      else {
        context.io.stdout(
          `${job.exportId}: ${job.archive?.records} records (${job.archive?.withheld} withheld) in ${job.archive?.files} files, saved to ${path}; ${verdict.valid ? "verified" : `NOT valid: ${verdict.problems.map((problem) => `${problem.file}: ${problem.problem}`).join("; ")}`}\n`,
        );
      }
      return verdict.valid ? 0 : 1;
    },
  },
  {
    name: "export status",
    args: ["exportId"],
    summary: "An export's state and progress, and its download link once written",
    async run(context, [exportId]) {
      context.print(await context.client().call("GET", `/v1/exports/${encodeURIComponent(String(exportId))}`));
      return 0;
    },
  },
  {
    name: "export verify",
    args: ["file"],
    summary: "Verify an export package offline: every checksum, and the platform's signature on its manifest",
    options: {
      keys: {
        type: "string",
        hint: "the platform's key set as dscp platform-keys printed it (default: fetched from the platform)",
      },
    },
    async run(context, [file], values) {
      const path = context.resolve(String(file));
      if (!existsSync(path)) throw new UsageError(`no file ${path}`);
      const keys = values.keys
        ? (context.readJson(String(values.keys)) as { keys?: JsonWebKey[] } & JsonWebKey)
        : await context.client(false).platformKeys();
      const verdict = await verifyPackage(createReadStream(path), keys.keys ?? [keys]);
      if (context.json) context.print(verdict);
      else if (verdict.valid) {
        const { manifest } = verdict;
        context.io.stdout(
          `valid: ${verdict.bag}, ${verdict.files} files; ${manifest?.records.exported} records of ${manifest?.dataset.id} (${manifest?.schema.id} ${manifest?.schema.version}) for ${manifest?.consumer.system}, signed by key ${manifest?.signature.kid}\n`,
        );
      } else {
        context.io.stdout(`NOT valid: ${verdict.problems.length} problem(s)\n`);
        for (const problem of verdict.problems) context.io.stdout(`${problem.file}: ${problem.problem}\n`);
      }
      return verdict.valid ? 0 : 1;
    },
  },
];

/** What a command runs with: where the platform is, who signs, how to print. */
class Context {
  constructor(
    readonly io: CliIo,
    private readonly values: Values,
  ) {}

  get json(): boolean {
    return this.values.json === true;
  }

  private path(value: string): string {
    return isAbsolute(value) ? value : join(this.io.cwd, value);
  }

  keysDir(): string {
    return this.path(String(this.values["keys-dir"] ?? this.io.env.DSCP_KEYS_DIR ?? ".dscp/keys"));
  }

  resolve(file: string): string {
    return this.path(file);
  }

  readJson(file: string): unknown {
    try {
      return JSON.parse(readFileSync(this.path(file), "utf8"));
    } catch (error) {
      throw new UsageError(`cannot read ${file} as JSON: ${(error as Error).message}`);
    }
  }

  client(signed = true): DscpClient {
    const apiUrl = (this.values["api-url"] as string | undefined) ?? this.io.env.DSCP_API_URL;
    let connection: { baseUrl: string; audience: string };
    if (apiUrl) {
      const audience = (this.values.audience as string | undefined) ?? this.io.env.DSCP_AUDIENCE;
      if (!audience) throw new UsageError("--api-url needs --audience (the stack output PlatformAudience)");
      connection = { baseUrl: apiUrl, audience };
    } else {
      const file = this.path(String(this.values.outputs ?? this.io.env.DSCP_OUTPUTS ?? ".dscp/outputs.json"));
      if (!existsSync(file)) throw new UsageError(`no outputs file ${file}: run npm start, or give --outputs`);
      const outputs = readPlatformOutputs(file);
      if (!outputs.ApiUrl || !outputs.PlatformAudience)
        throw new UsageError(`${file} names no stack with ApiUrl and PlatformAudience`);
      connection = { baseUrl: String(outputs.ApiUrl), audience: String(outputs.PlatformAudience) };
    }
    if (!signed) return new DscpClient(connection);
    const keyFile =
      (this.values.key as string | undefined) ??
      this.io.env.DSCP_KEY ??
      (() => {
        const as = (this.values.as as string | undefined) ?? this.io.env.DSCP_AS;
        if (!as) throw new UsageError("say who signs: --as <systemId> (or --key <file>, or DSCP_AS)");
        return identityPath(this.keysDir(), as);
      })();
    const path = this.path(keyFile);
    if (!existsSync(path)) throw new UsageError(`no key file ${path}`);
    return new DscpClient({ ...connection, identity: loadIdentity(path) });
  }

  /** Sends and prints the transaction id, or throws the problem. */
  async send(client: DscpClient, method: string, path: string, request: Parameters<DscpClient["send"]>[2]) {
    const response = await client.send(method, path, request);
    // A problem names its transaction itself.
    if (response.status >= 400) throw new DscpProblemError(response.status, response.body as ProblemDetails);
    if (response.transactionId) this.io.stderr(`transaction ${response.transactionId}\n`);
    return response;
  }

  print(value: unknown, view: (value: unknown) => unknown = (same) => same): void {
    if (this.values.quiet) {
      const id = idOf(value);
      if (id !== undefined) {
        this.io.stdout(`${id}\n`);
        return;
      }
    }
    this.io.stdout(`${JSON.stringify(this.json ? value : view(value), null, 2)}\n`);
  }

  /**
   * Prints a table and, as the options ask, writes it as CSV (`--csv FILE`) and draws it as an
   * SVG chart (`--chart FILE`).
   */
  report(
    rows: readonly object[],
    columns: readonly string[],
    values: Values,
    chart: { title: string; bars: readonly Bar[]; max?: number },
    page: { nextCursor?: string } = {},
  ): void {
    this.table({ ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}), items: rows }, columns);
    if (typeof values.csv === "string") {
      writeFileSync(this.resolve(values.csv), toCsv(rows, columns));
      this.io.stderr(`table written to ${values.csv}\n`);
    }
    if (typeof values.chart === "string") {
      if (!values.chart.toLowerCase().endsWith(".svg"))
        throw new UsageError("charts are drawn as SVG: name the file *.svg");
      writeFileSync(this.resolve(values.chart), barChartSvg(chart.title, chart.bars, chart.max));
      this.io.stderr(`chart written to ${values.chart}\n`);
    }
  }

  table(page: { items: readonly object[]; nextCursor?: string }, columns: readonly string[]): void {
    if (this.json) {
      this.print(page);
      return;
    }
    const rows = page.items.map((item) => columns.map((column) => cell((item as Record<string, unknown>)[column])));
    const widths = columns.map((column, index) =>
      Math.max(column.length, ...rows.map((row) => row[index]?.length ?? 0)),
    );
    const line = (cells: readonly string[]) =>
      `${cells
        .map((text, index) => text.padEnd(widths[index] ?? 0))
        .join("  ")
        .trimEnd()}\n`;
    this.io.stdout(line(columns));
    for (const row of rows) this.io.stdout(line(row));
    this.io.stderr(`${rows.length} shown${page.nextCursor ? `; more with --cursor ${page.nextCursor}` : ""}\n`);
  }
}

/** An audit's report: the scores, then every finding with its sample keys. */
function printAudit(context: Context, audit: Audit): number {
  if (context.json || !audit.report) {
    context.print(audit);
    return audit.state === "failed" ? 1 : 0;
  }
  const { report } = audit;
  context.io.stdout(
    `${audit.auditId} of ${audit.datasetId} (${audit.completedAt}): ${report.records} records${report.held ? "" : " (not held by the platform: access checks only)"}; overall ${report.scores.overall}\n\n`,
  );
  context.table({ items: [{ ...report.scores }] }, SCORE_COLUMNS);
  context.io.stdout("\n");
  // Findings in full, one a line: a table would cut their summaries.
  for (const finding of report.findings) {
    context.io.stdout(
      `${finding.severity.padEnd(6)} ${finding.check.padEnd(12)} ${finding.summary}${finding.keys?.length ? `; keys: ${finding.keys.join(", ")}` : ""}\n`,
    );
  }
  if (report.findings.length === 0) context.io.stdout("no findings\n");
  return 0;
}

function auditChart(audits: readonly Audit[]): { title: string; bars: Bar[] } {
  return {
    title: "Audit scores per dataset (overall, 0-100)",
    bars: audits
      .filter((audit) => audit.report)
      .map((audit) => {
        const high = audit.report?.findings.filter((finding) => finding.severity === "high").length ?? 0;
        return {
          label: audit.datasetId,
          value: audit.report?.scores.overall ?? 0,
          tone: high > 0 ? "high" : "ok",
          note: high > 0 ? `(${high} high findings)` : "",
        };
      }),
  };
}

/** A ranking as a table of databases (class, score, each criterion), then why each is not higher. */
function printRanking(context: Context, ranking: Ranking, values: Values): void {
  if (context.json) {
    context.print(ranking);
    return;
  }
  context.io.stdout(
    `Ranking ${ranking.year} (indices ${ranking.indices}): ${ranking.state}${ranking.publishedAt ? ` ${ranking.publishedAt}` : ""}; A ${ranking.summary.A}, B ${ranking.summary.B}, C ${ranking.summary.C} of ${ranking.summary.databases}${ranking.error ? `; error: ${ranking.error}` : ""}\n\n`,
  );
  const criteria = ranking.databases[0]?.criteria.map((entry) => entry.criterion) ?? [];
  const rows = ranking.databases.map((database) => ({
    datasetId: database.datasetId,
    managingAgency: database.managingAgency,
    class: database.class,
    score: database.score,
    ...Object.fromEntries(database.criteria.map((entry) => [entry.criterion, entry.score])),
    reasons: database.reasons,
  }));
  context.report(rows, ["datasetId", "managingAgency", "class", "score", ...criteria], values, {
    title: `Database ranking ${ranking.year} (Art. 15), indices ${ranking.indices}`,
    bars: ranking.databases.map((database) => ({
      label: database.datasetId,
      value: database.score,
      tone: database.class,
      note: database.class,
    })),
  });
  for (const database of ranking.databases) {
    if (database.reasons.length > 0)
      context.io.stdout(`${database.datasetId} is ${database.class}: ${database.reasons.join("; ")}\n`);
  }
}

/** The id a script wants from what a command printed: a decision's permission, else the thing's own id. */
function idOf(value: unknown): string | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  const record = value as Record<string, unknown> & { permission?: { id?: unknown }; request?: { id?: unknown } };
  const id = record.permission?.id ?? record.request?.id ?? record.id ?? record.code ?? record.kid;
  return typeof id === "string" ? id : undefined;
}

function cell(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (Array.isArray(value)) return value.join(",");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value).replace(/\s+/g, " ").slice(0, 60);
}

function list(value: Values[string]): string[] {
  return String(value ?? "")
    .split(",")
    .map((item) => item.trim())
    .filter(Boolean);
}

/** Only the members that were given. */
function optional(members: Record<string, Values[string]>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(members).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
}

function pageOf(values: Values): { limit?: number; cursor?: string } {
  return { ...(values.limit ? { limit: Number(values.limit) } : {}), ...optional({ cursor: values.cursor }) };
}

function filterOf(values: Values) {
  return optional({
    view: values.view,
    status: values.status,
    datasetId: values.dataset,
    consumerSystem: values.consumer,
  });
}

/**
 * Validates an NDJSON file against a JSON Schema one line at a time (memory stays flat
 * whatever the file's size), printing each failing record's line, path and rule.
 */
async function validateNdjson(
  path: string,
  schema: Record<string, unknown>,
  maxReported: number,
  print: (line: string) => void,
): Promise<{ records: number; valid: number; invalid: number }> {
  if (!existsSync(path)) throw new UsageError(`no file ${path}`);
  const check = new RecordValidator().check(schema);
  const lines = createInterface({ input: createReadStream(path, "utf8"), crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  let records = 0;
  let invalid = 0;
  for await (const line of lines) {
    number++;
    if (line.trim() === "") continue;
    records++;
    let errors: { path: string; rule: string; message: string }[];
    try {
      errors = check(JSON.parse(line));
    } catch {
      errors = [{ path: "(line)", rule: "json", message: "is not valid JSON" }];
    }
    if (errors.length === 0) continue;
    invalid++;
    if (invalid <= maxReported) {
      for (const error of errors) print(`line ${number}: ${error.path}: ${error.rule}: ${error.message}\n`);
    } else if (invalid === maxReported + 1) print(`(more failing records not shown; --max raises the limit)\n`);
  }
  return { records, valid: records - invalid, invalid };
}

interface ExportStatus {
  exportId: string;
  state: "running" | "completed" | "failed";
  progress: number;
  archive?: { records: number; withheld: number; files: number };
  download?: { url: string };
}

interface SyncBatch {
  batchId: string;
  state: string;
  received: number;
  applied: number;
  unchanged: number;
  rejected: number;
  tombstoned: number;
  chunks: number;
  chunksDone: number;
  rejections: Array<{ index: number; errors: Array<{ path: string; rule: string; message: string }> }>;
  deliveries?: { expected: number; delivered: number; failed: number; refused: number };
  rejectionReportUrl?: string;
}

/** `[#######.....] 7/10 parts, 7,000 applied` */
function progressBar(batch: SyncBatch): string {
  const width = 30;
  const done =
    batch.chunks > 0 ? Math.round((batch.chunksDone / batch.chunks) * width) : batch.state === "completed" ? width : 0;
  return `[${"#".repeat(done)}${".".repeat(width - done)}] ${batch.chunksDone}/${batch.chunks || "?"} parts, ${batch.applied.toLocaleString("en")} applied, ${batch.rejected} rejected`;
}

/** The size of each part of a multipart upload (S3 wants at least 5 MiB but the last). */
const PART_BYTES = 8 * 1_048_576;

/** PUTs bytes to a presigned URL; returns the ETag S3 gave them. */
async function putBytes(url: string, bytes: Buffer): Promise<string> {
  const response = await fetch(url, {
    method: "PUT",
    headers: { "Content-Type": "application/x-ndjson" },
    body: bytes,
  });
  if (!response.ok) throw new Error(`the upload failed: ${response.status} ${(await response.text()).slice(0, 300)}`);
  return response.headers.get("etag") ?? "";
}

/** `length` bytes of a file from `start` (fewer at its end). */
async function readRange(path: string, start: number, length: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of createReadStream(path, { start, end: start + length - 1 })) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** SHA-256 of a file, streamed. */
async function fileDigest(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex").slice(0, 32);
}

/** `field=value` is a string; `field:=value` is JSON (a number, true, false). */
function filterOf1(clause: string): [string, unknown] {
  const typed = /^([^:=]+):=(.*)$/.exec(clause);
  if (typed) {
    try {
      return [typed[1] as string, JSON.parse(typed[2] as string)];
    } catch {
      throw new UsageError(`--where ${clause}: the value after := must be JSON`);
    }
  }
  const plain = /^([^=]+)=(.*)$/.exec(clause);
  if (!plain) throw new UsageError(`--where ${clause}: expected field=value`);
  return [plain[1] as string, plain[2]];
}

/** A date alone means the start (from) or end (until) of that day, UTC. */
function instant(value: Values[string], end: boolean): string | undefined {
  if (typeof value !== "string") return undefined;
  return /^\d{4}-\d{2}-\d{2}$/.test(value) ? `${value}T${end ? "23:59:59" : "00:00:00"}Z` : value;
}

function termsOf(datasetId: string, values: Values) {
  const validFrom = instant(values.from, false);
  return {
    datasetId,
    fields: list(values.fields),
    purpose: String(values.purpose),
    purposeClass: values["purpose-class"] as PurposeClass,
    methods: (values.methods ? list(values.methods) : ["request"]) as never,
    validUntil: String(instant(values.until, true)),
    legalBasis: String(values["legal-basis"]),
    ...(validFrom ? { validFrom } : {}),
  };
}

/** A command line resolved to its command, arguments and options; throws UsageError. */
export interface ParsedCommand {
  readonly command: Command;
  readonly args: readonly string[];
  readonly values: Values;
}

export function parseCommand(argv: readonly string[]): ParsedCommand | undefined {
  // First pass, knowing every option of every command: which words are the command's.
  const everyOption = Object.assign({}, GLOBAL_OPTIONS, ...COMMANDS.map((candidate) => candidate.options ?? {}));
  const { positionals: words } = parseArgs({
    args: [...argv],
    options: parseOptions(everyOption),
    allowPositionals: true,
    strict: false,
  });
  const command = [...COMMANDS]
    .sort((a, b) => b.name.split(" ").length - a.name.split(" ").length)
    .find((candidate) => candidate.name.split(" ").every((word, index) => words[index] === word));
  if (!command) return undefined;
  const options = { ...GLOBAL_OPTIONS, ...command.options };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      options: parseOptions(options),
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const values = parsed.values as Values;
  const args = parsed.positionals.slice(command.name.split(" ").length);
  if (values.help) return { command, args, values };
  const needed = command.args.filter((arg) => !arg.endsWith("?")).length;
  if (args.length < needed || args.length > command.args.length) {
    throw new UsageError(`${command.name} takes ${command.args.map((arg) => `<${arg}>`).join(" ") || "no arguments"}`);
  }
  for (const name of command.required ?? []) {
    if (values[name] === undefined) throw new UsageError(`${command.name} needs --${name}`);
  }
  return { command, args, values };
}

function parseOptions(options: Readonly<Record<string, OptionSpec>>) {
  return Object.fromEntries(
    Object.entries(options).map(([name, spec]) => [
      name,
      { type: spec.type, ...(spec.multiple ? { multiple: true } : {}), ...(spec.short ? { short: spec.short } : {}) },
    ]),
  );
}

function usage(command: Command): string {
  const args = command.args.map((arg) => (arg.endsWith("?") ? `[${arg.slice(0, -1)}]` : `<${arg}>`)).join(" ");
  const options = Object.entries(command.options ?? {}).map(
    ([name, spec]) =>
      `  --${name}${spec.type === "string" ? " <value>" : ""}${command.required?.includes(name) ? " (required)" : ""}${spec.hint ? `  ${spec.hint}` : ""}\n`,
  );
  return `dscp ${command.name}${args ? ` ${args}` : ""}\n  ${command.summary}\n${options.join("")}`;
}

function help(): string {
  const width = Math.max(...COMMANDS.map((command) => command.name.length));
  return [
    "dscp: the DSCP platform from the command line. Every signed command needs --as <systemId> (or --key).\n\n",
    ...COMMANDS.map((command) => `  ${command.name.padEnd(width)}  ${command.summary}\n`),
    "\nGlobal options:\n",
    ...Object.entries(GLOBAL_OPTIONS).map(([name, spec]) => `  --${name}  ${spec.hint ?? ""}\n`),
    "\ndscp <command> --help shows a command's options.\n",
  ].join("");
}

/** Runs one command line; resolves to the exit code (0 done, 1 refused or broken, 2 usage). */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    if (argv.length === 0 || argv[0] === "help" || (argv.length === 1 && argv[0] === "--help")) {
      io.stdout(help());
      return 0;
    }
    const parsed = parseCommand(argv);
    if (!parsed) throw new UsageError(`unknown command: ${argv.filter((token) => !token.startsWith("-")).join(" ")}`);
    if (parsed.values.help) {
      io.stdout(usage(parsed.command));
      return 0;
    }
    return (await parsed.command.run(new Context(io, parsed.values), parsed.args, parsed.values)) ?? 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`dscp: ${error.message}\n(dscp help lists the commands)\n`);
      return 2;
    }
    if (error instanceof DscpProblemError) {
      const problem = error.problem;
      io.stderr(`${error.status} ${problem.type}\n${problem.title}${problem.detail ? `: ${problem.detail}` : ""}\n`);
      for (const param of problem.invalidParams ?? []) io.stderr(`  ${param.name}: ${param.reason}\n`);
      if (problem.transactionId) io.stderr(`transaction ${problem.transactionId}\n`);
      return 1;
    }
    io.stderr(`dscp: ${(error as Error).message}\n`);
    return 1;
  }
}

/** `dscp …` (npx dscp, or npm run dscp --): the process's own streams, environment and folder. */
export async function main(): Promise<void> {
  process.exitCode = await runCli(process.argv.slice(2), {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
