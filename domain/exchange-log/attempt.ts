import type { Dataset } from "../catalog/model.ts";
import type { ExchangeEntry, ExchangeLog, Outcome } from "../exchange/model.ts";
import { ProblemError, problemTypeUri, unavailableDependency } from "../problem.ts";

/** What is known of one exchange attempt when it ends, besides how it ended. */
export interface AttemptFacts {
  readonly transactionId: string;
  /** When the attempt started (milliseconds since the epoch): the entry's time, and where its latency starts. */
  readonly started: number;
  readonly consumerSystem: string;
  readonly consumerAgency: string;
  /** For attempts refused at authentication: the system the unverified token named. */
  readonly claimedIssuer?: string;
  /** On whose behalf and for which case the consumer called, as its verified token named them. */
  readonly endUser?: string;
  readonly caseRef?: string;
  readonly datasetId: string;
  /** The dataset, once found: its provider system and agency are the entry's. */
  readonly dataset?: Pick<Dataset, "providerSystem" | "managingAgency">;
  readonly operation: ExchangeEntry["operation"];
  readonly method: ExchangeEntry["method"];
  readonly submittedBy?: string;
  readonly batchId?: string;
  readonly deliveryId?: string;
  readonly attempt?: number;
  /**
   * The terms the attempt was made under, once found (a permission, or the operator's own
   * mandate, which has no permission id). Found, a missing record is an allowed attempt.
   */
  readonly permission?: { readonly id?: string; readonly purpose: string; readonly purposeClass?: string };
  /** What left the platform: recorded only when the attempt was served. */
  readonly fieldsReturned?: readonly string[];
  readonly recordCount?: number;
  /** Records withheld because they broke the dataset's schema; recorded whenever there are some. */
  readonly invalidRecords?: number;
  /** @default 0 */
  readonly bytes?: number;
  /** @default false */
  readonly crossBorder?: boolean;
}

/** How an attempt ended: served with a status, or with the error it threw. */
export type AttemptResult = { readonly status: number } | { readonly error: unknown };

/**
 * The other party's system (a consumer's Agent Node taking a push) did not do its part: the
 * attempt failed, with the status it answered (or the platform's 502-504 when it could not be
 * reached), even when that status is one that, from the platform, would mean a refusal.
 */
export class CounterpartFailedError extends Error {
  constructor(
    readonly status: number,
    /** Names the problem in the log. */
    readonly slug: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Outcome, status and problem type of an attempt, the one way for every capability: a served
 * attempt is allowed with its status; a problem (a `ProblemError`) is failed from 500, allowed
 * when it is a 404 under a permission found (the consumer was let in; there was nothing), denied
 * otherwise; a counterpart's failure is failed with its status; a store or queue refusing for
 * load is a failed 503; anything else is a failed 500 (`internal-error`).
 */
export function attemptOutcome(
  result: AttemptResult,
  permitted: boolean,
): { outcome: Outcome; status: number; problemType?: string } {
  if (!("error" in result)) return { outcome: "allowed", status: result.status };
  const error = unavailableDependency(result.error) ?? result.error;
  if (error instanceof CounterpartFailedError) {
    return { outcome: "failed", status: error.status, problemType: problemTypeUri(error.slug) };
  }
  if (!(error instanceof ProblemError)) {
    return { outcome: "failed", status: 500, problemType: problemTypeUri("internal-error") };
  }
  const { status } = error;
  const outcome = status >= 500 ? "failed" : status < 300 || (permitted && status === 404) ? "allowed" : "denied";
  return { outcome, status, problemType: problemTypeUri(error.slug) };
}

/** The exchange-log entry of an attempt that ended at `endedAt` (milliseconds since the epoch). */
export function attemptEntry(facts: AttemptFacts, result: AttemptResult, endedAt: number): ExchangeEntry {
  const { dataset, permission } = facts;
  const served = !("error" in result);
  const { outcome, status, problemType } = attemptOutcome(result, permission !== undefined);
  return {
    transactionId: facts.transactionId,
    time: new Date(facts.started).toISOString(),
    consumerSystem: facts.consumerSystem,
    consumerAgency: facts.consumerAgency,
    ...(facts.claimedIssuer !== undefined ? { claimedIssuer: facts.claimedIssuer } : {}),
    // Absent when not named, so entries without them hash as they always did.
    ...(facts.endUser !== undefined ? { endUser: facts.endUser } : {}),
    ...(facts.caseRef !== undefined ? { caseRef: facts.caseRef } : {}),
    datasetId: facts.datasetId,
    ...(dataset ? { providerSystem: dataset.providerSystem, providerAgency: dataset.managingAgency } : {}),
    operation: facts.operation,
    method: facts.method,
    ...(facts.submittedBy !== undefined ? { submittedBy: facts.submittedBy } : {}),
    ...(facts.batchId !== undefined ? { batchId: facts.batchId } : {}),
    ...(facts.deliveryId !== undefined ? { deliveryId: facts.deliveryId } : {}),
    ...(facts.attempt !== undefined ? { attempt: facts.attempt } : {}),
    ...(permission
      ? {
          ...(permission.id !== undefined ? { permissionId: permission.id } : {}),
          purpose: permission.purpose,
          ...(permission.purposeClass !== undefined ? { purposeClass: permission.purposeClass } : {}),
        }
      : {}),
    fieldsReturned: served ? [...(facts.fieldsReturned ?? [])] : [],
    recordCount: served ? (facts.recordCount ?? 0) : 0,
    ...(facts.invalidRecords !== undefined && facts.invalidRecords > 0 ? { invalidRecords: facts.invalidRecords } : {}),
    outcome,
    status,
    ...(problemType !== undefined ? { problemType } : {}),
    latencyMs: endedAt - facts.started,
    bytes: facts.bytes ?? 0,
    crossBorder: facts.crossBorder ?? false,
  };
}

/**
 * Records one exchange attempt in the log (Art. 13), allowed, denied or failed: what every
 * capability calls exactly once per attempt, so every entry is built and mapped the same way.
 */
export function recordAttempt(log: ExchangeLog, facts: AttemptFacts, result: AttemptResult): Promise<void> {
  return log(attemptEntry(facts, result, Date.now()));
}

/**
 * Runs `work` as one exchange attempt and records it once it ends, however it ends: served with
 * the status `statusOf` reads from what `work` returned (200 unless said), or with the error it
 * threw, which is thrown on. `facts` is read only when the attempt has ended, so `work` may add
 * what it finds on the way.
 */
export async function recorded<T>(
  log: ExchangeLog,
  facts: () => AttemptFacts,
  work: () => Promise<T>,
  statusOf: (value: T) => number = () => 200,
): Promise<T> {
  let result: AttemptResult | undefined;
  try {
    const value = await work();
    result = { status: statusOf(value) };
    return value;
  } catch (error) {
    result = { error };
    throw error;
  } finally {
    await recordAttempt(log, facts(), result ?? { error: new Error("the attempt ended without a result") });
  }
}
