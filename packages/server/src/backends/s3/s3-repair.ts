import type { S3Bucket } from './s3-bucket.js';
import type { S3Layout } from './s3-layout.js';
import type { StagedPart } from './s3-staging.js';

/** S3's smallest part, except the last. */
const MIN_PART_BYTES = 5 * 1024 * 1024;

/** Where the recorded parts' bytes lie in a blob completed with stray parts among them. */
interface RepairLayout {
  readonly blobId: string;
  /** The size of the blob with the strays. */
  readonly total: number;
  /** Byte ranges (first, last; inclusive) of the recorded parts, in order. */
  readonly ranges: readonly (readonly [number, number])[];
}

const repairKey = (layout: S3Layout, uploadId: string) => layout.stagedKey(uploadId, 'repair.json');

/**
 * Completes a multipart upload that holds parts its staging does not record. Such a "stray" is
 * the part of a chunk attempt that lost its session to a newer one but still reached the store.
 * AWS completes with the recorded parts and drops the rest; Ceph RGW refuses any list that does
 * not name every part it holds (InvalidPart). Then: strays too small to sit between parts are
 * overwritten with zeros, the upload is completed with every part, and the blob is rebuilt in
 * place from the recorded parts' byte ranges by a multipart copy onto its own key. The ranges
 * are kept under the upload's staging prefix first, so an assembly cut short can finish later.
 */
export async function completeAroundStrays(
  bucket: S3Bucket,
  layout: S3Layout,
  options: { uploadId: string; blobId: string; multipartId: string; parts: readonly StagedPart[] },
): Promise<'completed' | 'gone'> {
  const { uploadId, blobId, multipartId, parts } = options;
  const key = layout.blobKey(blobId);
  const held = await bucket.listParts(key, multipartId);
  if (!held) return 'gone';
  const recorded = new Map(parts.map((part) => [part.partNumber, part]));
  for (const part of parts) {
    const found = held.find((h) => h.partNumber === part.partNumber);
    if (!found || unquote(found.etag) !== unquote(part.etag) || found.size !== part.size) {
      throw new Error(`upload ${uploadId}: part ${part.partNumber} is not the one recorded; the upload cannot complete`);
    }
  }
  if (held.length === parts.length) throw new Error(`upload ${uploadId}: the store refused its parts, and it holds no others`);

  const all = held.map((part) => ({ ...part }));
  for (const [i, part] of all.entries()) {
    if (i === all.length - 1 || part.size >= MIN_PART_BYTES) continue;
    if (recorded.has(part.partNumber)) throw new Error(`upload ${uploadId}: part ${part.partNumber} is too small to precede another`);
    part.etag = await bucket.uploadPartBuffer({ key, multipartId, partNumber: part.partNumber, body: Buffer.alloc(MIN_PART_BYTES) });
    part.size = MIN_PART_BYTES;
  }
  const ranges: [number, number][] = [];
  let offset = 0;
  for (const part of all) {
    if (recorded.has(part.partNumber)) ranges.push([offset, offset + part.size - 1]);
    offset += part.size;
  }
  const repair: RepairLayout = { blobId, total: offset, ranges };
  await bucket.putBuffer(repairKey(layout, uploadId), Buffer.from(JSON.stringify(repair)));
  if (!(await bucket.completeMultipart(key, multipartId, all))) return 'gone';
  await copyRanges(bucket, key, repair);
  return 'completed';
}

/**
 * Finishes a repair that was cut short: the blob still has the strays' size and the ranges were
 * kept. True when it rebuilt the blob.
 */
export async function resumeRepair(
  bucket: S3Bucket,
  layout: S3Layout,
  options: { uploadId: string; blobId: string; held: number },
): Promise<boolean> {
  const saved = await bucket.getBuffer(repairKey(layout, options.uploadId));
  if (!saved) return false;
  const repair = JSON.parse(saved.toString('utf8')) as RepairLayout;
  if (repair.blobId !== options.blobId || repair.total !== options.held) return false;
  await copyRanges(bucket, layout.blobKey(options.blobId), repair);
  return true;
}

/** Rewrites `key` with only the given ranges of itself (the old bytes stay readable until Complete). */
async function copyRanges(bucket: S3Bucket, key: string, repair: RepairLayout): Promise<void> {
  const multipartId = await bucket.createMultipart(key);
  try {
    const parts: { partNumber: number; etag: string }[] = [];
    for (const [i, [start, end]] of repair.ranges.entries()) {
      parts.push({ partNumber: i + 1, etag: await bucket.copyPart({ key, multipartId, partNumber: i + 1, source: key, start, end }) });
    }
    if (!(await bucket.completeMultipart(key, multipartId, parts))) throw new Error(`the multipart copy onto ${key} vanished`);
  } catch (error) {
    await bucket.abortMultipart(key, multipartId).catch(() => {});
    throw error;
  }
}

function unquote(etag: string): string {
  return etag.replace(/^"|"$/g, '');
}
