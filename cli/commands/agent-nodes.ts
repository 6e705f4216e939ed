import type { Command } from "../command.ts";
import { optional, pageOf, paging } from "../options.ts";

/** Agent Nodes (Art. 7.3d, 22.4): their central configurations, and every node's version and last heartbeat. */
export const agentNodeCommands: readonly Command[] = [
  {
    name: "agent-nodes list",
    args: [],
    summary:
      "List Agent Nodes: version, last seen, configuration revision, out of date (operator all, agencies their own)",
    options: { agency: { type: "string", hint: "only this agency's nodes" }, ...paging },
    async run(context, _args, values) {
      const page = await context.client().listAgentNodes({ ...optional({ agency: values.agency }), ...pageOf(values) });
      context.table(page, [
        "systemId",
        "version",
        "outOfDate",
        "lastSeenAt",
        "health",
        "configRevision",
        "currentConfigRevision",
        "configOutOfDate",
      ]);
      return 0;
    },
  },
  {
    name: "agent-nodes config set",
    args: ["systemId"],
    summary: "Set a system's Agent Node configuration from a JSON file: its next revision (operator, or its agency)",
    options: { file: { type: "string", hint: "the configuration (serves, calls, subscriptions, publishes) as JSON" } },
    required: ["file"],
    async run(context, [systemId], values) {
      const config = context.readJson(context.existing(String(values.file)));
      const record = await context.client().setAgentConfig(String(systemId), config as never);
      context.print(record);
      return 0;
    },
  },
  {
    name: "agent-nodes config show",
    args: ["systemId"],
    summary: "Show a system's Agent Node configuration and its revision (--json: with the platform's signed copy)",
    async run(context, [systemId]) {
      const found = await context.client().getAgentConfig(String(systemId));
      context.print(found, (value) => {
        const { signed: _signed, ...shown } = value as typeof found;
        return shown;
      });
      return 0;
    },
  },
];
