import { Readable } from 'node:stream';
import { Upload } from '@aws-sdk/lib-storage';
import type { PutBlobOptions } from '../blob-store.js';
import { exactly, untilAborted } from './s3-bodies.js';
import type { S3Bucket } from './s3-bucket.js';
import { mapStoreError } from './s3-errors.js';

/** Bodies of known length up to this go in one streamed PutObject; longer or unknown ones in parts. */
export const SINGLE_PUT_MAX_BYTES = 16 * 1024 * 1024;
const PART_BYTES = 8 * 1024 * 1024;
const MAX_PARTS = 10_000;
/** Parts in flight at once: memory per write is about (queue + 1) × part size. */
const PART_QUEUE = 2;

/**
 * Stores a blob: one streamed PutObject when the length is known and small, else a multipart
 * upload (lib-storage) in parts of 8 MiB, two in flight. An aborted signal or a failed body
 * aborts the upload and leaves no object.
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

async function putInParts(
  bucket: S3Bucket,
  key: string,
  body: AsyncIterable<Buffer>,
  size: number | undefined,
  signal: AbortSignal | undefined,
): Promise<void> {
  signal?.throwIfAborted();
  let bodyError: unknown;
  let bodySent = false;
  // An abort makes the body fail: lib-storage then stops feeding parts, waits for those in
  // flight and aborts the multipart upload before `done` rejects. (Its own abort() rejects at
  // once and lets a part or a single PutObject in flight finish after it.)
  async function* source() {
    try {
      const fed = untilAborted(body, signal);
      yield* size === undefined ? fed : exactly(fed, size, 'the body');
      bodySent = true;
    } catch (error) {
      bodyError = error;
      throw error;
    }
  }
  const stream = Readable.from(source(), { objectMode: false });
  // The failure is reported through `bodyError`.
  stream.on('error', () => {});
  const upload = new Upload({
    client: bucket.client,
    params: { Bucket: bucket.name, Key: key, Body: stream, ContentLength: size },
    partSize: size === undefined ? PART_BYTES : Math.max(PART_BYTES, Math.ceil(size / MAX_PARTS)),
    queueSize: PART_QUEUE,
    leavePartsOnError: false,
  });
  try {
    await upload.done();
  } catch (error) {
    // Once every byte went out, the store may have completed the object despite the failure.
    if (bodySent) await bucket.deleteQuietly(key);
    throw bodyError ?? (signal?.aborted ? signal.reason : mapStoreError(error));
  }
  if (signal?.aborted) {
    await bucket.deleteQuietly(key);
    throw signal.reason;
  }
}
