/** 32 lowercase hex digits: the form of every blob id this store makes. */
const BLOB_ID = /^[0-9a-f]{32}$/;

/**
 * Where things live in the bucket: blobs at `{prefix}/blobs/{id}`, the staged chunks of a
 * resumable upload under `{prefix}/uploads/{uploadId}/`. Names come from generated ids only,
 * never from tenant or key text.
 */
export class S3Layout {
  /** `{prefix}/blobs/` (or `blobs/` without a prefix). */
  readonly blobsPrefix: string;
  /** `{prefix}/uploads/` (or `uploads/` without a prefix). */
  readonly uploadsPrefix: string;

  constructor(prefix: string) {
    const base = prefix.replace(/^\/+|\/+$/g, '');
    const root = base === '' ? '' : `${base}/`;
    this.blobsPrefix = `${root}blobs/`;
    this.uploadsPrefix = `${root}uploads/`;
  }

  blobKey(blobId: string): string {
    return this.blobsPrefix + blobId;
  }

  /** The blob id a key under `blobsPrefix` names; undefined for anything this store did not write. */
  blobIdOf(key: string): string | undefined {
    if (!key.startsWith(this.blobsPrefix)) return undefined;
    const id = key.slice(this.blobsPrefix.length);
    return BLOB_ID.test(id) ? id : undefined;
  }

  /** `{prefix}/uploads/{uploadId}/`: everything one upload staged. */
  uploadPrefix(uploadId: string): string {
    return `${this.uploadsPrefix}${uploadId}/`;
  }

  stagedKey(uploadId: string, name: string): string {
    return this.uploadPrefix(uploadId) + name;
  }

  /** The upload a staged object belongs to; undefined for a key outside `uploadsPrefix`. */
  uploadIdOf(key: string): string | undefined {
    if (!key.startsWith(this.uploadsPrefix)) return undefined;
    const rest = key.slice(this.uploadsPrefix.length);
    const slash = rest.indexOf('/');
    return slash > 0 ? rest.slice(0, slash) : undefined;
  }
}
