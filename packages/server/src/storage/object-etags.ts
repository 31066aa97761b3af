import type { ObjectAttributes, ObjectInfo, S3ChecksumAttribute } from '../backends/backend.js';

/**
 * The MD5-style ETag, quoted, that S3 clients were given when the object was written through the
 * S3 API (the content's MD5, or MD5-N for a multipart upload). Objects written through storage
 * API v1 have their sha256 ETag instead (and those of multipart uploads completed before ETags
 * were MD5s, `"sha256-N"`).
 *
 * The attribute keeps its stored name, `s3Etag`: indexes hold attributes as JSON, and in the
 * scale-out deployment servers of two versions share one index during a rolling upgrade, so a
 * renamed field would be invisible to the older ones.
 */
export function md5Etag(info: Pick<ObjectInfo, 'sha256' | 'attributes'>): string {
  const attributes = info.attributes;
  if (attributes?.s3Etag) return `"${attributes.s3Etag}"`;
  return attributes?.parts ? `"${info.sha256}-${attributes.parts}"` : `"${info.sha256}"`;
}

/** The attributes of a write with the MD5-style ETag it gives the object (unquoted), and its checksum when it has one. */
export function withMd5Etag(attributes: ObjectAttributes | null, etag: string, checksum?: S3ChecksumAttribute): ObjectAttributes {
  return {
    ...(attributes ?? { metadata: {}, cacheControl: null, contentDisposition: null }),
    s3Etag: etag,
    ...(checksum ? { s3Checksum: checksum } : {}),
  };
}
