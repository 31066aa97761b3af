import type { PutBlobOptions } from '../blob-store.js';
import { exactly, handedOver, PieceReader, untilAborted } from './s3-bodies.js';
import type { S3Bucket } from './s3-bucket.js';
import { mapStoreError } from './s3-errors.js';

/** Bodies of known length up to this go in one streamed PutObject; longer or unknown ones in parts. */
export const SINGLE_PUT_MAX_BYTES = 16 * 1024 * 1024;
const PART_BYTES = 8 * 1024 * 1024;
const MAX_PARTS = 10_000;
/** Parts sent at once (unanswered). A body of unknown length holds at most this many parts in memory. */
const PART_QUEUE = 2;

/**
 * Stores a blob: one streamed PutObject when the length is known and small, else a multipart
 * upload in parts of 8 MiB (or more, to stay within 10,000 parts), two in flight. An aborted
 * signal or a failed body aborts the upload and leaves no object.
 */
export async function putBlob(bucket: S3Bucket, key: string, { body, size, signal }: PutBlobOptions): Promise<void> {
  if (size === 0) {
    for await (const chunk of untilAborted(body, signal))
      if (chunk.length > 0) throw new Error('the body holds more than the 0 bytes announced');
    await bucket.putEmpty(key);
    if (signal?.aborted) {
      await bucket.deleteQuietly(key);
      throw signal.reason;
    }
    return;
  }
  if (size !== undefined && size <= SINGLE_PUT_MAX_BYTES) return bucket.putStream(key, body, size, signal);
  return putInParts(bucket, key, body, size, signal);
}

/**
 * A multipart upload whose parts are UploadParts of streamed bodies of known length, so that no
 * layer copies a part whole. With a known size each part streams straight from the body (nothing
 * held); with an unknown one a part's length is known only once its bytes are in, so each part is
 * gathered as the chunks that came (not copied into one buffer) and let go of as it is sent: at
 * most PART_QUEUE parts are in memory. A failed part or body, or the caller's abort, stops the
 * parts in flight, waits for them and aborts the multipart upload.
 */
async function putInParts(
  bucket: S3Bucket,
  key: string,
  body: AsyncIterable<Buffer>,
  size: number | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  signal?.throwIfAborted();
  const partBytes = size === undefined ? PART_BYTES : Math.max(PART_BYTES, Math.ceil(size / MAX_PARTS));
  // Aborted by the caller's signal or by the first failure: stops the parts in flight, and the
  // reading of a body that stalls.
  const controller = new AbortController();
  const stop = () => controller.abort(signal?.reason);
  signal?.addEventListener('abort', stop, { once: true });
  let bodyError: unknown;
  async function* source() {
    try {
      const fed = untilAborted(body, controller.signal);
      yield* size === undefined ? fed : exactly(fed, size, 'the body');
    } catch (error) {
      bodyError = error;
      throw error;
    }
  }
  const upload = new PartSender(bucket, key, controller);
  try {
    const reader = new PieceReader(source());
    if (size === undefined) {
      const first = await reader.gather(partBytes);
      // A body of one part at most: one PutObject.
      if (await reader.atEnd()) return await bucket.putStream(key, handedOver(first.chunks), first.length, controller.signal);
      await upload.start();
      let piece = first;
      let last = false;
      for (let partNumber = 1; ; partNumber++) {
        if (partNumber > MAX_PARTS) throw new Error(`the body holds more than ${MAX_PARTS} parts of ${partBytes} bytes`);
        upload.send(partNumber, handedOver(piece.chunks), piece.length);
        // The next part is gathered only while fewer than PART_QUEUE are unanswered.
        if (last || (await upload.queueBelow(PART_QUEUE))) break;
        piece = await reader.gather(partBytes);
        last = await reader.atEnd();
      }
    } else {
      await upload.start();
      const count = Math.ceil(size / partBytes);
      for (let partNumber = 1; partNumber <= count; partNumber++) {
        const length = Math.min(partBytes, size - (partNumber - 1) * partBytes);
        // The next part reads on where this one stops: it starts once this one has read its last byte.
        let pulled = () => {};
        const read = new Promise<void>((resolve) => {
          pulled = resolve;
        });
        const piece = (async function* () {
          try {
            yield* reader.take(length);
          } finally {
            pulled();
          }
        })();
        const sent = upload.send(partNumber, piece, length);
        await Promise.race([read, sent]);
        if (await upload.queueBelow(PART_QUEUE)) break;
      }
      // Reads past the last byte: a body longer than announced fails here.
      if (!upload.failed && !(await reader.atEnd())) throw new Error(`the body holds more than the ${size} bytes announced`);
    }
    await upload.complete();
  } catch (error) {
    await upload.abort(error);
    throw bodyError ?? (signal?.aborted ? signal.reason : mapStoreError(error));
  } finally {
    signal?.removeEventListener('abort', stop);
  }
  if (signal?.aborted) {
    await bucket.deleteQuietly(key);
    throw signal.reason;
  }
}

