import { createHash } from 'node:crypto';
import type { Backend, ObjectRef, WriteCondition } from '../backends/backend.js';
import { PartChangedError } from '../backends/composite.js';
import { assertCondition } from '../backends/conditions.js';
import { isStowageError } from '../errors.js';
import type { PausePoint } from '../failpoints.js';
import { type ChecksumClaim, type ListedPart, objectChecksumOf } from './multipart-checksum.js';
import { findUploadRow, internal, listPartRows, MULTIPART, partEtag, partKey, partPrefix, uploadKey } from './multipart-rows.js';
import { contentOf, type S3ChecksumAttribute, withContent } from './object-attributes.js';
import { withMd5Etag } from './object-etags.js';
import type { ObjectService } from './object-service.js';
import { RuleError, ruleErrors } from './rule-error.js';

const MIN_PART_BYTES = 5 * 1024 * 1024;

/** A part a completion lists: its number, its ETag (unquoted) and the checksums it names. */
export interface RequestedPart extends ListedPart {
  readonly etag: string;
}

export interface CompletionRequest {
  /** In ascending order, each number once. */
  readonly parts: readonly RequestedPart[];
  /** The write's condition, asked for once the parts are checked (a failed condition is answered after them). */
  readonly condition: () => Promise<WriteCondition | undefined>;
  readonly checksum: ChecksumClaim;
  /** Told of a completed upload's row that could not be removed (it only lists until it expires). */
  readonly onCleanupError?: ((error: unknown) => void) | undefined;
}

/** The result of a completion: the object's ETag (unquoted) and checksum, and the bytes it wrote (0: an earlier completion's). */
export interface CompletedUpload {
  readonly etag: string;
  readonly checksum: S3ChecksumAttribute | undefined;
  readonly bytesWritten: number;
  /** The object's version id (S3's x-amz-version-id of the completion). */
  readonly versionId?: string | undefined;
}

/**
 * A completion checked: its result at once (a completion sent again finds the object it made), or
 * the assembly, under way, which runs to its end whether or not the caller still waits.
 */
export type Completion = { readonly result: CompletedUpload } | { readonly finishing: Promise<CompletedUpload> };

/** A part as the completion checked it: its number, and the bytes it held (by sha256 and size). */
interface CheckedPart {
  readonly number: number;
  readonly sha256: string;
  readonly size: number;
}

interface Engine {
  readonly backend: Backend;
  readonly objects: ObjectService;
  readonly clock: () => number;
  readonly pause: PausePoint;
  readonly maxObjectBytes: number;
}

/**
 * Completes a multipart upload. The parts are checked against the request's list, then the object
 * is committed as a composite of their values (no byte copied: it names their blobs), in the
 * commit that removes their rows (the quota sees the object replace its parts). The commit reads
 * each part's row and finds the bytes that were checked: a part uploaded again in between fails
 * the completion (InvalidPart, nothing stored, the upload kept) instead of putting its bytes
 * under the ETag the client listed.
 *
 * A completion runs to its end once begun, whether or not its client still listens: the object
 * records the upload that made it, so a completion sent again with the same list (its answer was
 * lost, or its client gave up waiting) gets the result, as S3 answers it, and so does one that
 * raced it and found the parts already taken.
 */
