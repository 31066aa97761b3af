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
