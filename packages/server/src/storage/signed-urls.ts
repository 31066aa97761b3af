import { randomBytes } from 'node:crypto';
import { API_BASE_PATH, encodeKey, UrlKinds } from 'stowage-client/protocol';
import type { UrlSigner } from '../auth/url-signer.js';
import { fail } from '../errors.js';
import { makeRef, type ObjectRef } from './object-ref.js';

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

type Query = Record<string, string | undefined>;

/**
 * Signed download and upload URLs. The URL is the credential: it names the tenant, type, key
 * and expiry in the clear and signs them (plus the method and the upload id), so a URL for one
 * key never serves another key or another method, and changing any character gives 403.
 */
export class SignedUrls {
  constructor(
    private readonly signer: UrlSigner,
    private readonly clock: () => number,
  ) {}

  createDownloadUrl(origin: string, ref: ObjectRef, ttlMs: number): string {
    const expires = this.expiry(ttlMs);
    const signature = this.signer.sign(['GET', ref.tenant, ref.type, ref.key, expires]);
    return `${origin}${API_BASE_PATH}/${UrlKinds.signedDownload}/${ref.type}/${encodeKey(ref.key)}?${new URLSearchParams({ tenant: ref.tenant, expires, signature })}`;
  }

  verifyDownload(type: string, key: string, query: Query): ObjectRef {
    const ref = makeRef(required(query, 'tenant'), type, key);
    const expires = required(query, 'expires');
    this.check(['GET', ref.tenant, ref.type, ref.key, expires], query);
    return ref;
  }

  createUploadUrl(
    origin: string,
    ref: ObjectRef,
    options: { ttlMs: number; contentType: string | undefined; objectTtlSeconds?: number | undefined },
  ): string {
    const expires = this.expiry(options.ttlMs);
    const uploadId = randomBytes(16).toString('hex');
    const contentType = options.contentType ?? '';
    const objectTtl = options.objectTtlSeconds === undefined ? '' : String(options.objectTtlSeconds);
    const signature = this.signer.sign(['UPLOAD', ref.tenant, ref.type, ref.key, expires, uploadId, contentType, objectTtl]);
    const params = new URLSearchParams({ tenant: ref.tenant, expires, upload_id: uploadId });
    if (contentType) params.set('content_type', contentType);
    if (objectTtl) params.set('object_ttl', objectTtl);
    params.set('signature', signature);
    return `${origin}${API_BASE_PATH}/${UrlKinds.upload}/${ref.type}/${encodeKey(ref.key)}?${params}`;
  }

  verifyUpload(type: string, key: string, query: Query): UploadGrant {
    const ref = makeRef(required(query, 'tenant'), type, key);
    const uploadId = required(query, 'upload_id');
    const contentType = query.content_type ?? '';
    const objectTtl = query.object_ttl ?? '';
    const expires = required(query, 'expires');
    this.check(['UPLOAD', ref.tenant, ref.type, ref.key, expires, uploadId, contentType, objectTtl], query);
    if (!/^[0-9a-f]{32}$/.test(uploadId)) throw fail('InvalidSignature', 'Malformed upload_id');
    return {
      ref,
      uploadId,
      contentType: contentType || undefined,
      urlExpiresAt: Number(expires) * 1000,
      objectTtlMs: objectTtl ? Number(objectTtl) * 1000 : undefined,
    };
  }

  private expiry(ttlMs: number): string {
    return String(Math.floor((this.clock() + ttlMs) / 1000));
  }

  private check(fields: string[], query: Query): void {
    if (!this.signer.verify(fields, required(query, 'signature'))) throw fail('InvalidSignature');
    // Checked after the signature, so an expiry cannot be extended by editing the URL.
    if (Number(fields[4]) * 1000 <= this.clock()) throw fail('UrlExpired');
  }
}

function required(query: Query, name: string): string {
  const value = query[name];
  if (typeof value !== 'string' || value === '') throw fail('InvalidSignature', `The signed URL lacks its "${name}" parameter`);
  return value;
}
