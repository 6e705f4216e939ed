import type { Command } from "../command.ts";
import { optional, pageOf, paging } from "../options.ts";

/** The catalog of datasets: read by anyone, published and amended by providers. */
export const catalogCommands: readonly Command[] = [
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
];