export async function completeUpload(engine: Engine, ref: ObjectRef, uploadId: string, request: CompletionRequest): Promise<Completion> {
  const etag = multipartEtag(request.parts.map((want) => want.etag));
  let checked: Awaited<ReturnType<typeof checkParts>>;
  try {
    checked = await checkParts(engine, ref, uploadId, request);
  } catch (error) {
    return { result: await completedBefore(engine, ref, uploadId, etag, error) };
  }
  const { upload, parts, condition, checksum } = checked;
  // The upload's row names the algorithm its parts use; the object gets the checksum they make.
  const uploadAttributes = withContent(upload.attributes, { s3Checksum: undefined });
  const sizes = parts.map((part) => part.size);
  const assemble = async (): Promise<CompletedUpload> => {
    await engine.pause('multipart.after-check');
    const info = await engine.backend
      .compose(
        ref,
        parts.map((part) => ({ ref: internal(ref.tenant, partKey(upload.uploadId, part.number)), sha256: part.sha256, size: part.size })),
        {
          contentType: upload.contentType,
          expiresAt: await engine.objects.expiresAtFor(ref),
          maxBytes: engine.maxObjectBytes,
          now: engine.clock(),
          purgeAfter: await engine.objects.purgeAfterFor(ref),
          condition,
          attributes: withContent(withMd5Etag(uploadAttributes, etag, checksum), {
            parts: parts.length,
            ...uniformPartSize(sizes),
            s3UploadId: upload.uploadId,
          }),
          // The parts go in the object's commit: the quota sees the object replace them, not join them.
          releases: { type: MULTIPART, prefix: partPrefix(upload.uploadId) },
        },
      )
      .catch((error: unknown) => {
        if (error instanceof PartChangedError) {
          const number = parts[error.index]?.number;
          throw ruleErrors.invalidPart(`Part ${number} changed after the completion checked it; nothing was stored`);
        }
        throw error;
      });
    // The object is committed: an upload row left behind (a failed delete) only lists until it expires.
    await engine.backend
      .delete(internal(ref.tenant, uploadKey(ref.type, ref.key, upload.uploadId)), engine.clock())
      .catch((error: unknown) => request.onCleanupError?.(error));
    return { etag, checksum, bytesWritten: info.size, versionId: info.versionId };
  };
  return { finishing: assemble().catch((error: unknown) => completedBefore(engine, ref, upload.uploadId, etag, error)) };
}

/**
 * The upload and the parts the request names, checked as S3 checks them: each part's ETag, then
 * the sizes; and a condition that already fails, answered with its status before any byte is
 * copied (the commit checks it again, atomically).
 */
async function checkParts(engine: Engine, ref: ObjectRef, uploadId: string, request: CompletionRequest) {
  const requested = request.parts;
  const upload = await findUploadRow(engine.backend, ref, uploadId, engine.clock());
  const rows = await listPartRows(engine.backend, ref.tenant, upload.uploadId, engine.clock());
  const found = requested.map((want, i) => {
    const row = rows.get(want.number);
    if (!row || partEtag(row) !== want.etag) throw ruleErrors.invalidPart();
    if (i < requested.length - 1 && row.size < MIN_PART_BYTES) throw ruleErrors.entityTooSmall();
    return row;
  });
  const parts = found.map(
    (row, i): CheckedPart => ({ number: (requested[i] as RequestedPart).number, sha256: row.sha256, size: row.size }),
  );
  const checksum = await objectChecksumOf(
    contentOf(upload.attributes).s3Checksum,
    requested,
    found.map((row) => ({ size: row.size, checksum: contentOf(row.attributes).s3Checksum })),
    request.checksum,
  );
  const condition = await request.condition();
  if (condition) assertCondition((await engine.backend.head(ref, engine.clock()))?.etag, condition);
  return { upload, parts, condition, checksum };
}

/**
 * The result of this upload's completion when the object at `ref` is what it made, with the
 * ETag of this part list: a completion sent again, or one that raced another and found the
 * upload, its parts or the condition gone. Otherwise `error`, as it was.
 */
async function completedBefore(engine: Engine, ref: ObjectRef, uploadId: string, etag: string, error: unknown): Promise<CompletedUpload> {
  const code = error instanceof RuleError || isStowageError(error) ? error.code : undefined;
  if (code === 'NoSuchUpload' || code === 'InvalidPart' || code === 'PreconditionFailed') {
    const found = await engine.backend.head(ref, engine.clock());
    const made = contentOf(found?.attributes);
    if (made.s3UploadId === uploadId && made.s3Etag === etag)
      return { etag, checksum: made.s3Checksum, bytesWritten: 0, versionId: found?.versionId };
  }
  throw error;
}

/** `{ partSize }` when every part but the last has the same size and the last is no larger: part N's bytes are then known. */
function uniformPartSize(sizes: readonly number[]): { partSize?: number } {
  const [first = 0] = sizes;
  const uniform = sizes.every((size, i) => (i < sizes.length - 1 ? size === first : size <= first && size > 0));
  return uniform && first > 0 ? { partSize: first } : {};
}

/** S3's ETag of a multipart upload: the MD5 of its parts' binary ETags, then `-` and their count. */
export function multipartEtag(partEtags: readonly string[]): string {
  const md5 = createHash('md5');
  for (const etag of partEtags) md5.update(Buffer.from(etag, 'hex'));
  return `${md5.digest('hex')}-${partEtags.length}`;
}
