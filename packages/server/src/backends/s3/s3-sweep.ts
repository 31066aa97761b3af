import type { S3Bucket } from './s3-bucket.js';
import type { S3Layout } from './s3-layout.js';

const SWEEP_BATCH = 1000;

export interface SweepOptions {
  readonly knownBlobs: (blobIds: readonly string[]) => Promise<Set<string>>;
  readonly isUploadOpen: (uploadId: string) => Promise<boolean>;
  readonly now: number;
  readonly graceMs: number;
}

/**
 * Removes what the index does not know and that is older than the grace period: blobs, staged
 * chunks of uploads that are no longer open, and multipart uploads whose blob nothing names.
 * Every step is a listing and idempotent deletes, so many servers may sweep at once. Returns how
 * many blobs (finished, or multipart uploads that would have become one) it removed.
 */
export async function sweepOrphans(bucket: S3Bucket, layout: S3Layout, options: SweepOptions): Promise<number> {
  const { knownBlobs, isUploadOpen, now, graceMs } = options;
  // With no grace, everything counts as old (the store's clock may run ahead of ours).
  const old = (time: number) => graceMs === 0 || now - time > graceMs;
  let removed = 0;

  // Old candidates are looked up in the index a batch at a time: one query per 1000 blobs.
  let candidates: Array<{ blobId: string; key: string }> = [];
  const removeUnknown = async () => {
    const known = await knownBlobs(candidates.map((candidate) => candidate.blobId));
    const orphans = candidates.filter((candidate) => !known.has(candidate.blobId)).map((candidate) => candidate.key);
    await bucket.deleteAll(orphans);
    removed += orphans.length;
    candidates = [];
  };
  for await (const object of bucket.list(layout.blobsPrefix)) {
    const blobId = layout.blobIdOf(object.key);
    if (blobId === undefined || !old(object.lastModified)) continue;
    candidates.push({ blobId, key: object.key });
    if (candidates.length >= SWEEP_BATCH) await removeUnknown();
  }
  if (candidates.length > 0) await removeUnknown();

  const open = new Map<string, boolean>();
  const stale: string[] = [];
  for await (const object of bucket.list(layout.uploadsPrefix)) {
    const uploadId = layout.uploadIdOf(object.key);
    if (uploadId === undefined || !old(object.lastModified)) continue;
    let isOpen = open.get(uploadId);
    if (isOpen === undefined) {
      isOpen = await isUploadOpen(uploadId);
      open.set(uploadId, isOpen);
    }
    if (!isOpen) stale.push(object.key);
  }
  await bucket.deleteAll(stale);

  for await (const upload of bucket.listMultipart(layout.blobsPrefix)) {
    const blobId = layout.blobIdOf(upload.key);
    if (blobId === undefined || !old(upload.initiated) || (await knownBlobs([blobId])).has(blobId)) continue;
    await bucket.abortMultipart(upload.key, upload.multipartId);
    removed++;
  }
  return removed;
}
