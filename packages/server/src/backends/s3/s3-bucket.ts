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
import { isNoSuchKey, isNoSuchUpload, isUnavailable, mapStoreError } from './s3-errors.js';
import { StoreWait, storeTimeout, watchedBody } from './store-wait.js';

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
 * The S3 operations the blob store uses, on one bucket. Each is bounded by one timeout,
 * STOWAGE_BLOB_TIMEOUT, whatever the SDK's retries: a request must be answered within it, its
 * retries included; a streamed body must be taken, and a streamed answer given, without a wait
 * on the store that long. A store that does not answer is 503 StorageUnavailable, one that is
 * full 507 InsufficientStorage. Bodies of known length stream (never buffered), are checked to
 * hold exactly that length, and are sent once: the SDK does not retry a stream.
 */
export class S3Bucket {
  constructor(
    readonly client: S3Client,
    readonly name: string,
    /** The longest the store may leave one operation waiting (STOWAGE_BLOB_TIMEOUT). */
    private readonly timeoutMs: number,
  ) {}

  /** Its errors as the SDK gave them: opening and readiness tell a missing bucket, refused keys and no answer apart. */
  async headBucket(signal?: AbortSignal): Promise<void> {
    await this.send(
      'HeadBucket',
      (abortSignal) => this.client.send(new HeadBucketCommand({ Bucket: this.name }), { abortSignal }),
      signal,
      {
        mapErrors: false,
      },
    );
  }

  /** The object's size, or undefined when there is no such key. */
  async size(key: string): Promise<number | undefined> {
    try {
      const head = await this.send(`HeadObject ${key}`, (abortSignal) =>
        this.client.send(new HeadObjectCommand({ Bucket: this.name, Key: key }), { abortSignal }),
      );
      return head.ContentLength ?? 0;
    } catch (error) {
      if (isNoSuchKey(error)) return undefined;
      throw error;
    }
  }

