import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * HMAC-SHA256 signatures for URLs. The key is derived from the server secret with HKDF under
 * its own label, so a URL signature can never double as a JWT signature or the reverse.
 */
export class UrlSigner {
  private readonly key: Buffer;

  constructor(serverSecret: Uint8Array) {
    this.key = Buffer.from(hkdfSync('sha256', serverSecret, Buffer.alloc(0), 'stowage url signing v1', 32));
  }

  /** Signs the fields in order; NUL separators keep ("ab","c") and ("a","bc") apart. */
  sign(fields: readonly string[]): string {
    return createHmac('sha256', this.key).update(fields.join('\0')).digest('base64url');
  }

  /** Constant-time check of `signature` against the fields. */
  verify(fields: readonly string[], signature: string): boolean {
    const expected = Buffer.from(this.sign(fields), 'utf8');
    const given = Buffer.from(signature, 'utf8');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }
}
