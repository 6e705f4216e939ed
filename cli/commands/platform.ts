import type { Command } from "../command.ts";

/** `dscp health`: is the platform up. */
export const health: Command = {
  name: "health",
  args: [],
  summary: "Is the platform up",
  async run(context) {
    context.print(await context.client(false).health());
    return 0;
  },
};

/** `dscp openapi`: the platform's API, described. */
export const openapi: Command = {
  name: "openapi",
  args: [],
  summary: "Print the platform's OpenAPI 3.1 document (no key needed)",
  async run(context) {
    context.printDocument(await context.client(false).openApi());
    return 0;
  },
};

/** `dscp platform-keys`: the keys the platform signs with. */
export const platformKeys: Command = {
  name: "platform-keys",
  args: [],
  summary: "Print the platform's public key set (keep it to verify packages offline; no key needed)",
  async run(context) {
    context.printDocument(await context.client(false).platformKeys());
    return 0;
  },
};
