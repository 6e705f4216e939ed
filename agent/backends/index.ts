import type { LocalBackend } from "./config.ts";
import { type Backend, BackendConfigError } from "./types.ts";

/** Placeholder of H3's factory (Contract 3): H3's file replaces this one with the REST and SQL backends. */
export function createBackend(name: string, local: LocalBackend): Backend {
  throw new BackendConfigError(`backends.${name}.type`, `backend type ${local.type} is not built into this node`);
}