/** The parts of one multipart upload: sent, counted while unanswered, and completed or aborted. */
class PartSender {
  private multipartId: string | undefined;
  private readonly parts: { partNumber: number; etag: string }[] = [];
  private readonly sending = new Set<Promise<void>>();
  private failure: { error: unknown } | undefined;

  constructor(
    private readonly bucket: S3Bucket,
    private readonly key: string,
    private readonly controller: AbortController,
  ) {}

  get failed(): boolean {
    return this.failure !== undefined;
  }

  async start(): Promise<void> {
    this.multipartId = await this.bucket.createMultipart(this.key);
  }

  /** Starts sending a part; the promise settles when it is answered, and never rejects (see `failed`). */
  send(partNumber: number, body: AsyncIterable<Buffer>, length: number): Promise<void> {
    const multipartId = this.multipartId;
    if (multipartId === undefined) throw new Error('no multipart upload was started');
    const sent: Promise<void> = this.bucket
      .uploadPartStream({ key: this.key, multipartId, partNumber, body, length, signal: this.controller.signal })
      .then(
        (etag) => {
          this.parts.push({ partNumber, etag });
        },
        (error: unknown) => {
          this.failure ??= { error };
          this.controller.abort(error);
        },
      )
      .finally(() => this.sending.delete(sent));
    this.sending.add(sent);
    return sent;
  }

  /** Waits until fewer than `limit` parts are unanswered; true when a part failed (then stop sending). */
  async queueBelow(limit: number): Promise<boolean> {
    while (this.sending.size >= limit && !this.failure) await Promise.race(this.sending);
    return this.failed;
  }

  /** Waits for every part, then completes the upload; rejects with the first part's failure. */
  async complete(): Promise<void> {
    await Promise.all([...this.sending]);
    if (this.failure) throw this.failure.error;
    const multipartId = this.multipartId;
    if (multipartId === undefined) throw new Error('no multipart upload was started');
    this.parts.sort((a, b) => a.partNumber - b.partNumber);
    let completed: boolean;
    try {
      completed = await this.bucket.completeMultipart(this.key, multipartId, this.parts);
    } catch (error) {
      // The store may have made the object although the answer failed.
      await this.bucket.cleanUp(error, () => this.bucket.deleteQuietly(this.key));
      throw error;
    }
    this.multipartId = undefined;
    if (!completed) throw new Error(`the multipart upload of ${this.key} was gone before it was completed`);
  }

  /** Stops the parts in flight, waits for them (none may land later) and aborts the upload. */
  async abort(reason: unknown): Promise<void> {
    this.controller.abort(reason);
    await Promise.all([...this.sending]);
    const multipartId = this.multipartId;
    this.multipartId = undefined;
    // Best effort: the orphan sweep aborts a multipart upload whose blob nothing names.
    if (multipartId !== undefined)
      await this.bucket.cleanUp(reason, () => this.bucket.abortMultipart(this.key, multipartId).catch(() => {}));
  }
}
