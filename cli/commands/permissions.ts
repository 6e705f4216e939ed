import type { PurposeClass } from "../../domain/permissions/model.ts";
import { type Command, UsageError, type Values } from "../command.ts";
import { list, optional, optionalLists, pageOf, paging } from "../options.ts";

/** The terms of access a request asks for and a grant gives. */
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

/** The filters of the request and permission listings. */
const listFilter = {
  view: { type: "string", hint: "consumer (default), provider or all (operator, supervisor)" },
  status: { type: "string" },
  dataset: { type: "string" },
  consumer: { type: "string" },
  ...paging,
} as const;

/** Access requests, the provider's decisions, the operator's grants, and the permissions they make. */
export const permissionCommands: readonly Command[] = [
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
        ...optionalLists({ fields: values.fields }),
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
];

function filterOf(values: Values) {
  return optional({
    view: values.view,
    status: values.status,
    datasetId: values.dataset,
    consumerSystem: values.consumer,
  });
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
