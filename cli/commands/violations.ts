import { violationRoutes } from "../../api/violations.ts";
import type { ViolationCaseView } from "../../domain/oversight/violations.ts";
import { type Command, UsageError, type Values } from "../command.ts";
import type { Context } from "../context.ts";
import { optional, paging } from "../options.ts";

/* Violations and measures (Art. 20.3, 22.5): findings followed up as cases, to their resolution. */

const CASE_COLUMNS = ["caseId", "agency", "article", "status", "dueDate", "overdue", "source", "summary"] as const;

/** `kind:ref`, e.g. `transaction:6f1c…` or `url:https://…`, as an evidence link. */
function evidenceOf(value: string): { kind: string; ref: string } {
  const at = value.indexOf(":");
  if (at <= 0) throw new UsageError(`--evidence takes kind:ref (audit, transaction, checkpoint or url), not ${value}`);
  return { kind: value.slice(0, at), ref: value.slice(at + 1) };
}

/** A whole number option, or a usage error naming it. */
function wholeNumber(values: Values, name: string): number | undefined {
  const value = values[name];
  if (typeof value !== "string") return undefined;
  if (!/^\d+$/.test(value)) throw new UsageError(`--${name} takes a whole number, not ${value}`);
  return Number(value);
}

/** A case, then its trail, one step a line. */
function printCase(context: Context, violation: ViolationCaseView): void {
  if (context.json) {
    context.print(violation);
    return;
  }
  context.print(violation, () => ({ ...violation, trail: undefined }));
  for (const entry of violation.trail) {
    context.io.stdout(
      `${entry.at}  ${entry.action.padEnd(16)} ${entry.by}${entry.dueDate ? ` (due ${entry.dueDate})` : ""}${entry.text ? `: ${entry.text}` : ""}\n`,
    );
  }
}

export const violationCommands: readonly Command[] = [
  {
    name: "violations list",
    args: [],
    summary: "Violation cases: your agency's; any agency's or all for the supervisor and the operator",
    options: {
      agency: { type: "string" },
      status: { type: "string", hint: "open, answered, resolved or escalated" },
      overdue: { type: "boolean", hint: "only cases past their due date and not resolved" },
      ...paging,
    },
    async run(context, _args, values) {
      const page: { items: ViolationCaseView[]; nextCursor?: string } = await context
        .client()
        .invoke(violationRoutes.listViolations, {
          query: {
            ...optional({ agency: values.agency, status: values.status, limit: values.limit, cursor: values.cursor }),
            ...(values.overdue ? { overdue: "true" } : {}),
          },
        });
      context.table(
        { ...page, items: page.items.map((item) => ({ ...item, source: item.source.kind })) },
        CASE_COLUMNS,
      );
      return 0;
    },
  },
  {
    name: "violations show",
    args: ["caseId"],
    summary: "One case, with its trail",
    async run(context, [caseId]) {
      printCase(
        context,
        await context.client().invoke(violationRoutes.getViolation, { path: { caseId: String(caseId) } }),
      );
      return 0;
    },
  },
  {
    name: "violations open",
    args: [],
    summary:
      "Open a case (supervisor, operator): from an audit finding (--audit, --finding), a late database (--source compliance --dataset), a log finding (--source log-chain --shard), refused exchanges (--source refused-access --system), or by hand",
    options: {
      source: {
        type: "string",
        hint: "audit, compliance, log-chain, refused-access or manual (default: audit with --audit, else manual)",
      },
      audit: { type: "string", hint: "the audit whose finding this is" },
      finding: { type: "string", hint: "the finding's index in the audit's report, from 0" },
      agency: { type: "string", hint: "the agency concerned (taken from an audit or dataset)" },
      dataset: { type: "string" },
      system: { type: "string" },
      article: { type: "string", hint: "the decree article concerned, e.g. 13.1" },
      summary: { type: "string", hint: "what was found (taken from an audit finding or a late database)" },
      shard: { type: "string", hint: "log-chain: the chain" },
      sequence: { type: "string", hint: "log-chain: the entry" },
      evidence: { type: "string", multiple: true, hint: "kind:ref (audit, transaction, checkpoint, url); repeatable" },
      measure: { type: "string", hint: "the measure proposed" },
      due: { type: "string", hint: "the due date, YYYY-MM-DD" },
    },
    required: ["measure", "due"],
    async run(context, _args, values) {
      const shard = wholeNumber(values, "shard");
      const sequence = wholeNumber(values, "sequence");
      const finding = wholeNumber(values, "finding");
      const violation: ViolationCaseView = await context.client().invoke(violationRoutes.openViolation, {
        body: {
          source: values.source ?? (values.audit ? "audit" : "manual"),
          ...optional({
            auditId: values.audit,
            agency: values.agency,
            datasetId: values.dataset,
            systemId: values.system,
            article: values.article,
            summary: values.summary,
            measure: values.measure,
            dueDate: values.due,
          }),
          ...(finding !== undefined ? { finding } : {}),
          ...(shard !== undefined ? { shard } : {}),
          ...(sequence !== undefined ? { sequence } : {}),
          evidence: ((values.evidence as string[] | undefined) ?? []).map(evidenceOf),
        },
      });
      printCase(context, violation);
      return 0;
    },
  },
  {
    name: "violations answer",
    args: ["caseId"],
    summary: "Answer a case concerning your agency: what it did or will do",
    options: { text: { type: "string", hint: "the answer" } },
    required: ["text"],
    async run(context, [caseId], values) {
      printCase(
        context,
        await context.client().invoke(violationRoutes.answerViolation, {
          path: { caseId: String(caseId) },
          body: { answer: values.text },
        }),
      );
      return 0;
    },
  },
  {
    name: "violations resolve",
    args: ["caseId"],
    summary: "Resolve a case, with the reason (supervisor, operator)",
    options: { reason: { type: "string" } },
    required: ["reason"],
    async run(context, [caseId], values) {
      printCase(
        context,
        await context.client().invoke(violationRoutes.resolveViolation, {
          path: { caseId: String(caseId) },
          body: { reason: values.reason },
        }),
      );
      return 0;
    },
  },
  {
    name: "violations escalate",
    args: ["caseId"],
    summary: "Escalate a case, with the reason and optionally a new due date (supervisor, operator)",
    options: { reason: { type: "string" }, due: { type: "string", hint: "a new due date, YYYY-MM-DD" } },
    required: ["reason"],
    async run(context, [caseId], values) {
      printCase(
        context,
        await context.client().invoke(violationRoutes.escalateViolation, {
          path: { caseId: String(caseId) },
          body: { reason: values.reason, ...optional({ dueDate: values.due }) },
        }),
      );
      return 0;
    },
  },
];
