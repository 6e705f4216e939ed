/**
 * A 64-bit fingerprint of a text as two 32-bit halves: the two multiply-xorshift lanes of
 * cyrb53 (public domain), kept whole. Not cryptographic, which it need not be: it only tells
 * apart the values of one dataset, and computing it in JavaScript is some twenty times faster
 * than creating a SHA-1 hash object per record.
 */
export function fingerprint(text: string): [number, number] {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index);
    h1 = Math.imul(h1 ^ char, 2654435761);
    h2 = Math.imul(h2 ^ char, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return [h1 >>> 0, h2 >>> 0];
}

/**
 * Remembers 64-bit fingerprints, each with the ordinal of the first record that had it, in two
 * typed arrays (open addressing): 12 bytes a record, where a Map of strings would take ten times
 * that. Two different texts share a fingerprint with odds of about n²/2⁶⁵: negligible here.
 */
export class FingerprintTable {
  private high = new Uint32Array(1024);
  private low = new Uint32Array(1024);
  private first = new Int32Array(1024).fill(-1);
  private size = 0;

  /** The ordinal of the first record with `text`'s fingerprint, or -1 after remembering `ordinal` as it. */
  firstWith(text: string, ordinal: number): number {
    const [high, low] = fingerprint(text);
    if ((this.size + 1) * 2 > this.first.length) this.grow();
    const slot = this.slotOf(high, low);
    const seen = this.first[slot] as number;
    if (seen >= 0) return seen;
    this.high[slot] = high;
    this.low[slot] = low;
    this.first[slot] = ordinal;
    this.size++;
    return -1;
  }

  private slotOf(high: number, low: number): number {
    const mask = this.first.length - 1;
    let slot = low & mask;
    while ((this.first[slot] as number) >= 0 && (this.high[slot] !== high || this.low[slot] !== low)) {
      slot = (slot + 1) & mask;
    }
    return slot;
  }

  private grow(): void {
    const { high, low, first } = this;
    this.high = new Uint32Array(first.length * 2);
    this.low = new Uint32Array(first.length * 2);
    this.first = new Int32Array(first.length * 2).fill(-1);
    for (let index = 0; index < first.length; index++) {
      if ((first[index] as number) < 0) continue;
      const slot = this.slotOf(high[index] as number, low[index] as number);
      this.high[slot] = high[index] as number;
      this.low[slot] = low[index] as number;
      this.first[slot] = first[index] as number;
    }
  }
}

/**
 * Data keys by ordinal, as UTF-8 in one growing buffer: what naming the first of a duplicate
 * pair needs, at a few bytes a record instead of a string object each.
 */
export class KeyArena {
  private bytes = Buffer.alloc(64 * 1024);
  private offsets = new Uint32Array(1025);
  private count = 0;

  /** Stores a key; returns its ordinal. */
  add(key: string): number {
    const start = this.offsets[this.count] as number;
    const length = Buffer.byteLength(key);
    if (start + length > this.bytes.length) {
      const bigger = Buffer.alloc(Math.max(this.bytes.length * 2, start + length));
      this.bytes.copy(bigger, 0, 0, start);
      this.bytes = bigger;
    }
    if (this.count + 2 > this.offsets.length) {
      const bigger = new Uint32Array(this.offsets.length * 2);
      bigger.set(this.offsets);
      this.offsets = bigger;
    }
    this.bytes.write(key, start);
    this.offsets[this.count + 1] = start + length;
    return this.count++;
  }

  get(ordinal: number): string {
    return this.bytes.toString("utf8", this.offsets[ordinal], this.offsets[ordinal + 1]);
  }
}

/**
 * A value as people would compare it: Unicode-normalised, diacritics and case folded, spacing
 * and punctuation dropped, leading zeros of numbers ignored (`" 001-234 "` ≡ `"1234"`).
 */
export function normalised(value: unknown): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "object") return JSON.stringify(value);
  const text = String(value);
  // Codes, dates and common names repeat across records: each is normalised once.
  const known = NORMALISED.get(text);
  if (known !== undefined) return known;
  if (NORMALISED.size >= NORMALISED_MAX) NORMALISED.clear();
  const result = fold(text);
  NORMALISED.set(text, result);
  return result;
}

const NORMALISED = new Map<string, string>();
const NORMALISED_MAX = 50_000;

function fold(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/\p{M}/gu, "")
    .replace(/đ/giu, "d")
    .toLowerCase()
    .replace(/[^\p{L}\p{N}]/gu, "")
    .replace(/^0+(?=\d)/, "");
}
