import type { ObjectInfo } from 'stowage-client';
import type { ObjectDetails } from './api.js';

/** What a HEAD tells of an object, in the form a listing gives it (for a preview opened by its URL). */
export function objectDetails(key: string, info: ObjectInfo): ObjectDetails {
  return {
    key,
    size: info.size,
    etag: info.etag,
    sha256: info.sha256,
    contentType: info.contentType,
    lastModified: info.lastModified.toISOString(),
    expiresAt: info.expiresAt?.toISOString() ?? null,
    metadata: info.metadata,
    cacheControl: info.cacheControl ?? null,
    contentDisposition: info.contentDisposition ?? null,
  };
}
