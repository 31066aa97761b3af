import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { exactly, untilAborted } from './s3-bodies.js';
import { isNoSuchKey, isNoSuchUpload, mapStoreError } from './s3-errors.js';

export interface ListedObject {
  readonly key: string;
  readonly lastModified: number;
  readonly size: number;
}

export interface ListedMultipartUpload {
  readonly key: string;
  readonly multipartId: string;
  readonly initiated: number;
}

/** How many deletes one sweep or cleanup sends at once. */
const DELETE_CONCURRENCY = 8;

/**
 * The S3 operations the blob store uses, on one bucket, with the errors of a store that does not
 * answer mapped to 503 StorageUnavailable. Bodies of known length stream (never buffered), are
 * checked to hold exactly that length, and are sent once: the SDK does not retry a stream.
 */
export class S3Bucket {
  constructor(
    readonly client: S3Client,
    readonly name: string,
    /** How long the answer to a streamed request may take once its last byte went out. */
    private readonly answerTimeoutMs: number,
  ) {}

  async headBucket(signal?: AbortSignal): Promise<void> {
    await this.client.send(new HeadBucketCommand({ Bucket: this.name }), { abortSignal: signal });
  }

  /** The object's size, or undefined when there is no such key. */
  async size(key: string): Promise<number | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.name, Key: key }));
      return head.ContentLength ?? 0;
    } catch (error) {
      if (isNoSuchKey(error)) return undefined;
      throw mapStoreError(error);
    }
  }

  /** Streams the object (or bytes start..end of it); undefined when there is no such key. */
  async get(
    key: string,
    options: { start?: number; end?: number; signal?: AbortSignal | undefined } = {},
  ): Promise<{ body: Readable; length: number | undefined; contentRange: string | undefined } | undefined> {
    const range = options.start !== undefined && options.end !== undefined ? `bytes=${options.start}-${options.end}` : undefined;
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.name, Key: key, Range: range }), {
        abortSignal: options.signal,
      });
      if (!(out.Body instanceof Readable)) throw new Error(`GetObject ${key} answered without a stream body`);
      return { body: out.Body, length: out.ContentLength, contentRange: out.ContentRange };
    } catch (error) {
      if (isNoSuchKey(error)) return undefined;
      throw mapStoreError(error);
    }
  }

  /** The object's bytes; fails (not undefined) when it is missing or not `size` bytes long. */
  async read(key: string, size: number, signal?: AbortSignal): Promise<AsyncIterable<Buffer>> {
    const got = await this.get(key, { signal });
    if (!got) throw new Error(`staged object ${key} is gone`);
    if (got.length !== undefined && got.length !== size) {
      got.body.destroy();
      throw new Error(`staged object ${key} holds ${got.length} bytes, not ${size}`);
    }
    return storeErrorsMapped(got.body);
  }

  /** PutObject of a streamed body of exactly `length` bytes. Leaves no object when it fails. */
  async putStream(key: string, body: AsyncIterable<Buffer>, length: number, signal?: AbortSignal): Promise<void> {
    const sent = await this.sendStream(
      (stream) => new PutObjectCommand({ Bucket: this.name, Key: key, Body: stream, ContentLength: length }),
      body,
      length,
      signal,
    );
    if (!sent.ok) {
      // The whole body went out: the store may have kept it although we saw a failure.
      if (sent.bodySent) await this.deleteQuietly(key);
      throw sent.error;
    }
  }

  /** PutObject of a small body held in memory (sent again on a retry). */
  async putBuffer(key: string, body: Buffer): Promise<void> {
    await this.guard(this.client.send(new PutObjectCommand({ Bucket: this.name, Key: key, Body: body, ContentLength: body.length })));
  }

  async putEmpty(key: string): Promise<void> {
    await this.putBuffer(key, Buffer.alloc(0));
  }

  /** A small object's bytes; undefined when there is no such key. */
  async getBuffer(key: string): Promise<Buffer | undefined> {
    const got = await this.get(key);
    if (!got) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of got.body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async createMultipart(key: string): Promise<string> {
    const out = await this.guard(this.client.send(new CreateMultipartUploadCommand({ Bucket: this.name, Key: key })));
    if (!out.UploadId) throw new Error(`CreateMultipartUpload ${key} answered without an upload id`);
    return out.UploadId;
  }

  /** UploadPart of a streamed body of exactly `length` bytes; returns the part's ETag. */
  async uploadPartStream(options: {
    key: string;
    multipartId: string;
    partNumber: number;
    body: AsyncIterable<Buffer>;
    length: number;
    signal?: AbortSignal | undefined;
  }): Promise<string> {
    const { key, multipartId, partNumber, length } = options;
    const sent = await this.sendStream(
      (stream) =>
        new UploadPartCommand({
          Bucket: this.name,
          Key: key,
          UploadId: multipartId,
          PartNumber: partNumber,
          Body: stream,
          ContentLength: length,
        }),
      options.body,
      length,
      options.signal,
    );
    if (!sent.ok) throw sent.error;
    const etag = sent.output.ETag;
    if (!etag) throw new Error(`UploadPart ${partNumber} of ${key} answered without an ETag`);
    return etag;
  }

  /** UploadPart of a small body held in memory (sent again on a retry); returns the part's ETag. */
  async uploadPartBuffer(options: { key: string; multipartId: string; partNumber: number; body: Buffer }): Promise<string> {
    const { key, multipartId, partNumber, body } = options;
    const out = await this.guard(
      this.client.send(
        new UploadPartCommand({
          Bucket: this.name,
          Key: key,
          UploadId: multipartId,
          PartNumber: partNumber,
          Body: body,
          ContentLength: body.length,
        }),
      ),
    );
    if (!out.ETag) throw new Error(`UploadPart ${partNumber} of ${key} answered without an ETag`);
    return out.ETag;
  }

  /** UploadPartCopy of bytes start..end (inclusive) of `source` in this bucket; returns the part's ETag. */
  async copyPart(options: {
    key: string;
    multipartId: string;
    partNumber: number;
    source: string;
    start: number;
    end: number;
  }): Promise<string> {
    const { key, multipartId, partNumber, source, start, end } = options;
    const out = await this.guard(
      this.client.send(
        new UploadPartCopyCommand({
          Bucket: this.name,
          Key: key,
          UploadId: multipartId,
          PartNumber: partNumber,
          CopySource: `${this.name}/${source.split('/').map(encodeURIComponent).join('/')}`,
          CopySourceRange: `bytes=${start}-${end}`,
        }),
      ),
    );
    const etag = out.CopyPartResult?.ETag;
    if (!etag) throw new Error(`UploadPartCopy ${partNumber} of ${key} answered without an ETag`);
    return etag;
  }

  /** The parts a multipart upload holds, by part number; undefined when the store no longer knows it. */
  async listParts(key: string, multipartId: string): Promise<{ partNumber: number; etag: string; size: number }[] | undefined> {
    const parts: { partNumber: number; etag: string; size: number }[] = [];
    let marker: string | undefined;
    try {
      while (true) {
        const page = await this.client.send(
          new ListPartsCommand({ Bucket: this.name, Key: key, UploadId: multipartId, PartNumberMarker: marker }),
        );
        for (const part of page.Parts ?? []) {
          if (part.PartNumber === undefined) continue;
          parts.push({ partNumber: part.PartNumber, etag: part.ETag ?? '', size: part.Size ?? 0 });
        }
        if (!page.IsTruncated || page.NextPartNumberMarker === undefined || page.NextPartNumberMarker === marker) break;
        marker = page.NextPartNumberMarker;
      }
    } catch (error) {
      if (isNoSuchUpload(error)) return undefined;
      throw mapStoreError(error);
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  /** Completes a multipart upload; false when the store no longer knows it (completed or aborted). */
  async completeMultipart(key: string, multipartId: string, parts: readonly { partNumber: number; etag: string }[]): Promise<boolean> {
    try {
      await this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.name,
          Key: key,
          UploadId: multipartId,
          MultipartUpload: { Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })) },
        }),
      );
      return true;
    } catch (error) {
      if (isNoSuchUpload(error)) return false;
      throw mapStoreError(error);
    }
  }

  /** Aborts a multipart upload; one that is already gone is fine. */
  async abortMultipart(key: string, multipartId: string): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.name, Key: key, UploadId: multipartId }));
    } catch (error) {
      if (isNoSuchUpload(error) || isNoSuchKey(error)) return;
      throw mapStoreError(error);
    }
  }

  /** Removes an object; one that is already gone is fine. */
  async delete(key: string): Promise<void> {
    try {
      await this.client.send(new DeleteObjectCommand({ Bucket: this.name, Key: key }));
    } catch (error) {
      if (isNoSuchKey(error)) return;
      throw mapStoreError(error);
    }
  }

  /** Best effort: a leftover is found again by the next sweep. */
  async deleteQuietly(key: string): Promise<void> {
    await this.delete(key).catch(() => {});
  }

  /** Removes the keys, a few at a time (one by one: not every S3-compatible store has DeleteObjects). */
  async deleteAll(keys: Iterable<string>): Promise<void> {
    const pending = [...keys];
    const worker = async () => {
      for (let key = pending.shift(); key !== undefined; key = pending.shift()) await this.delete(key);
    };
    await Promise.all(Array.from({ length: Math.min(DELETE_CONCURRENCY, pending.length) }, worker));
  }

  async *list(prefix: string): AsyncGenerator<ListedObject> {
    let token: string | undefined;
    do {
      const page = await this.guard(
        this.client.send(new ListObjectsV2Command({ Bucket: this.name, Prefix: prefix, ContinuationToken: token, MaxKeys: 1000 })),
      );
      for (const object of page.Contents ?? []) {
        if (object.Key === undefined) continue;
        yield { key: object.Key, lastModified: object.LastModified?.getTime() ?? 0, size: object.Size ?? 0 };
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async *listMultipart(prefix: string): AsyncGenerator<ListedMultipartUpload> {
    let keyMarker: string | undefined;
    let uploadIdMarker: string | undefined;
    while (true) {
      const page = await this.guard(
        this.client.send(
          new ListMultipartUploadsCommand({ Bucket: this.name, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
        ),
      );
      for (const upload of page.Uploads ?? []) {
        if (upload.Key === undefined || upload.UploadId === undefined) continue;
        yield { key: upload.Key, multipartId: upload.UploadId, initiated: upload.Initiated?.getTime() ?? 0 };
      }
      if (!page.IsTruncated || (page.NextKeyMarker === keyMarker && page.NextUploadIdMarker === uploadIdMarker)) return;
      keyMarker = page.NextKeyMarker;
      uploadIdMarker = page.NextUploadIdMarker;
    }
  }

  /** Maps a store that does not answer to 503. */
  async guard<T>(request: Promise<T>): Promise<T> {
    try {
      return await request;
    } catch (error) {
      throw mapStoreError(error);
    }
  }

  /**
   * Sends a request whose body streams from `body` (exactly `length` bytes). The request is
   * aborted when `signal` aborts or the body fails (Node does not end a request whose piped
   * body failed, so it would otherwise wait for bytes that never come). `bodySent` says whether
   * every byte went out, i.e. whether the store may have acted on the request.
   */
  private async sendStream(
    command: (stream: Readable) => PutObjectCommand | UploadPartCommand,
    body: AsyncIterable<Buffer>,
    length: number,
    signal: AbortSignal | undefined,
  ): Promise<{ ok: true; output: { ETag?: string | undefined } } | { ok: false; error: unknown; bodySent: boolean }> {
    signal?.throwIfAborted();
    const controller = new AbortController();
    const stop = () => controller.abort(signal?.reason);
    signal?.addEventListener('abort', stop, { once: true });
    let bodyError: unknown;
    let bodySent = false;
    let unanswered: Error | undefined;
    let answerTimer: NodeJS.Timeout | undefined;
    const answerTimeoutMs = this.answerTimeoutMs;
    async function* source() {
      try {
        yield* exactly(untilAborted(body, controller.signal), length, 'the body');
        bodySent = true;
        answerTimer = setTimeout(() => {
          unanswered = Object.assign(new Error(`no answer within ${answerTimeoutMs} ms of the last byte`), { name: 'TimeoutError' });
          controller.abort(unanswered);
        }, answerTimeoutMs);
      } catch (error) {
        bodyError = error;
        controller.abort(error);
        throw error;
      }
    }
    const stream = Readable.from(source(), { objectMode: false, highWaterMark: 64 * 1024 });
    // The failure is reported through `bodyError`; the request does not listen for it.
    stream.on('error', () => {});
    try {
      // The SDK's deadline for the answer would count the whole upload: the answer is due
      // `answerTimeoutMs` after the last byte instead, and the connection's idle timeout ends a
      // silent one before that.
      const request = command(stream);
      const options = { abortSignal: controller.signal, requestTimeout: 0 };
      const output =
        request instanceof PutObjectCommand ? await this.client.send(request, options) : await this.client.send(request, options);
      if (signal?.aborted) return { ok: false, error: signal.reason, bodySent: true };
      return { ok: true, output };
    } catch (error) {
      stream.destroy();
      const cause = bodyError ?? (signal?.aborted ? signal.reason : mapStoreError(unanswered ?? error));
      return { ok: false, error: cause, bodySent };
    } finally {
      clearTimeout(answerTimer);
      signal?.removeEventListener('abort', stop);
    }
  }
}

/** The body, with a store that stops sending mid-way reported as 503 (not as the client's fault). */
async function* storeErrorsMapped(body: Readable): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of body) yield chunk as Buffer;
  } catch (error) {
    throw mapStoreError(error);
  }
}