  /** Streams the object (or bytes start..end of it); undefined when there is no such key. */
  async get(
    key: string,
    options: { start?: number; end?: number; signal?: AbortSignal | undefined } = {},
  ): Promise<{ body: Readable; length: number | undefined; contentRange: string | undefined } | undefined> {
    const range = options.start !== undefined && options.end !== undefined ? `bytes=${options.start}-${options.end}` : undefined;
    const what = `GetObject ${key}`;
    try {
      const out = await this.send(
        what,
        (abortSignal) => this.client.send(new GetObjectCommand({ Bucket: this.name, Key: key, Range: range }), { abortSignal }),
        options.signal,
      );
      if (!(out.Body instanceof Readable)) throw new Error(`${what} answered without a stream body`);
      return { body: watchedBody(out.Body, this.timeoutMs, what), length: out.ContentLength, contentRange: out.ContentRange };
    } catch (error) {
      if (isNoSuchKey(error)) return undefined;
      throw error;
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
    return got.body;
  }

  /** PutObject of a streamed body of exactly `length` bytes. Leaves no object when it fails. */
  async putStream(key: string, body: AsyncIterable<Buffer>, length: number, signal?: AbortSignal): Promise<void> {
    const sent = await this.sendStream(
      `PutObject ${key}`,
      (stream) => new PutObjectCommand({ Bucket: this.name, Key: key, Body: stream, ContentLength: length }),
      body,
      length,
      signal,
    );
    if (!sent.ok) {
      // The whole body went out: the store may have kept it although we saw a failure.
      if (sent.bodySent) await this.cleanUp(sent.error, () => this.deleteQuietly(key));
      throw sent.error;
    }
  }

  /** PutObject of a small body held in memory (sent again on a retry). */
  async putBuffer(key: string, body: Buffer): Promise<void> {
    await this.send(`PutObject ${key}`, (abortSignal) =>
      this.client.send(new PutObjectCommand({ Bucket: this.name, Key: key, Body: body, ContentLength: body.length }), { abortSignal }),
    );
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
    const out = await this.send(`CreateMultipartUpload ${key}`, (abortSignal) =>
      this.client.send(new CreateMultipartUploadCommand({ Bucket: this.name, Key: key }), { abortSignal }),
    );
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
      `UploadPart ${partNumber} of ${key}`,
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
    const out = await this.send(`UploadPart ${partNumber} of ${key}`, (abortSignal) =>
      this.client.send(
        new UploadPartCommand({
          Bucket: this.name,
          Key: key,
          UploadId: multipartId,
          PartNumber: partNumber,
          Body: body,
          ContentLength: body.length,
        }),
        { abortSignal },
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
    const out = await this.send(`UploadPartCopy ${partNumber} of ${key}`, (abortSignal) =>
      this.client.send(
        new UploadPartCopyCommand({
          Bucket: this.name,
          Key: key,
          UploadId: multipartId,
          PartNumber: partNumber,
          CopySource: `${this.name}/${source.split('/').map(encodeURIComponent).join('/')}`,
          CopySourceRange: `bytes=${start}-${end}`,
        }),
        { abortSignal },
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
        const page = await this.send(`ListParts of ${key}`, (abortSignal) =>
          this.client.send(new ListPartsCommand({ Bucket: this.name, Key: key, UploadId: multipartId, PartNumberMarker: marker }), {
            abortSignal,
          }),
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
      throw error;
    }
    return parts.sort((a, b) => a.partNumber - b.partNumber);
  }

  /** Completes a multipart upload; false when the store no longer knows it (completed or aborted). */
  async completeMultipart(key: string, multipartId: string, parts: readonly { partNumber: number; etag: string }[]): Promise<boolean> {
    try {
      await this.send(`CompleteMultipartUpload ${key}`, (abortSignal) =>
        this.client.send(
          new CompleteMultipartUploadCommand({
            Bucket: this.name,
            Key: key,
            UploadId: multipartId,
            MultipartUpload: { Parts: parts.map((part) => ({ PartNumber: part.partNumber, ETag: part.etag })) },
          }),
          { abortSignal },
        ),
      );
      return true;
    } catch (error) {
      if (isNoSuchUpload(error)) return false;
      throw error;
    }
  }

  /** Aborts a multipart upload; one that is already gone is fine. */
  async abortMultipart(key: string, multipartId: string): Promise<void> {
    try {
      await this.send(`AbortMultipartUpload ${key}`, (abortSignal) =>
        this.client.send(new AbortMultipartUploadCommand({ Bucket: this.name, Key: key, UploadId: multipartId }), { abortSignal }),
      );
    } catch (error) {
      if (isNoSuchUpload(error) || isNoSuchKey(error)) return;
      throw error;
    }
  }

  /** Removes an object; one that is already gone is fine. */
  async delete(key: string): Promise<void> {
    try {
      await this.send(`DeleteObject ${key}`, (abortSignal) =>
        this.client.send(new DeleteObjectCommand({ Bucket: this.name, Key: key }), { abortSignal }),
      );
    } catch (error) {
      if (isNoSuchKey(error)) return;
      throw error;
    }
  }

  /** Best effort: a leftover is found again by the next sweep. */
  async deleteQuietly(key: string): Promise<void> {
    await this.delete(key).catch(() => {});
  }

  /**
   * Removes what a failed operation may have left (`work` must not reject). A store that did not
   * answer the operation is not waited for again: the clean-up then runs on, bounded by its own
   * timeout, without holding the answer, and what it misses the orphan sweep finds.
   */
  async cleanUp(failure: unknown, work: () => Promise<void>): Promise<void> {
    const done = work();
    if (!isUnavailable(failure)) await done;
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
      const page = await this.send(`ListObjectsV2 of ${prefix}`, (abortSignal) =>
        this.client.send(new ListObjectsV2Command({ Bucket: this.name, Prefix: prefix, ContinuationToken: token, MaxKeys: 1000 }), {
          abortSignal,
        }),
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
      const page = await this.send(`ListMultipartUploads of ${prefix}`, (abortSignal) =>
        this.client.send(
          new ListMultipartUploadsCommand({ Bucket: this.name, Prefix: prefix, KeyMarker: keyMarker, UploadIdMarker: uploadIdMarker }),
          { abortSignal },
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

  /**
   * One request and the SDK's retries of it, answered within the timeout or failed with 503: one
   * deadline for all attempts, so a store that hangs costs the timeout once, not once per
   * attempt. `signal` is the caller's; when it aborts, so does the request, with its reason.
   * A store's error answer is mapped (503, 507; the rest stays, e.g. NoSuchKey for the caller).
   */
  private async send<T>(
    what: string,
    request: (abortSignal: AbortSignal) => Promise<T>,
    signal?: AbortSignal,
    { mapErrors = true } = {},
  ): Promise<T> {
    signal?.throwIfAborted();
    const deadline = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    // The retries' back-off sleeps do not listen to the signal: the deadline answers by itself.
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        deadline.abort(storeTimeout(what, this.timeoutMs));
        reject(deadline.signal.reason);
      }, this.timeoutMs);
    });
    const sent = request(signal ? AbortSignal.any([signal, deadline.signal]) : deadline.signal);
    try {
      return await Promise.race([sent, expired]);
    } catch (error) {
      sent.catch(() => {});
      if (signal?.aborted) throw signal.reason;
      if (deadline.signal.aborted) throw deadline.signal.reason;
      throw mapErrors ? mapStoreError(error) : error;
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Sends a request whose body streams from `body` (exactly `length` bytes). The store must take
   * each chunk as it is offered, and answer once the last one went, each within the timeout;
   * the time the body itself takes to come is the client's, bounded by the body idle timeout.
   * The request is aborted when `signal` aborts or the body fails (Node does not end a request
   * whose piped body failed, so it would otherwise wait for bytes that never come). `bodySent`
   * says whether every byte went out, i.e. whether the store may have acted on the request.
   */
  private async sendStream(
    what: string,
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
    const wait = new StoreWait(this.timeoutMs, () => {
      unanswered = storeTimeout(what, this.timeoutMs);
      controller.abort(unanswered);
    });
    async function* source() {
      try {
        for await (const chunk of exactly(untilAborted(body, controller.signal), length, 'the body')) {
          // Offered: until the request takes it, the store is not reading.
          wait.begin();
          yield chunk;
          wait.end();
        }
        bodySent = true;
        wait.begin();
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
      const request = command(stream);
      const options = { abortSignal: controller.signal };
      const output =
        request instanceof PutObjectCommand ? await this.client.send(request, options) : await this.client.send(request, options);
      if (signal?.aborted) return { ok: false, error: signal.reason, bodySent: true };
      return { ok: true, output };
    } catch (error) {
      stream.destroy();
      const cause = unanswered ?? bodyError ?? (signal?.aborted ? signal.reason : mapStoreError(error));
      return { ok: false, error: cause, bodySent };
    } finally {
      wait.stop();
      signal?.removeEventListener('abort', stop);
    }
  }
}
