import type { StorageType } from 'stowage-client/protocol';
import type { Backend, ObjectInfo, ObjectRef } from '../backends/backend.js';
import { contentOf } from './object-attributes.js';
import { ruleErrors } from './rule-error.js';

/**
 * Multipart uploads live in the index as rows of a storage type no route accepts: one row per
 * upload (its target, content type and metadata) and one per part (its blob). So parts get
 * what every row has: transactional writes, quota, collection of replaced or deleted blobs, and
 * expiry, which reclaims uploads left unfinished after UPLOAD_LIFETIME_MS.
 */
export const MULTIPART = '.multipart' as StorageType;
export const UPLOAD_LIFETIME_MS = 7 * 24 * 3_600_000;
export const MAX_LISTED = 1000;

export const uploadBase = (bucket: string) => `u/${bucket}/`;
export const uploadKey = (bucket: string, key: string, uploadId: string) => `${uploadBase(bucket)}${key}\u0000${uploadId}`;
export const partPrefix = (uploadId: string) => `p/${uploadId}/`;
export const partKey = (uploadId: string, part: number) => `${partPrefix(uploadId)}${String(part).padStart(5, '0')}`;
export const internal = (tenant: string, key: string): ObjectRef => ({ tenant, type: MULTIPART, key });

/** A part's row as a listing gives it. */
export type PartRow = Pick<ObjectInfo, 'size' | 'sha256' | 'lastModified' | 'attributes'>;

/** An open multipart upload, as its row records it. */
export interface UploadRecord {
  readonly uploadId: string;
  readonly contentType: string;
  readonly expiresAt: number;
  /** The object's attributes to be, and (`s3Checksum`, with an empty value) the checksum its parts use. */
  readonly attributes: ObjectInfo['attributes'];
}

/** The open upload `uploadId` of `ref`; NoSuchUpload when there is none. */
export async function findUploadRow(backend: Backend, ref: ObjectRef, uploadId: string, now: number): Promise<UploadRecord> {
  if (!/^[0-9a-f]{32}$/.test(uploadId)) throw ruleErrors.noSuchUpload();
  const info = await backend.head(internal(ref.tenant, uploadKey(ref.type, ref.key, uploadId)), now);
  if (!info || info.expiresAt === undefined) throw ruleErrors.noSuchUpload();
  return { uploadId, contentType: info.contentType, expiresAt: info.expiresAt, attributes: info.attributes };
}

/** The upload's parts by number. */
export async function listPartRows(backend: Backend, tenant: string, uploadId: string, now: number): Promise<Map<number, PartRow>> {
  const parts = new Map<number, PartRow>();
  const prefix = partPrefix(uploadId);
  for (let start: Buffer | undefined = Buffer.from(prefix); start; ) {
    const page = await backend.listFolder({
      tenant,
      type: MULTIPART,
      prefix,
      delimiter: undefined,
      details: true,
      start,
      limit: MAX_LISTED,
      now,
    });
    for (const entry of page.entries) {
      if (entry.kind === 'object' && entry.row) parts.set(Number(entry.key.slice(prefix.length)), entry.row);
    }
    start = page.next;
  }
  return parts;
}

/**
 * A part's ETag, unquoted: its MD5 as S3 gives it, known for parts uploaded or copied from a
 * range. A part that references a whole source object has the source's MD5 when it has one, and
 * otherwise its sha256 (no byte is read to compute an MD5).
 */
export function partEtag(row: Pick<ObjectInfo, 'sha256' | 'attributes'>): string {
  const etag = contentOf(row.attributes).s3Etag;
  return etag && /^[0-9a-f]{32}$/.test(etag) ? etag : row.sha256;
}
