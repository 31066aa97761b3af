import type { ChecksumAlgorithm } from './checksums.js';

/**
 * The CRC of A followed by B from crc(A), crc(B) and B's length, without reading a byte: how a
 * FULL_OBJECT checksum of a multipart upload comes from its parts' CRCs. It is zlib's
 * crc32_combine (multiplication by x^(8·len) modulo the polynomial, in the reflected bit order
 * the three CRCs use), generalised to 64 bits with BigInt; it runs once per part.
 */
const POLYNOMIALS: Partial<Record<ChecksumAlgorithm, { width: bigint; reflected: bigint }>> = {
  CRC32: { width: 32n, reflected: 0xedb88320n },
  CRC32C: { width: 32n, reflected: 0x82f63b78n },
  CRC64NVME: { width: 64n, reflected: 0x9a6c9329ac4bc9b5n },
};

/** Combines big-endian CRC digests of consecutive pieces (with their byte lengths) into the digest of the whole. */
export function combineCrcs(algorithm: ChecksumAlgorithm, pieces: ReadonlyArray<{ crc: Buffer; length: number }>): Buffer {
  const poly = POLYNOMIALS[algorithm];
  if (!poly) throw new Error(`${algorithm} is not a CRC`);
  const bytes = Number(poly.width / 8n);
  let crc = 0n;
  let first = true;
  for (const piece of pieces) {
    const next = BigInt(`0x${piece.crc.toString('hex')}`);
    crc = first ? next : multiply(poly, powerOfX(poly, BigInt(piece.length) * 8n), crc) ^ next;
    first = false;
  }
  return Buffer.from(crc.toString(16).padStart(bytes * 2, '0'), 'hex');
}

type Poly = { width: bigint; reflected: bigint };

/** a·b modulo the polynomial, both reflected (x^0 is the top bit). */
function multiply(poly: Poly, a: bigint, b: bigint): bigint {
  const top = 1n << (poly.width - 1n);
  let product = 0n;
  let factor = b;
  for (let bit = top; bit > 0n; bit >>= 1n) {
    if (a & bit) product ^= factor;
    factor = factor & 1n ? (factor >> 1n) ^ poly.reflected : factor >> 1n;
  }
  return product;
}

/** x^n modulo the polynomial, reflected, by repeated squaring. */
function powerOfX(poly: Poly, n: bigint): bigint {
  let result = 1n << (poly.width - 1n); // x^0
  let square = 1n << (poly.width - 2n); // x^1
  for (let rest = n; rest > 0n; rest >>= 1n) {
    if (rest & 1n) result = multiply(poly, square, result);
    square = multiply(poly, square, square);
  }
  return result;
}
