import { exchangeRoutes } from "../../api/exchange.ts";
import { type Command, UsageError } from "../command.ts";
import { filtersOf, list, pageOf, paging, whereOption } from "../options.ts";

/** `dscp query`: a consumer reads a dataset's records (Art. 7.2a). */
export const query: Command = {
  name: "query",
  args: ["datasetId", "key?"],
  summary: "Ask for a record by key, or for records --where field=value (consumer, Art. 7.2a)",
  options: {
    fields: { type: "string", hint: "comma-separated; default every permitted field" },
    user: { type: "string", hint: "the end user you ask for (signed as usr, recorded in the log)" },
    case: { type: "string", hint: "the case you ask for (signed as case, recorded in the log)" },
    ...whereOption,
    ...paging,
  },
  async run(context, [datasetId, key], values) {
    const client = context.client();
    const fields = values.fields ? list(values.fields) : undefined;
    const onBehalfOf = {
      ...(typeof values.user === "string" ? { endUser: values.user } : {}),
      ...(typeof values.case === "string" ? { caseRef: values.case } : {}),
    };
    if (key !== undefined) {
      if (values.where) throw new UsageError("give a key or --where filters, not both");
      const response = await context.send(client, exchangeRoutes.getRecord, {
        path: { datasetId: String(datasetId), key },
        ...(fields ? { query: { fields: fields.join(",") } } : {}),
        onBehalfOf,
      });
      context.print(response.body, (body) => (body as { record: Record<string, unknown> }).record);
      return 0;
    }
    const response = await context.send(client, exchangeRoutes.queryRecords, {
      path: { datasetId: String(datasetId) },
      body: {
        filters: filtersOf(values),
        ...(fields ? { fields } : {}),
        ...pageOf(values),
      },
      onBehalfOf,
    });
    const page = response.body as { items: Record<string, unknown>[]; nextCursor?: string };
    context.table(page, fields ?? [...new Set(page.items.flatMap((item) => Object.keys(item)))]);
    return 0;
  },
};
