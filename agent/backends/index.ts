import type { ServedDataset } from "../../domain/agent/config.ts";
import type { LocalBackend } from "./config.ts";
import { RestBackend } from "./rest.ts";
import { SqlBackend } from "./sql.ts";
import type { Backend } from "./types.ts";

export { type LocalBackend, localBackend, parseLocalBackend } from "./config.ts";
export * from "./types.ts";

export interface CreateBackendOptions {
  /** Served datasets to validate against the backend now (a misconfigured one throws, naming its setting). */
  readonly served?: readonly ServedDataset[];
  /** Where `env:NAME` secrets are read. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  /** Told of errors on a SQL backend's idle connections (the next call reports them anyway). */
  readonly onPoolError?: (error: Error) => void;
}

/**
 * The backend a local file's entry describes, named `name`. Secrets named `env:NAME` are read
 * now: a missing one is a {@link BackendConfigError} naming the setting. The third argument may
 * also be the served datasets alone.
 */
export function createBackend(
  name: string,
  local: LocalBackend,
  options: CreateBackendOptions | readonly ServedDataset[] = {},
): Backend {
  const { served = [], ...rest } = Array.isArray(options)
    ? { served: options as readonly ServedDataset[] }
    : (options as CreateBackendOptions);
  const backend: Backend =
    local.type === "sql"
      ? new SqlBackend(name, local, {
          ...(rest.env ? { env: rest.env } : {}),
          ...(rest.onPoolError ? { onPoolError: rest.onPoolError } : {}),
        })
      : new RestBackend(name, local, rest.env ? { env: rest.env } : {});
  try {
    for (const dataset of served) backend.validate(dataset);
  } catch (error) {
    // A pool opens no connection before its first query: closing it costs nothing and leaves nothing behind.
    void backend.close().catch(() => undefined);
    throw error;
  }
  return backend;
}
