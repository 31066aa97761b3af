/**
 * The smallest byte string greater than every string that starts with `prefix`, or undefined
 * when there is none (empty prefix, or all 0xFF). With it a prefix listing is one index range
 * scan, `key >= prefix AND key < bound`, costing the same for 10 keys or 10 million.
 */
export function prefixUpperBound(prefix: Buffer): Buffer | undefined {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const byte = prefix[i] as number;
    if (byte < 0xff) {
      const bound = Buffer.from(prefix.subarray(0, i + 1));
      bound[i] = byte + 1;
      return bound;
    }
  }
  return undefined;
}

/**
 * Where a page of a prefix listing starts: the prefix itself, or just past `after` (`after` + NUL,
 * the smallest key after it, since no key contains NUL), whichever is later, so the page never
 * reaches outside the prefix whatever `after` is.
 */
export function listStart(prefix: Buffer, after: string | undefined): Buffer {
  if (after === undefined) return prefix;
  const next = Buffer.concat([Buffer.from(after, 'utf8'), Buffer.from([0])]);
  return Buffer.compare(next, prefix) > 0 ? next : prefix;
}

/**
 * Greater than every key: valid UTF-8 never contains the byte 0xFF. Lets a range without an
 * upper bound use the same `key < end` statement as one with.
 */
export const KEY_SPACE_END = Buffer.from([0xff]);

/** The index range of every key that starts with `prefix`. */
export function prefixRange(prefix: string): { start: Buffer; end: Buffer } {
  const start = Buffer.from(prefix, 'utf8');
  return { start, end: prefixUpperBound(start) ?? KEY_SPACE_END };
}

/** The smallest key after `key` (no key contains NUL). */
export function keyAfter(key: Buffer): Buffer {
  return Buffer.concat([key, Buffer.from([0])]);
}
