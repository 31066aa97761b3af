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
