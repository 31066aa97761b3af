import { randomBytes } from 'node:crypto';
import { API_BASE_PATH, encodeKey, UrlKinds } from 'stowage-client/protocol';
import type { UrlSigner } from '../auth/url-signer.js';
import { fail } from '../errors.js';
import { parseContentType } from './media-type.js';
import { makeRef, type ObjectRef } from './object-ref.js';
import { parseUrlFields, type Query } from './signed-url-fields.js';

/** What an upload URL authorizes. */
export interface UploadGrant {
  readonly ref: ObjectRef;
  readonly uploadId: string;
  readonly contentType: string | undefined;
  /** When the URL, and so its upload session, expires (ms). */
  readonly urlExpiresAt: number;
  /** Lifetime of the stored object, when the URL was made with one (ms). */
  readonly objectTtlMs: number | undefined;
}

/**
 * Signed download and upload URLs. The URL is the credential: it names the tenant, type, key
 * and expiry in the clear and signs them (plus the method and the upload id), so a URL for one
 * key never serves another key or another method, and changing any character gives 403.
 *
 * Every field is parsed to its exact format before the signature is checked, and the signature
 * covers the canonical form of the parsed values, so no two query strings that verify can mean
 * different things (an `expires` of "12x" or an upload id in `content_type` never gets that far).
 */
export class SignedUrls {
  constructor(
    private readonly signer: UrlSigner,
    private readonly clock: () => number,
  ) {}

  /** A download URL; with `filename`, one whose download is saved under that name (signed too). */
  createDownloadUrl(origin: string, ref: ObjectRef, ttlMs: number, filename?: string): string {
    const expires = this.expiry(ttlMs);
    const signature = this.signer.sign(downloadFields(ref, expires, filename));
    const params = new URLSearchParams({ tenant: ref.tenant, expires: String(expires) });
    if (filename !== undefined) params.set('filename', filename);
    params.set('signature', signature);
    return `${origin}${API_BASE_PATH}/${UrlKinds.signedDownload}/${ref.type}/${encodeKey(ref.key)}?${params}`;
  }

  verifyDownload(type: string, key: string, query: Query): { ref: ObjectRef; filename: string | undefined; urlExpiresAt: number } {
    const fields = parseUrlFields(query, { upload: false });
    const ref = makeRef(fields.tenant, type, key);
    this.check(downloadFields(ref, fields.expires, fields.filename), fields.signature, fields.expires);
    return { ref, filename: fields.filename, urlExpiresAt: fields.expires * 1000 };
  }

  createUploadUrl(
    origin: string,
    ref: ObjectRef,
    options: { ttlMs: number; contentType: string | undefined; objectTtlSeconds?: number | undefined },
  ): string {
    const expires = this.expiry(options.ttlMs);
    const uploadId = randomBytes(16).toString('hex');
    const contentType = parseContentType(options.contentType, 'content_type') ?? '';
    const objectTtl = options.objectTtlSeconds === undefined ? '' : String(options.objectTtlSeconds);
    const signature = this.signer.sign(uploadFields(ref, expires, uploadId, contentType, objectTtl));
    const params = new URLSearchParams({ tenant: ref.tenant, expires: String(expires), upload_id: uploadId });
    if (contentType) params.set('content_type', contentType);
    if (objectTtl) params.set('object_ttl', objectTtl);
    params.set('signature', signature);
    return `${origin}${API_BASE_PATH}/${UrlKinds.upload}/${ref.type}/${encodeKey(ref.key)}?${params}`;
  }

  verifyUpload(type: string, key: string, query: Query): UploadGrant {
    const fields = parseUrlFields(query, { upload: true });
    const ref = makeRef(fields.tenant, type, key);
    const contentType = fields.contentType ?? '';
    const objectTtl = fields.objectTtlSeconds === undefined ? '' : String(fields.objectTtlSeconds);
    this.check(uploadFields(ref, fields.expires, fields.uploadId, contentType, objectTtl), fields.signature, fields.expires);
    return {
      ref,
      uploadId: fields.uploadId,
      contentType: fields.contentType,
      urlExpiresAt: fields.expires * 1000,
      objectTtlMs: fields.objectTtlSeconds === undefined ? undefined : fields.objectTtlSeconds * 1000,
    };
  }

  private expiry(ttlMs: number): number {
    return Math.floor((this.clock() + ttlMs) / 1000);
  }

  private check(fields: string[], signature: string, expires: number): void {
    if (!this.signer.verify(fields, signature)) throw fail('InvalidSignature');
    // Checked after the signature, so an expiry cannot be extended by editing the URL.
    if (expires * 1000 <= this.clock()) throw fail('UrlExpired');
  }
}

// A URL without a file name signs the five fields it always did, so URLs already handed out stay valid.
function downloadFields(ref: ObjectRef, expires: number, filename: string | undefined): string[] {
  const fields = ['GET', ref.tenant, ref.type, ref.key, String(expires)];
  return filename === undefined ? fields : [...fields, filename];
}

function uploadFields(ref: ObjectRef, expires: number, uploadId: string, contentType: string, objectTtl: string): string[] {
  return ['UPLOAD', ref.tenant, ref.type, ref.key, String(expires), uploadId, contentType, objectTtl];
}
