import type { ObjectAttributes, ObjectInfo } from '../backends/backend.js';
import { contentOf, type S3ChecksumAttribute, withContent } from './object-attributes.js';

/**
 * The MD5-style ETag, quoted, that S3 clients were given when the object was written through the
 * S3 API (the content's MD5, or MD5-N for a multipart upload). Objects written through storage
 * API v1 have their sha256 ETag instead (and those of multipart uploads completed before ETags
 * were MD5s, `"sha256-N"`).
 * It describes the bytes (`ContentFields.s3Etag`), so copies keep it.
 */
export function md5Etag(info: Pick<ObjectInfo, 'sha256' | 'attributes'>): string {
  const { s3Etag, parts } = contentOf(info.attributes);
  if (s3Etag) return `"${s3Etag}"`;
  return parts ? `"${info.sha256}-${parts}"` : `"${info.sha256}"`;
}

/** The attributes of a write with the MD5-style ETag it gives the object (unquoted), and its checksum when it has one. */
export function withMd5Etag(attributes: ObjectAttributes | null, etag: string, checksum?: S3ChecksumAttribute): ObjectAttributes {
  return withContent(attributes, { s3Etag: etag, ...(checksum ? { s3Checksum: checksum } : {}) });
}
