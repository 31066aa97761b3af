import { randomBytes } from 'node:crypto';
import type { AppendChunkOptions, Staging } from '../blob-store.js';
import { concatenated, exactly } from './s3-bodies.js';
import type { S3Bucket } from './s3-bucket.js';
import { isInvalidPart, isNoSuchUpload } from './s3-errors.js';
import type { S3Layout } from './s3-layout.js';
import { completeAroundStrays, resumeRepair } from './s3-repair.js';
import { parseStaging, partBytes, type S3Staging, serializeStaging, stagedBytes } from './s3-staging.js';

/** Staged bytes and a chunk make a part once they reach this (S3's minimum part is 5 MiB). */
export const PART_TARGET_BYTES = 8 * 1024 * 1024;
/**
 * Past 1200 parts of 8 MiB, a part must also hold 1/1200 of what the parts before it hold: parts
 * then grow with the upload, so fewer than 10,000 of them reach 5 TiB (where a part is about
 * 4.3 GiB, under S3's largest of 5 GiB) whatever chunk size the client picked.
 */
const PART_GROWTH_DIVISOR = 1200;
/** The part number for staged leftovers at assembly: the highest, so it sorts last. */
const TAIL_PART_NUMBER = 10_000;

/**
 * Resumable uploads on S3: a chunk that, with the bytes staged before it, reaches 8 MiB (or that
 * ends the upload) becomes a part of the upload's multipart upload, which writes `blobs/{blobId}`;
 * a smaller one is stored as an object of its own under `uploads/{uploadId}/` until then. Every
 * write is one atomic S3 request, so what the staging records is what the store holds.
 */
export class S3Uploads {
  constructor(
    private readonly bucket: S3Bucket,
    private readonly layout: S3Layout,
    private readonly newBlobId: () => string,
  ) {}

  chunkNeedsPart({ staging, length, last }: { staging: Staging; length: number; last: boolean }): boolean {
    const state = parseStaging(staging);
    return last || stagedBytes(state) + length >= partTarget(partBytes(state));
  }

  async appendChunk(options: AppendChunkOptions): Promise<Staging> {
    const { uploadId, offset, length, last, partNumber, signal } = options;
    const state = parseStaging(options.staging);
    if (state.assembled) throw new Error(`upload ${uploadId} is already assembled`);
    // The session moved past the objects the last part copied: no live request reads them now.
    if (state.consumed?.length) {
      await Promise.all(state.consumed.map((name) => this.bucket.deleteQuietly(this.layout.stagedKey(uploadId, name))));
    }
    const body = exactly(options.body, length, `the chunk at ${offset}`);
    if (!this.chunkNeedsPart({ staging: options.staging, length, last })) {
      // Unique per attempt: a retried chunk at the same offset may race an older attempt.
      const name = `${offset}-${randomBytes(8).toString('hex')}`;
      await this.bucket.putStream(this.layout.stagedKey(uploadId, name), body, length, signal);
      return serializeStaging({ ...state, staged: [...state.staged, { name, size: length }], consumed: undefined });
    }

    if (partNumber === undefined) throw new Error(`the chunk at ${offset} of upload ${uploadId} makes a part but has no part number`);
    const lastPart = state.parts.at(-1);
    if (lastPart && partNumber <= lastPart.partNumber) {
      throw new Error(`part number ${partNumber} of upload ${uploadId} does not follow part ${lastPart.partNumber}`);
    }
    let { multipartId, blobId } = state;
    let created = false;
    if (multipartId === undefined || blobId === undefined) {
      blobId = this.newBlobId();
      multipartId = await this.bucket.createMultipart(this.layout.blobKey(blobId));
      created = true;
    }
    const size = stagedBytes(state) + length;
    let etag: string;
    try {
      etag = await this.bucket.uploadPartStream({
        key: this.layout.blobKey(blobId),
        multipartId,
        partNumber,
        body: concatenated([...this.stagedBodies(uploadId, state), async () => body]),
        length: size,
        signal,
      });
    } catch (error) {
      // A multipart upload this attempt made and no staging records: gone with it (else the sweep finds it).
      if (created)
        await this.bucket.cleanUp(error, () => this.bucket.abortMultipart(this.layout.blobKey(blobId), multipartId).catch(() => {}));
      throw error;
    }
    return serializeStaging({
      multipartId,
      blobId,
      parts: [...state.parts, { partNumber, etag, size }],
      staged: [],
      consumed: state.staged.map((object) => object.name),
    });
  }

