import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

const SIGNATURE = /^[A-Za-z0-9_-]{43}$/;

/**
 * HMAC-SHA256 signatures for URLs. The key is derived from the server secret with HKDF under
 * its own label, so a URL signature can never double as a JWT signature or the reverse.
 */
export class UrlSigner {
  private readonly key: Buffer;

  constructor(serverSecret: Uint8Array) {
    this.key = Buffer.from(hkdfSync('sha256', serverSecret, Buffer.alloc(0), 'stowage url signing v2', 32));
  }

  /**
   * Signs the fields in order. Each field is prefixed with its length in bytes, so no text can
   * move from one field to the next and keep the signature valid: with a mere separator, a
   * field holding the separator would let ("a\0b", "c") and ("a", "b\0c") collide.
   */
  sign(fields: readonly string[]): string {
    const hmac = createHmac('sha256', this.key);
    for (const field of fields) hmac.update(`${Buffer.byteLength(field, 'utf8')}:`).update(field, 'utf8');
    return hmac.digest('base64url');
  }

  /** Constant-time check of `signature` against the fields. */
  verify(fields: readonly string[], signature: string): boolean {
    if (!SIGNATURE.test(signature)) return false;
    return timingSafeEqual(Buffer.from(this.sign(fields), 'utf8'), Buffer.from(signature, 'utf8'));
  }
}
