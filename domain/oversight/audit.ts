import type { Dataset } from "../catalog/model.ts";
import type { JsonSchema } from "../dictionary/model.ts";
import type { RecordCheck } from "../dictionary/validator.ts";
import type { ExchangeEntry } from "../exchange/model.ts";
import type { Permission } from "../permissions/model.ts";
import type { StoredRecord } from "../sync/model.ts";
import { FingerprintTable, KeyArena, normalised } from "./fingerprints.ts";
import { type AuditFinding, type AuditReport, durationMs, percentOf } from "./model.ts";

/** Offending keys named per finding, and duplicate groups shown. */
const SAMPLE = 10;
const DAY_MS = 86_400_000;

export interface AuditSubject {
  readonly dataset: Dataset;
  /** The dictionary schema the dataset names, and its compiled check. */
  readonly schema?: { readonly document: JsonSchema; readonly check: RecordCheck };
  /** The dataset's live records, a page at a time; undefined when the platform does not hold them. */
  readonly records?: AsyncIterable<StoredRecord>;
  /** Every permission on the dataset, revoked ones included. */
  readonly permissions: readonly Permission[];
  /** The dataset's exchange-log entries within the access window. */
  readonly entries: AsyncIterable<ExchangeEntry>;
  readonly staleAfter: string;
  readonly accessWindow: string;
  readonly now: Date;
}

/**
 * Audits one dataset (Art. 14): completeness of required fields, validity against the
 * dictionary, timeliness against the declared update frequency, duplicates by data key and by
 * near-identical content, and access control. One pass over the records; what it keeps per
 * record is a fingerprint and the key (see FingerprintTable), never the records.
 */
export async function auditDataset(subject: AuditSubject): Promise<AuditReport> {
  const { access, lastBatch } = await examineAccess(subject);
  const data = subject.records ? await examineRecords(subject, subject.records, lastBatch) : undefined;
  const report = {
    records: data?.records ?? 0,
    held: data !== undefined,
    completeness: data?.completeness ?? emptyCompleteness(subject),
    validity: data?.validity ?? { checked: 0, invalid: 0, rate: 100, byRule: [], sample: [] },
    timeliness: data?.timeliness ?? {
      ...(subject.dataset.updateFrequency ? { updateFrequency: subject.dataset.updateFrequency } : {}),
      overdue: false,
      staleAfter: subject.staleAfter,
      staleRecords: 0,
      rate: 100,
      sample: [],
    },
    duplicates: data?.duplicates ?? {
      keyGroups: 0,
      keyRecords: 0,
      nearIdenticalGroups: 0,
      nearIdenticalRecords: 0,
      rate: 100,
      sample: [],
    },
    access,
  };
  const findings = findingsOf(report, subject.dataset);
  const accessScore = accessScoreOf(access);
  const dataScores: Partial<Record<"completeness" | "validity" | "timeliness" | "uniqueness", number>> = data
    ? {
        completeness: report.completeness.rate,
        // Without a schema there is nothing to score validity against.
        ...(subject.schema ? { validity: report.validity.rate } : {}),
        timeliness: report.timeliness.overdue ? Math.min(50, report.timeliness.rate) : report.timeliness.rate,
        uniqueness: report.duplicates.rate,
      }
    : {};
  const all = [...Object.values(dataScores), accessScore].filter((score) => score !== undefined);
  return {
    ...report,
    findings,
    scores: {
      ...dataScores,
      access: accessScore,
      overall: Math.round((all.reduce((sum, score) => sum + score, 0) / all.length) * 10) / 10,
    },
  };
}

/** The fields the schema requires at the top level; without a schema, the data key's. */
function requiredFieldsOf(subject: AuditSubject): string[] {
  const required = subject.schema?.document.required;
  return Array.isArray(required) ? required.map(String) : [...subject.dataset.keyFields];
}

function emptyCompleteness(subject: AuditSubject): AuditReport["completeness"] {
  return { requiredFields: requiredFieldsOf(subject), recordsComplete: 0, rate: 100, fields: [], sample: [] };
}

function isPresent(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === "string") return value.trim() !== "";
  if (Array.isArray(value)) return value.length > 0;
  return true;
}

