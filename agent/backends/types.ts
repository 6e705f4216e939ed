import type { ServedDataset } from "../../domain/agent/config.ts";

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
  /** 1..1000. */
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

export class BackendConfigError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(message);
  }
}

/** The backend cannot be reached: the node answers the platform 502. */
export class BackendUnavailableError extends Error {}

/** Bad filter etc.: the node answers 400. */
export class BackendQueryError extends Error {}
