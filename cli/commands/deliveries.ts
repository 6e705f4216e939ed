import { type Command, UsageError } from "../command.ts";
import { mapPage, optional, optionalLists, pageOf, paging } from "../options.ts";

/** Sync to consumers (Art. 7.2b): subscriptions, the inbox, and the operator's redrive. */
export const deliveryCommands: readonly Command[] = [
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
          ...optionalLists({ fields: values.fields }),
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
          mapPage(page, (message) => message.records.map((record) => ({ messageId: message.messageId, ...record }))),
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
];
