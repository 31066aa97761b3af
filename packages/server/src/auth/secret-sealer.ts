import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { LRUCache } from 'lru-cache';

const INFO = 'stowage api key secrets v1';
const VERSION = 'v1';
/** GCM's full tag: without it stated, a decipher takes any prefix of the right tag (down to 4 bytes). */
const TAG_BYTES = 16;
/** Opened secrets kept in memory (one per API key in use). */
const OPENED_KEPT = 10_000;

/**
 * Seals API key secrets for storage: AES-256-GCM under a key derived (HKDF-SHA256) from the server
 * secret. S3's SigV4 signs with the secret itself, so the server must be able to recover it, but
 * the index never holds it in the clear: a copy of the database alone gives nothing. Each sealed
 * value carries its own random nonce and is bound to its client id (associated data), so a sealed
 * secret moved to another key's row does not open.
 */
export class SecretSealer {
  private readonly key: Buffer;
  /**
   * Secrets opened before, by client id and sealed value: an S3 request opens its key's secret,
   * and AES-GCM costs more than the rest of checking a small request's signature. A sealed value
   * always opens to the same secret; a key's row is still read on every request, so a revoked key
   * stops at once.
   */
  private readonly opened = new LRUCache<string, string>({ max: OPENED_KEPT });

  constructor(serverSecret: Buffer) {
    this.key = Buffer.from(hkdfSync('sha256', serverSecret, Buffer.alloc(0), INFO, 32));
  }

  seal(clientId: string, secret: string): string {
    const nonce = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.key, nonce, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(clientId, 'utf8'));
    const sealed = Buffer.concat([cipher.update(secret, 'utf8'), cipher.final()]);
    return [VERSION, nonce.toString('base64url'), sealed.toString('base64url'), cipher.getAuthTag().toString('base64url')].join('.');
  }

  /** The secret, or undefined when the value was not sealed by this server secret for this client id. */
  open(clientId: string, sealed: string): string | undefined {
    const cacheKey = `${clientId}\u0000${sealed}`;
    const known = this.opened.get(cacheKey);
    if (known !== undefined) return known;
    const secret = this.openUncached(clientId, sealed);
    if (secret !== undefined) this.opened.set(cacheKey, secret);
    return secret;
  }

  private openUncached(clientId: string, sealed: string): string | undefined {
    const [version, nonce, data, tag] = sealed.split('.');
    if (version !== VERSION || !nonce || !data || !tag) return undefined;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.key, Buffer.from(nonce, 'base64url'), { authTagLength: TAG_BYTES });
      decipher.setAAD(Buffer.from(clientId, 'utf8'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(data, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      return undefined;
    }
  }
}
