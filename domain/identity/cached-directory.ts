import type { KeyRecord, SystemRecord } from "../registry/model.ts";
import type { SystemDirectory } from "./authenticate.ts";

type Found = { system: SystemRecord; keys: KeyRecord[] } | undefined;

interface Entry {
  readonly value: Promise<Found>;
  /** When the registry was read. */
  readonly loaded: number;
  /** When a read was last forced by a key or system the entry did not have. */
  readonly forced: number | undefined;
}

/**
 * The registry as the authoriser reads it: each system with its keys, remembered per execution
 * environment for `ttlMs` and at most `maxEntries` systems (the least recently read go first).
 *
 * The bound is a security property: a key revoked, or a system suspended, is refused by every
 * environment at most `ttlMs` after the registry says so, because nothing older than `ttlMs` is
 * trusted. What the registry did not have (an unknown system, or a known system without the key
 * a token names) is remembered for as long, so a flood of tokens naming unknown keys costs the
 * table at most one extra read per system per `ttlMs`: such a token forces one fresh read (a key
 * added a moment ago is then accepted at once), and later ones within `ttlMs` are answered from
 * that read. A failed read is not remembered. With `ttlMs` 0 every lookup reads the registry.
 */
export function cachedDirectory(
  load: (systemId: string) => Promise<Found>,
  options: { ttlMs: number; maxEntries?: number; now?: () => number },
): SystemDirectory {
  if (options.ttlMs <= 0) return (systemId) => load(systemId);
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 1000;
  const entries = new Map<string, Entry>();

  const read = (systemId: string, forced: number | undefined): Promise<Found> => {
    const value = load(systemId);
    entries.delete(systemId);
    entries.set(systemId, { value, loaded: now(), forced });
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value as string);
    value.catch(() => {
      if (entries.get(systemId)?.value === value) entries.delete(systemId);
    });
    return value;
  };

  return async (systemId, kid) => {
    const entry = entries.get(systemId);
    if (!entry || now() - entry.loaded >= options.ttlMs) return read(systemId, undefined);
    // Most recently read last, so that the bound evicts the systems least in use.
    entries.delete(systemId);
    entries.set(systemId, entry);
    const found = await entry.value;
    const known = found !== undefined && (kid === undefined || found.keys.some((key) => key.kid === kid));
    if (known) return found;
    const current = now();
    if (entry.forced !== undefined && current - entry.forced < options.ttlMs) return found;
    // Read once more for what was not there, unless another lookup already did.
    const latest = entries.get(systemId);
    if (latest && latest !== entry) return latest.value;
    return read(systemId, current);
  };
}
