import { existsSync } from "node:fs";
import { identityPath, loadIdentity } from "../../client/identity-files.ts";
import { type Command, UsageError } from "../command.ts";
import { list, optional, pageOf, paging } from "../options.ts";

/** Agencies and their systems (Agent Nodes), as the operator registers them. */
export const registryCommands: readonly Command[] = [
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
      "public-key": {
        type: "string",
        hint: "public key file made elsewhere (dscp-agent keygen), instead of the keys folder's",
      },
    },
    required: ["name", "capabilities"],
    async run(context, [systemId], values) {
      const path = values["public-key"]
        ? context.existing(String(values["public-key"]))
        : identityPath(context.keysDir(), String(systemId));
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
];
