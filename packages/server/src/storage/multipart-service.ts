import { createHash, type Hash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { Backend, ObjectAttributes, ObjectBody, ObjectInfo, ObjectRef, ReadPlan } from '../backends/backend.js';
import { keyAfter, prefixUpperBound } from '../backends/key-range.js';
import type { PausePoint } from '../failpoints.js';
import type { UploadExpiry } from './bucket-expiry.js';
import { type ChecksumAlgorithm, type Digest, newDigest } from './checksums.js';
import { type Completion, type CompletionRequest, completeUpload } from './multipart-completion.js';
import {
  findUploadRow,
  internal,
  listPartRows,
  MAX_LISTED,
  MULTIPART,
  partEtag,
  partKey,
  partPrefix,
  UPLOAD_LIFETIME_MS,
  type UploadRecord,
  uploadBase,
  uploadKey,
} from './multipart-rows.js';
import { contentOf, type S3ChecksumAttribute, withContent } from './object-attributes.js';
import { withMd5Etag } from './object-etags.js';
import type { ObjectService } from './object-service.js';
import { ruleErrors } from './rule-error.js';

export type { CompletedUpload, Completion, CompletionRequest, RequestedPart } from './multipart-completion.js';
export type { UploadRecord } from './multipart-rows.js';

export interface MultipartServiceOptions {
  readonly maxObjectBytes: number;
  readonly clock: () => number;
  /** Where a test holds an operation at a named step (failpoints.ts). */
  readonly pause: PausePoint;
}

/** A stored part: its ETag (unquoted), its checksum when it has one, and when it was written. */
export interface PartResult {
  readonly etag: string;
  readonly checksum: S3ChecksumAttribute | undefined;
  readonly lastModified: number;
}

export interface ListedPartRow extends PartResult {
  readonly number: number;
  readonly size: number;
}

export interface PartsPage {
  readonly uploadId: string;
  /** The checksum the upload's creation named (its value empty). */
  readonly checksum: S3ChecksumAttribute | undefined;
  readonly parts: ListedPartRow[];
  readonly truncated: boolean;
  readonly nextMarker: number | undefined;
}

export interface UploadsQuery {
  readonly prefix: string;
  readonly delimiter: string | undefined;
  readonly maxUploads: number;
  readonly keyMarker: string;
  readonly uploadIdMarker: string;
}

export interface UploadsPage {
  readonly uploads: Array<{ key: string; uploadId: string; initiated: number }>;
  readonly prefixes: string[];
  readonly truncated: boolean;
  readonly nextKeyMarker: string;
  readonly nextUploadIdMarker: string;
}

/** A part's bytes as a front received them, and the digests it computed of them once read. */
export interface PartBody {
  readonly body: Readable;
  readonly length: number | undefined;
  readonly signal: AbortSignal | undefined;
  readonly expectedSha256: string | undefined;
  /** Known once the body has been read in full: its MD5 (hex) and the checksum the upload's algorithm asks for. */
  readonly digests: () => { md5: string; checksum: S3ChecksumAttribute | undefined };
}

/** A part copied from an object: the whole source, or bytes `range` of it; `checkSource` judges the version copied. */
export interface PartCopy {
  readonly source: ObjectRef;
  /** A version of the source (current or kept by retention) instead of its current value. */
  readonly sourceVersionId?: string | undefined;
  readonly range: { start: number; end: number } | undefined;
  readonly checkSource: ((source: ObjectInfo) => void) | undefined;
}

/**
 * Multipart uploads (S3's resumable upload mechanism) over the engine's primitives: an upload is
 * a row of an internal storage type and each part a row of its own (multipart-rows.ts), so parts
 * are written, copied without their bytes, listed, expired and collected as objects are, and
 * completion assembles the checked parts into the object's blob in one commit that releases them.
 */
export class MultipartService {
  constructor(
    private readonly backend: Backend,
    private readonly objects: ObjectService,
    private readonly options: MultipartServiceOptions,
  ) {}

  /**
   * Opens an upload of `ref`; its parts will be checksummed with `checksum`'s algorithm when it
   * names one. Its id, and when it goes unless completed (by a lifecycle rule: `expiry.ruleId`).
   */
  async create(
    ref: ObjectRef,
    upload: { contentType: string | undefined; attributes: ObjectAttributes | null; checksum: S3ChecksumAttribute | undefined },
  ): Promise<{ uploadId: string; expiry: UploadExpiry }> {
    const uploadId = randomBytes(16).toString('hex');
    const now = this.options.clock();
    const { attributes, checksum } = upload;
    // The upload's parts expire with it (uploadPart): the bucket's AbortIncompleteMultipartUpload, or the server's lifetime.
    const expiry = await this.objects.incompleteUploadExpiresAtFor(ref, UPLOAD_LIFETIME_MS);
    await this.backend.write(internal(ref.tenant, uploadKey(ref.type, ref.key, uploadId)), Readable.from([]), {
      contentType: upload.contentType ?? 'application/octet-stream',
      expiresAt: expiry.expiresAt,
      maxBytes: 0,
      expectedBytes: 0,
      signal: undefined,
      now,
      attributes: checksum ? withContent(attributes, { s3Checksum: checksum }) : attributes,
    });
    return { uploadId, expiry };
  }

  /** The open upload `uploadId` of `ref`; NoSuchUpload when there is none. */
  findUpload(ref: ObjectRef, uploadId: string): Promise<UploadRecord> {
    return findUploadRow(this.backend, ref, uploadId, this.options.clock());
  }

  /** The algorithm every part of an upload is checksummed with, when its creation named one. */
  static algorithmOf(upload: UploadRecord): ChecksumAlgorithm | undefined {
    return contentOf(upload.attributes).s3Checksum?.algorithm as ChecksumAlgorithm | undefined;
  }

  /** Stores part `number` of `upload` from a body (replacing any part of that number). */
  async uploadPart(upload: UploadRecord, ref: ObjectRef, number: number, part: PartBody): Promise<PartResult> {
    const info = await this.backend.write(internal(ref.tenant, partKey(upload.uploadId, number)), part.body, {
      contentType: 'application/octet-stream',
      expiresAt: upload.expiresAt,
      maxBytes: this.options.maxObjectBytes,
      expectedBytes: part.length,
      signal: part.signal,
      now: this.options.clock(),
      expectedSha256: part.expectedSha256,
      attributes: () => {
        const { md5, checksum } = part.digests();
        return withMd5Etag(null, md5, checksum);
      },
    });
    return partResultOf(info);
  }

  /**
   * UploadPartCopy: a whole source is referenced (no bytes move); a range is read and written. The
   * copy-source check is judged on the source version copied, as for a copied object. A part of an
   * upload created with a checksum algorithm needs that algorithm's checksum of its bytes: a whole
   * source that carries it (FULL_OBJECT) gives it, any other is read like a range to compute it.
   */
  async copyPart(upload: UploadRecord, ref: ObjectRef, number: number, copy: PartCopy): Promise<PartResult> {
    const target = internal(ref.tenant, partKey(upload.uploadId, number));
    const { source, sourceVersionId, range, checkSource } = copy;
    const algorithm = MultipartService.algorithmOf(upload);
    await this.options.pause('copy.before-copy');
    if (range === undefined) {
      const needsBytes = new Error("the source does not carry the upload's checksum");
      try {
        return partResultOf(
          await this.backend.transferKey({
            from: source,
            fromVersionId: sourceVersionId,
            to: target,
            move: false,
            overwrite: true,
            condition: undefined,
            checkSource: (info) => {
              checkSource?.(info);
              const carried = contentOf(info.attributes).s3Checksum;
              if (algorithm && (carried?.algorithm !== algorithm || carried.type !== 'FULL_OBJECT')) throw needsBytes;
            },
            now: this.options.clock(),
            // The part goes with its upload, whatever the source's own expiry.
            expiresAtIfNone: upload.expiresAt,
            expiresAt: upload.expiresAt,
          }),
        );
      } catch (error) {
        if (error !== needsBytes) throw error;
      }
    }
    // The conditions are judged on the row whose bytes are read.
    let size = 0;
    const plan = (info: ObjectInfo): ReadPlan => {
      checkSource?.(info);
      if (!range) {
        size = info.size;
        return { kind: 'all' };
      }
      // As S3 answers a range past the source's end.
      if (range.end >= info.size) throw ruleErrors.invalidRange(info.size);
      size = range.end - range.start + 1;
      return { kind: 'range', start: range.start, end: range.end };
    };
    const found =
      sourceVersionId === undefined ? await this.objects.read(source, plan) : await this.objects.readVersion(source, sourceVersionId, plan);
    const digests: CopiedDigests = { md5: createHash('md5'), checksum: algorithm ? newDigest(algorithm) : undefined };
    const info = await this.backend.write(target, Readable.from(digested(digests, found.body)), {
      contentType: 'application/octet-stream',
      expiresAt: upload.expiresAt,
      maxBytes: this.options.maxObjectBytes,
      expectedBytes: size,
      signal: undefined,
      now: this.options.clock(),
      attributes: () =>
        withMd5Etag(
          null,
          digests.md5.digest('hex'),
          algorithm && digests.value !== undefined ? { algorithm, type: 'FULL_OBJECT', value: digests.value } : undefined,
        ),
    });
    return partResultOf(info);
  }

  /** A page of the upload's parts after part number `marker`. */
  async listParts(ref: ObjectRef, uploadId: string, page: { marker: number; max: number }): Promise<PartsPage> {
    const upload = await this.findUpload(ref, uploadId);
    const rows = await listPartRows(this.backend, ref.tenant, upload.uploadId, this.options.clock());
    const all = [...rows.entries()].filter(([number]) => number > page.marker);
    const parts = all.slice(0, page.max).map(([number, row]): ListedPartRow => ({ number, size: row.size, ...partResultOf(row) }));
    const truncated = all.length > page.max;
    return {
      uploadId: upload.uploadId,
      checksum: contentOf(upload.attributes).s3Checksum,
      parts,
      truncated,
      nextMarker: truncated ? parts.at(-1)?.number : undefined,
    };
  }

  /**
   * The open uploads of a bucket: under a prefix, grouped by a delimiter, paged by key and
   * upload id markers (uploads of one key in upload id order).
   */
  async listUploads(tenant: string, bucket: string, query: UploadsQuery): Promise<UploadsPage> {
    const { prefix, delimiter, keyMarker, uploadIdMarker } = query;
    const base = uploadBase(bucket);
    let start: Buffer = Buffer.from(`${base}${prefix}`);
    if (keyMarker !== '') {
      const marker = Buffer.from(`${base}${keyMarker}`);
      // After the marker's upload; after every upload of the key; or past a common prefix.
      const resume =
        uploadIdMarker !== ''
          ? keyAfter(Buffer.from(`${base}${keyMarker}\u0000${uploadIdMarker}`))
          : delimiter !== undefined && keyMarker.endsWith(delimiter)
            ? (prefixUpperBound(marker) ?? keyAfter(marker))
            : Buffer.concat([marker, Buffer.from([1])]);
      if (Buffer.compare(resume, start) > 0) start = resume;
    }
    const page = await this.backend.listFolder({
      tenant,
      type: MULTIPART,
      prefix: `${base}${prefix}`,
      delimiter,
      details: true,
      start,
      limit: Math.min(Math.max(query.maxUploads, 1), MAX_LISTED),
      now: this.options.clock(),
    });
    const uploads: UploadsPage['uploads'] = [];
    const prefixes: string[] = [];
    let nextKey = '';
    let nextUploadId = '';
    for (const entry of page.entries) {
      if (entry.kind === 'folder') {
        prefixes.push(entry.prefix.slice(base.length));
        [nextKey, nextUploadId] = [entry.prefix.slice(base.length), ''];
        continue;
      }
      const [key = '', uploadId = ''] = entry.key.slice(base.length).split('\u0000');
      uploads.push({ key, uploadId, initiated: entry.row?.lastModified ?? 0 });
      [nextKey, nextUploadId] = [key, uploadId];
    }
    return { uploads, prefixes, truncated: page.next !== undefined, nextKeyMarker: nextKey, nextUploadIdMarker: nextUploadId };
  }

  /** Removes the upload and its parts; NoSuchUpload when there is none. */
  async abort(ref: ObjectRef, uploadId: string): Promise<void> {
    const upload = await this.findUpload(ref, uploadId);
    await this.backend.deletePrefix(ref.tenant, MULTIPART, partPrefix(upload.uploadId), this.options.clock());
    await this.backend.delete(internal(ref.tenant, uploadKey(ref.type, ref.key, upload.uploadId)), this.options.clock());
  }

  /** Completes the upload with the parts the request lists (multipart-completion.ts). */
  complete(ref: ObjectRef, uploadId: string, request: CompletionRequest): Promise<Completion> {
    return completeUpload(
      {
        backend: this.backend,
        clock: this.options.clock,
        pause: this.options.pause,
        maxObjectBytes: this.options.maxObjectBytes,
        objects: this.objects,
      },
      ref,
      uploadId,
      request,
    );
  }
}

function partResultOf(info: Pick<ObjectInfo, 'sha256' | 'attributes' | 'lastModified'>): PartResult {
  return { etag: partEtag(info), checksum: contentOf(info.attributes).s3Checksum, lastModified: info.lastModified };
}

interface CopiedDigests {
  readonly md5: Hash;
  readonly checksum: Digest | undefined;
  /** The checksum's base64 value, once the body has been read. */
  value?: string;
}

/** The bytes of a body as they pass through the digests. */
async function* digested(digests: CopiedDigests, body: ObjectBody | undefined): AsyncGenerator<Buffer> {
  for await (const chunk of Buffer.isBuffer(body) ? [body] : ((body ?? []) as AsyncIterable<Buffer>)) {
    digests.md5.update(chunk);
    digests.checksum?.update(chunk);
    yield chunk;
  }
  if (digests.checksum) digests.value = (await digests.checksum.digest()).toString('base64');
}
