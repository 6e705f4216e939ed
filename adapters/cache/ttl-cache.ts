/**
 * Remembers what `load` found, per key, for `ttlMs`, in this execution environment. Lookups
 * arriving while a load is in flight share it; what was not found is not remembered (so a new
 * item is seen at once), nor is a failed load. At most `maxEntries` keys: the oldest go first.
 */
export function cached<K, V>(
  load: (key: K) => Promise<V | undefined>,
  options: { ttlMs: number; maxEntries?: number; now?: () => number },
): (key: K) => Promise<V | undefined> {
  const now = options.now ?? Date.now;
  const maxEntries = options.maxEntries ?? 1000;
  const entries = new Map<K, { value: Promise<V | undefined>; expires: number }>();
  return (key) => {
    const hit = entries.get(key);
    if (hit && hit.expires > now()) return hit.value;
    entries.delete(key);
    const value = load(key);
    entries.set(key, { value, expires: now() + options.ttlMs });
    if (entries.size > maxEntries) entries.delete(entries.keys().next().value as K);
    value.then(
      (found) => {
        if (found === undefined && entries.get(key)?.value === value) entries.delete(key);
      },
      () => {
        if (entries.get(key)?.value === value) entries.delete(key);
      },
    );
    return value;
  };
}
