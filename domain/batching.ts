/**
 * Splits items into groups of at most `maxItems` and about `maxBytes` of JSON each (an item
 * larger than `maxBytes` travels alone): what fits in one queue message.
 */
export function groupsOf<T>(items: readonly T[], maxItems: number, maxBytes: number): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = Buffer.byteLength(JSON.stringify(item));
    if (current.length > 0 && (current.length >= maxItems || bytes + size > maxBytes)) {
      groups.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}