/** `lastBatch`: when the provider's latest accepted batch arrived, if within the access window. */
async function examineRecords(subject: AuditSubject, records: AsyncIterable<StoredRecord>, lastBatch?: string) {
  const { dataset, now } = subject;
  const required = requiredFieldsOf(subject);
  const fieldNames = [...new Set([...dataset.fields.map((field) => field.name), ...required])];
  const requiredSet = new Set(required);
  const nonKeyFields = fieldNames.filter((name) => !dataset.keyFields.includes(name));
  const present = new Map<string, number>(fieldNames.map((name) => [name, 0]));
  const staleMs = durationMs(subject.staleAfter);
  const keyTable = new FingerprintTable();
  const contentTable = new FingerprintTable();
  const arena = new KeyArena();
  const keyGroups = new Map<number, Group>();
  const contentGroups = new Map<number, Group>();
  const byRule = new Map<string, number>();
  const completenessSample: AuditReport["completeness"]["sample"] = [];
  const validitySample: AuditReport["validity"]["sample"] = [];
  const staleSample: string[] = [];
  let count = 0;
  let complete = 0;
  let invalid = 0;
  let stale = 0;
  let repeating = 0;
  let newest = "";
  let oldest = "";

  for await (const stored of records) {
    const { key } = stored;
    // Own fields only: a field named `constructor` or `valueOf` is data, never an inherited member.
    const record = ownFields(stored.record);
    const ordinal = arena.add(key);
    count++;
    const missing: string[] = [];
    for (const name of fieldNames) {
      if (isPresent(record[name])) present.set(name, (present.get(name) ?? 0) + 1);
      else if (requiredSet.has(name)) missing.push(name);
    }
    if (missing.length === 0) complete++;
    else if (completenessSample.length < SAMPLE) completenessSample.push({ key, missing });

    const errors = subject.schema?.check(record) ?? [];
    if (errors.length > 0) {
      invalid++;
      for (const error of errors)
        byRule.set(`${error.path}\u0000${error.rule}`, (byRule.get(`${error.path}\u0000${error.rule}`) ?? 0) + 1);
      const [error] = errors;
      if (error && validitySample.length < SAMPLE) validitySample.push({ key, ...error });
    }

    if (!newest || stored.updatedAt > newest) newest = stored.updatedAt;
    if (!oldest || stored.updatedAt < oldest) oldest = stored.updatedAt;
    if (now.getTime() - Date.parse(stored.updatedAt) > staleMs) {
      stale++;
      if (staleSample.length < SAMPLE) staleSample.push(key);
    }

    const sameKey = keyTable.firstWith(
      key
        .split("|")
        .map((part) => normalised(part))
        .join("|"),
      ordinal,
    );
    if (sameKey >= 0) group(keyGroups, sameKey, key);
    const content = nonKeyFields.filter((name) => isPresent(record[name]));
    const sameContent =
      content.length >= 2
        ? contentTable.firstWith(nonKeyFields.map((name) => normalised(record[name])).join("\u0000"), ordinal)
        : -1;
    if (sameContent >= 0) group(contentGroups, sameContent, key);
    // A record repeating an earlier one both ways is one duplicate, not two.
    if (sameKey >= 0 || sameContent >= 0) repeating++;
  }

  // Records that repeat an earlier one: the first of each group is not counted as a duplicate.
  const duplicateRecords = (groups: Map<number, Group>) =>
    [...groups.values()].reduce((sum, found) => sum + found.repeats, 0);
  const sampleOf = (kind: "data-key" | "near-identical", groups: Map<number, Group>) =>
    [...groups.entries()].slice(0, SAMPLE).map(([first, found]) => ({ kind, keys: [arena.get(first), ...found.keys] }));
  const keyDuplicates = duplicateRecords(keyGroups);
  const contentDuplicates = duplicateRecords(contentGroups);
  const ageDays = (at: string) => Math.floor((now.getTime() - Date.parse(at)) / DAY_MS);
  const frequency = dataset.updateFrequency;

  return {
    records: count,
    completeness: {
      requiredFields: required,
      recordsComplete: complete,
      rate: percentOf(complete, count),
      fields: fieldNames.map((field) => ({
        field,
        required: requiredSet.has(field),
        present: present.get(field) ?? 0,
        missing: count - (present.get(field) ?? 0),
        rate: percentOf(present.get(field) ?? 0, count),
      })),
      sample: completenessSample,
    },
    validity: {
      ...(dataset.schema ? { schema: dataset.schema } : {}),
      checked: subject.schema ? count : 0,
      invalid,
      rate: percentOf(count - invalid, count),
      byRule: [...byRule.entries()]
        .sort(([, a], [, b]) => b - a)
        .slice(0, 20)
        .map(([pathAndRule, ruleCount]) => {
          const [path = "", rule = ""] = pathAndRule.split("\u0000");
          return { path, rule, count: ruleCount };
        }),
      sample: validitySample,
    },
    timeliness: {
      ...(frequency ? { updateFrequency: frequency } : {}),
      ...(newest
        ? { newestUpdate: newest, oldestUpdate: oldest, newestAgeDays: ageDays(newest), oldestAgeDays: ageDays(oldest) }
        : {}),
      ...(lastBatch ? { lastBatch } : {}),
      // A provider that syncs on time but changes little is not late: its batches count too.
      overdue:
        frequency !== undefined &&
        now.getTime() - Math.max(newest ? Date.parse(newest) : 0, lastBatch ? Date.parse(lastBatch) : 0) >
          durationMs(frequency),
      staleAfter: subject.staleAfter,
      staleRecords: stale,
      rate: percentOf(count - stale, count),
      sample: staleSample,
    },
    duplicates: {
      keyGroups: keyGroups.size,
      keyRecords: keyDuplicates,
      nearIdenticalGroups: contentGroups.size,
      nearIdenticalRecords: contentDuplicates,
      rate: percentOf(count - repeating, count),
      sample: [...sampleOf("data-key", keyGroups), ...sampleOf("near-identical", contentGroups)],
    },
  };
}

