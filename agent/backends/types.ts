import type { ServedDataset } from "../../domain/agent/config.ts";

/*
 * What the provider side of the Agent Node asks of a backend: one record by key, a page of
 * records by equality filters, and whether the backend can be reached. Each backend maps the
 * dataset's fields to its own columns or source fields.
 */

export interface RecordRequest {
  readonly dataset: ServedDataset;
  readonly key: string;
  readonly fields: readonly string[];
}

export interface QueryRequest {
  readonly dataset: ServedDataset;
  readonly filters: Readonly<Record<string, string | number | boolean>>;
  /** [] = all mapped fields. */
  readonly fields: readonly string[];
  /** 1..1000 */
  readonly limit: number;
  /** Opaque, from a previous page. */
  readonly cursor?: string;
}

export interface Backend {
  readonly name: string;
  readonly type: "sql" | "rest";
  /** Validates a served dataset's mapping against this backend (throws BackendConfigError naming the setting). */
  validate(dataset: ServedDataset): void;
  getRecord(request: RecordRequest, signal?: AbortSignal): Promise<Record<string, unknown> | undefined>;
  query(
    request: QueryRequest,
    signal?: AbortSignal,
  ): Promise<{ items: Record<string, unknown>[]; nextCursor?: string }>;
  /** Readiness: throws BackendUnavailableError when the backend cannot be reached. */
  check(signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** A backend or a dataset's mapping onto it is misconfigured: `setting` names where. */
export class BackendConfigError extends Error {
  override readonly name = "BackendConfigError";
  constructor(
    readonly setting: string,
    /** What is wrong with the setting, without its name. */
    readonly detail: string,
  ) {
    super(`${setting}: ${detail}`);
  }
}

/** The backend cannot be reached or answered nonsense: the platform gets a 502. */
export class BackendUnavailableError extends Error {
  override readonly name = "BackendUnavailableError";
}

/** The request cannot be answered as asked (a filter on a field not filterable, a bad cursor): a 400. */
export class BackendQueryError extends Error {
  override readonly name = "BackendQueryError";
}