  async assemble({
    uploadId,
    staging,
    size,
  }: {
    uploadId: string;
    staging: Staging;
    size: number;
  }): Promise<{ blobId: string; staging: Staging }> {
    const state = parseStaging(staging);
    const held = partBytes(state) + stagedBytes(state);
    if (held !== size) throw new Error(`upload ${uploadId} holds ${held} bytes, not ${size}`);
    if (state.assembled && state.blobId) {
      await this.checkBlob(uploadId, state.blobId, size);
      return { blobId: state.blobId, staging };
    }

    if (state.parts.length === 0) {
      // Nothing in parts (an empty upload, or bytes that all stayed staged): one object of the
      // staged bytes under a new id. The staged objects stay until finishUpload, so releasing
      // this blob loses nothing.
      const blobId = this.newBlobId();
      if (size === 0) await this.bucket.putEmpty(this.layout.blobKey(blobId));
      else await this.bucket.putStream(this.layout.blobKey(blobId), concatenated(this.stagedBodies(uploadId, state)), size);
      return { blobId, staging: serializeStaging({ ...state, blobId, assembled: true, consumed: undefined }) };
    }

    const { multipartId, blobId } = state;
    if (multipartId === undefined || blobId === undefined) throw new Error(`upload ${uploadId} has parts but no multipart upload`);
    const key = this.layout.blobKey(blobId);
    const parts = [...state.parts];
    // False once the store no longer knows the multipart upload.
    let completed: boolean | undefined;
    if (state.staged.length > 0) {
      const lastPart = parts.at(-1);
      if (lastPart && lastPart.partNumber >= TAIL_PART_NUMBER)
        throw new Error(`upload ${uploadId} has no part number left for its last bytes`);
      const tail = stagedBytes(state);
      try {
        const etag = await this.bucket.uploadPartStream({
          key,
          multipartId,
          partNumber: TAIL_PART_NUMBER,
          body: concatenated(this.stagedBodies(uploadId, state)),
          length: tail,
        });
        parts.push({ partNumber: TAIL_PART_NUMBER, etag, size: tail });
      } catch (error) {
        if (!isNoSuchUpload(error)) throw error;
        completed = false;
      }
    }
    parts.sort((a, b) => a.partNumber - b.partNumber);
    // The answer's ETag is not used (Ceph RGW 16 sends an empty one): the blob is checked below.
    try {
      completed ??= await this.bucket.completeMultipart(key, multipartId, parts);
    } catch (error) {
      if (!isInvalidPart(error)) throw error;
      completed = (await completeAroundStrays(this.bucket, this.layout, { uploadId, blobId, multipartId, parts })) === 'completed';
    }
    if (!completed) {
      // The store no longer knows the multipart upload: an earlier assembly completed it (and its
      // commit failed, so the blob stayed), and may have been cut short while removing strays.
      const held = await this.bucket.size(key);
      if (held !== undefined && held !== size) await resumeRepair(this.bucket, this.layout, { uploadId, blobId, held });
    }
    await this.checkBlob(uploadId, blobId, size);
    return { blobId, staging: serializeStaging({ ...state, consumed: undefined, assembled: true }) };
  }

  /**
   * After the commit of an assembled blob failed: a blob that staged objects can rebuild goes;
   * one a multipart upload made is the only copy of the bytes, so it stays (the session's
   * staging names it, so no sweep removes it) and the next assembly finds it.
   */
  async releaseAssembled({ blobId, staging }: { uploadId: string; blobId: string; staging: Staging }): Promise<void> {
    const state = parseStaging(staging);
    if (state.multipartId === undefined) await this.bucket.delete(this.layout.blobKey(blobId));
  }

  /** After the commit that adopted the blob: the staged objects go, the blob stays. */
  async finishUpload({ uploadId }: { uploadId: string; staging: Staging }): Promise<void> {
    await this.removeStaged(uploadId);
  }

  /**
   * Cancel or expiry: aborts the multipart upload and removes the staged objects, and the blob
   * when the staging says it was assembled (and so adopted by no row). A blob that a multipart
   * upload completed but that staging does not mark assembled is left to the orphan sweep,
   * which checks the index first.
   */
  async discardUpload({ uploadId, staging }: { uploadId: string; staging: Staging }): Promise<void> {
    const state = parseStaging(staging);
    if (state.multipartId !== undefined && state.blobId !== undefined) {
      await this.bucket.abortMultipart(this.layout.blobKey(state.blobId), state.multipartId);
    }
    await this.removeStaged(uploadId);
    if (state.assembled && state.blobId !== undefined) await this.bucket.delete(this.layout.blobKey(state.blobId));
  }

  /** Every object under `uploads/{uploadId}/`: the staged chunks, and those of attempts that lost. */
  private async removeStaged(uploadId: string): Promise<void> {
    const keys: string[] = [];
    for await (const object of this.bucket.list(this.layout.uploadPrefix(uploadId))) keys.push(object.key);
    await this.bucket.deleteAll(keys);
  }

  private stagedBodies(uploadId: string, state: S3Staging): Array<() => Promise<AsyncIterable<Buffer>>> {
    return state.staged.map((object) => () => this.bucket.read(this.layout.stagedKey(uploadId, object.name), object.size));
  }

  private async checkBlob(uploadId: string, blobId: string, size: number): Promise<void> {
    const held = await this.bucket.size(this.layout.blobKey(blobId));
    if (held === undefined) throw new Error(`upload ${uploadId}: its multipart upload is gone and blob ${blobId} was never made`);
    if (held !== size) throw new Error(`upload ${uploadId}: blob ${blobId} holds ${held} bytes, not ${size}`);
  }
}

/** The size a part must reach, given the bytes already in parts. */
export function partTarget(bytesInParts: number): number {
  return Math.max(PART_TARGET_BYTES, Math.ceil(bytesInParts / PART_GROWTH_DIVISOR));
}