/** A duplicate group: how many records repeat its first holder, and a sample of their keys. */
interface Group {
  repeats: number;
  readonly keys: string[];
}

/** Counts a later holder of a fingerprint under the ordinal of its first holder. */
function group(groups: Map<number, Group>, first: number, key: string): void {
  const found = groups.get(first);
  if (!found) groups.set(first, { repeats: 1, keys: [key] });
  else {
    found.repeats++;
    if (found.keys.length < SAMPLE - 1) found.keys.push(key);
  }
}

/** Entries listed by name in a report (permissions, consumers): the counts say how many in all. */
const LISTED = 50;

/**
 * Access control over the window: the consumers' attempts (a provider's own batch submissions
 * are not access to its data, but the latest accepted one says when it last delivered).
 */
async function examineAccess(subject: AuditSubject): Promise<{ access: AuditReport["access"]; lastBatch?: string }> {
  const { now } = subject;
  const to = now.toISOString();
  const from = new Date(now.getTime() - durationMs(subject.accessWindow)).toISOString();
  const used = new Set<string>();
  const deniedByType = new Map<string, number>();
  const expiredUse = new Map<string, { attempts: number; lastAttempt: string }>();
  let exchanges = 0;
  let allowed = 0;
  let denied = 0;
  let failed = 0;
  let lastBatch: string | undefined;
  for await (const entry of subject.entries) {
    if (entry.time < from || entry.time > to) continue;
    if (entry.operation === "sync-batch") {
      if (entry.outcome === "allowed" && (!lastBatch || entry.time > lastBatch)) lastBatch = entry.time;
      continue;
    }
    exchanges++;
    if (entry.outcome === "allowed") {
      allowed++;
      if (entry.permissionId) used.add(entry.permissionId);
    } else if (entry.outcome === "failed") failed++;
    else {
      denied++;
      const type = entry.problemType ?? "unknown";
      deniedByType.set(type, (deniedByType.get(type) ?? 0) + 1);
      if (type.endsWith("permission-expired")) {
        const seen = expiredUse.get(entry.consumerSystem) ?? { attempts: 0, lastAttempt: entry.time };
        expiredUse.set(entry.consumerSystem, {
          attempts: seen.attempts + 1,
          lastAttempt: [entry.time, seen.lastAttempt].sort()[1] as string,
        });
      }
    }
  }
  const standing = subject.permissions.filter((permission) => permission.status === "active");
  const expired = standing.filter((permission) => permission.validUntil < to);
  // Unused: valid throughout the window's end, granted before it began, and never used in it.
  const unused = standing.filter(
    (permission) => permission.validUntil >= to && permission.createdAt <= from && !used.has(permission.id),
  );
  const access: AuditReport["access"] = {
    from,
    to,
    permissions: standing.length,
    expiredCount: expired.length,
    expired: expired
      .slice(0, LISTED)
      .map(({ id, consumerSystem, validUntil }) => ({ permissionId: id, consumerSystem, validUntil })),
    unusedCount: unused.length,
    unused: unused.slice(0, LISTED).map(({ id, consumerSystem }) => ({ permissionId: id, consumerSystem })),
    exchanges,
    allowed,
    denied,
    failed,
    denialRate: exchanges === 0 ? 0 : percentOf(denied, exchanges),
    deniedByType: [...deniedByType.entries()]
      .sort(([, a], [, b]) => b - a)
      .map(([problemType, typeCount]) => ({ problemType, count: typeCount })),
    expiredUse: [...expiredUse.entries()]
      .sort(([, a], [, b]) => b.attempts - a.attempts)
      .slice(0, LISTED)
      .map(([consumerSystem, use]) => ({ consumerSystem, ...use })),
  };
  return { access, ...(lastBatch ? { lastBatch } : {}) };
}

