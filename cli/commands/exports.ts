import { createReadStream, createWriteStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { exportRoutes } from "../../api/exports.ts";
import { verifyPackage } from "../../domain/export/verify.ts";
import type { Command } from "../command.ts";
import { filtersOf, keySetOption, optional, optionalLists, whereOption } from "../options.ts";
import { follow } from "../wait.ts";

interface ExportStatus {
  exportId: string;
  state: "running" | "completed" | "failed";
  progress: number;
  archive?: { records: number; withheld: number; files: number };
  download?: { url: string };
}

/** Exports (Art. 7.2d): signed packages made by the platform, downloaded and verified here. */
export const exportCommands: readonly Command[] = [
  {
    name: "export create",
    args: ["datasetId"],
    summary: "Export a dataset as a signed package (Art. 7.2d), follow the job, download and verify it",
    options: {
      format: { type: "string", hint: "ndjson (default) or csv" },
      fields: { type: "string", hint: "comma-separated (default: every field your permission covers)" },
      ...whereOption,
      consumer: { type: "string", hint: "the consumer it is for (operator only)" },
      purpose: { type: "string", hint: "why (the operator exporting under its own mandate)" },
      out: { type: "string", hint: "where to save the package (default <exportId>.tar.gz)" },
      "no-wait": { type: "boolean", hint: "return once the job is started" },
    },
    async run(context, [datasetId], values) {
      const client = context.client();
      const job = await follow(
        await client.invoke<ExportStatus, typeof exportRoutes.startExport.path>(exportRoutes.startExport, {
          body: {
            datasetId: String(datasetId),
            ...optional({ format: values.format, consumerSystem: values.consumer, purpose: values.purpose }),
            ...optionalLists({ fields: values.fields }),
            filter: filtersOf(values),
          },
        }),
        (job) => !values["no-wait"] && job.state === "running",
        (job) => context.io.stderr(`\r${job.exportId}: ${job.progress} records written`),
        (job) => client.invoke(exportRoutes.getExport, { path: { exportId: job.exportId } }),
      );
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
      context.print(await context.client().invoke(exportRoutes.getExport, { path: { exportId: String(exportId) } }));
      return 0;
    },
  },
  {
    name: "export verify",
    args: ["file"],
    summary: "Verify an export package offline: every checksum, and the platform's signature on its manifest",
    options: keySetOption,
    async run(context, [file], values) {
      const path = context.existing(String(file));
      const keys = await context.verificationKeys(values.keys);
      const verdict = await verifyPackage(createReadStream(path), keys);
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