/** Access hygiene as a score: each lapse costs points, use after expiry most. */
function accessScoreOf(access: AuditReport["access"]): number {
  const penalty =
    access.expiredCount * 15 +
    (access.expiredUse.length > 0 ? 30 : 0) +
    access.unusedCount * 5 +
    (access.denialRate > 10 ? 20 : 0);
  return Math.max(0, 100 - penalty);
}

function findingsOf(report: Omit<AuditReport, "findings" | "scores">, dataset: Dataset): AuditFinding[] {
  const findings: AuditFinding[] = [];
  const { completeness, validity, timeliness, duplicates, access, records } = report;
  const incomplete = records - completeness.recordsComplete;
  if (report.held && incomplete > 0) {
    const fields = completeness.fields.filter((field) => field.required && field.missing > 0);
    findings.push({
      check: "completeness",
      severity: completeness.rate < 95 ? "high" : "medium",
      summary: `${incomplete} of ${records} records lack a required field (${fields.map((field) => `${field.field}: ${field.missing}`).join(", ")})`,
      keys: completeness.sample.map((entry) => entry.key),
    });
  }
  if (validity.invalid > 0) {
    findings.push({
      check: "validity",
      severity: "high",
      summary: `${validity.invalid} of ${validity.checked} records break schema ${validity.schema?.id}@${validity.schema?.version} (${validity.byRule
        .slice(0, 3)
        .map((rule) => `${rule.path} ${rule.rule}: ${rule.count}`)
        .join(", ")})`,
      keys: validity.sample.map((entry) => entry.key),
    });
  }
  if (report.held && !dataset.schema) {
    findings.push({
      check: "validity",
      severity: "medium",
      summary: "the dataset names no dictionary schema: its records cannot be checked (Art. 19)",
    });
  }
  if (timeliness.overdue) {
    findings.push({
      check: "timeliness",
      severity: "high",
      summary: timeliness.newestUpdate
        ? `the newest update is ${timeliness.newestAgeDays} days old; the dataset declares updates every ${timeliness.updateFrequency}`
        : `no record has been received; the dataset declares updates every ${timeliness.updateFrequency}`,
    });
  }
  if (timeliness.staleRecords > 0) {
    findings.push({
      check: "timeliness",
      severity: "medium",
      summary: `${timeliness.staleRecords} of ${records} records were not updated within ${timeliness.staleAfter}`,
      keys: timeliness.sample,
    });
  }
  for (const [kind, groups, count] of [
    ["data-key", duplicates.keyGroups, duplicates.keyRecords],
    ["near-identical", duplicates.nearIdenticalGroups, duplicates.nearIdenticalRecords],
  ] as const) {
    if (groups === 0) continue;
    findings.push({
      check: "duplicates",
      severity: kind === "data-key" ? "high" : "medium",
      summary:
        kind === "data-key"
          ? `${count} records repeat an earlier record's data key in another spelling (${groups} keys)`
          : `${count} records repeat an earlier record's content under a different key (${groups} groups)`,
      keys: duplicates.sample
        .filter((entry) => entry.kind === kind)
        .flatMap((entry) => entry.keys)
        .slice(0, SAMPLE),
    });
  }
  for (const use of access.expiredUse) {
    findings.push({
      check: "access",
      severity: "high",
      summary: `${use.consumerSystem} tried ${use.attempts} times to use an expired permission (last ${use.lastAttempt})`,
    });
  }
  const some = (names: readonly string[], total: number) =>
    `${names.slice(0, SAMPLE).join(", ")}${total > SAMPLE ? ` and ${total - SAMPLE} more` : ""}`;
  if (access.expiredCount > 0) {
    findings.push({
      check: "access",
      severity: "medium",
      summary: `${access.expiredCount} permissions are past their validity but not revoked: ${some(
        access.expired.map((entry) => `${entry.permissionId} (${entry.consumerSystem})`),
        access.expiredCount,
      )}`,
    });
  }
  if (access.unusedCount > 0) {
    findings.push({
      check: "access",
      severity: "low",
      summary: `${access.unusedCount} permissions were not used between ${access.from.slice(0, 10)} and ${access.to.slice(0, 10)}: ${some(
        access.unused.map((entry) => entry.consumerSystem),
        access.unusedCount,
      )}`,
    });
  }
  if (access.denialRate > 10) {
    findings.push({
      check: "access",
      severity: "medium",
      summary: `${access.denialRate}% of ${access.exchanges} attempts were denied (${access.deniedByType
        .slice(0, 3)
        .map((type) => `${type.problemType}: ${type.count}`)
        .join(", ")})`,
    });
  }
  return findings;
}

/** A record's own fields, with no prototype behind them. */
function ownFields(record: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  return Object.assign(Object.create(null) as Record<string, unknown>, record);
}
