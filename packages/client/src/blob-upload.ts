import type { HttpTransportFactory } from './http-transport.js';
import { attributeHeaders, type ObjectAttributes } from './object-attributes.js';
import { Headers } from './protocol.js';
import { Retry } from './retry.js';
import { type IncrementalSha256, jsSha256, type Sha256Factory } from './sha256.js';
import type { SetResult } from './storage.js';
import { sleep } from './streams.js';
import { DEFAULT_TIMEOUT, fetchTransport, Transport } from './transport.js';
import { acknowledgedBytes, cancelUpload, queryStatus, sendChunk, uploadRetryCause } from './upload-session.js';

/** Options of {@link uploadBlob}. */
export interface UploadBlobOptions extends ObjectAttributes {
  /** Bytes per request. Default 8 MiB; smaller chunks lose less to a dropped connection and report progress more often. */
  chunkSize?: number;
  /** Called after each chunk the server holds, with the bytes it holds and the Blob's size. */
  onProgress?: (bytes: number, total: number) => void;
  /** Called when a failed request is about to be retried after `delayMs`: the connection dropped, timed out, or the server answered 5xx. */
  onRetry?: (error: unknown, delayMs: number) => void;
  /** Stops the upload (the bytes sent so far stay resumable on the URL until it expires). */
  signal?: AbortSignal;
  /** How failures are retried; the budget starts over whenever a chunk moved the upload forward. Default `new Retry()`. */
  retries?: Retry;
  /** `[connect, read]` timeouts in seconds. Default `[9.5, 120]`. */
  timeout?: readonly [number, number];
  /** Only if the value at the key has this ETag (checked when the upload completes). */
  ifMatch?: string;
  /** `true`: only if there is no value at the key yet. */
  ifNoneMatch?: boolean;
  /** The HTTP stack. Default fetch. */
  transport?: HttpTransportFactory;
  /** @internal Node's entry passes node:crypto's. */
  sha256?: Sha256Factory;
}

const MiB = 1024 * 1024;

/**
 * Uploads a `File` or `Blob` through an upload URL (`getUploadUrl`, typically made by your server
 * and handed to the browser) in resumable chunks: after a dropped connection, a timeout or a 5xx
 * it asks the server how many bytes it holds and goes on from there, so a cut 1 GiB upload does
 * not start over. The Blob's sha256 goes with the last chunk, so the server stores nothing
 * corrupted. Sends no credentials: the URL is the permission.
 *
 * @example
 * const { uploadUrl } = await (await fetch('/api/upload-url?name=video.mp4')).json();
 * const stored = await uploadBlob(uploadUrl, input.files[0], { onProgress: (sent, total) => bar.value = sent / total });
 */
export async function uploadBlob(uploadUrl: string, blob: Blob, options: UploadBlobOptions = {}): Promise<SetResult> {
  const policy = options.retries ?? new Retry();
  const transport = new Transport({
    baseUrl: '',
    anonymous: true,
    retry: policy,
    timeout: options.timeout ?? DEFAULT_TIMEOUT,
    http: options.transport ?? fetchTransport,
  });
  try {
    return await uploadBlobThrough(transport, uploadUrl, blob, { ...options, retries: policy });
  } finally {
    await transport.close();
  }
}

/**
 * Gives up an upload URL's resumable upload: the server drops the bytes it holds (they count
 * against the quota until then) and the URL stores nothing more. A session that never began, or
 * that completed already, is left as it is.
 */
export async function abandonUpload(
  uploadUrl: string,
  options: Pick<UploadBlobOptions, 'timeout' | 'transport' | 'retries'> = {},
): Promise<void> {
  const transport = new Transport({
    baseUrl: '',
    anonymous: true,
    retry: options.retries ?? new Retry(),
    timeout: options.timeout ?? DEFAULT_TIMEOUT,
    http: options.transport ?? fetchTransport,
  });
  try {
    await cancelUpload(transport, uploadUrl);
  } finally {
    await transport.close();
  }
}

/** {@link uploadBlob} over a transport that exists already (a Storage's): its connections, retries and timeouts. */
export function uploadBlobThrough(transport: Transport, uploadUrl: string, blob: Blob, options: UploadBlobOptions): Promise<SetResult> {
  const chunkSize = options.chunkSize ?? 8 * MiB;
  if (!(chunkSize >= 1)) throw new TypeError('chunkSize must be at least 1 byte');
  return new BlobUpload(transport, uploadUrl, blob, chunkSize, options.retries ?? transport.options.retry, options).run();
}

class BlobUpload {
  private readonly hash: BlobSha256;
  private readonly conditions: Record<string, string> = {};
  private readonly completion: Record<string, string>;

  constructor(
    private readonly transport: Transport,
    private readonly url: string,
    private readonly blob: Blob,
    private readonly chunkSize: number,
    private readonly policy: Retry,
    private readonly options: UploadBlobOptions,
  ) {
    this.hash = new BlobSha256(blob, (options.sha256 ?? jsSha256)());
    if (options.ifMatch !== undefined) this.conditions['if-match'] = options.ifMatch;
    if (options.ifNoneMatch) this.conditions['if-none-match'] = '*';
    this.completion = attributeHeaders(options);
  }

  async run(): Promise<SetResult> {
    const { signal } = this.options;
    const size = this.blob.size;
    let offset = 0;
    let retries = this.policy.start();
    for (;;) {
      signal?.throwIfAborted();
      // Whether the request in flight may complete the upload, so a status query after it fails must carry the digest.
      let mayComplete = false;
      try {
        const end = Math.min(offset + this.chunkSize, size);
        mayComplete = end === size;
        // The chunk goes out as a Blob, which the runtime reads (and a browser throttles and
        // cancels) like any file upload; the hash reads it once more, while it is sent, unless
        // the chunk completes the upload and must carry the digest.
        const chunk = size === 0 ? undefined : this.blob.slice(offset, end);
        const headers = mayComplete ? await this.completionHeaders() : this.conditions;
        const hashing = this.hash.through(end, signal);
        const [response] = await Promise.all([
          sendChunk(this.transport, this.url, {
            headers: { ...headers, 'content-range': chunk ? `bytes ${offset}-${end - 1}/${size}` : 'bytes */0' },
            body: chunk && { create: () => chunk, replayable: true, length: chunk.size },
            signal,
          }),
          hashing,
        ]);
        if (response.statusCode === 200) {
          const stored = (await response.body.json()) as SetResult;
          this.options.onProgress?.(size, size);
          return stored;
        }
        const held = acknowledgedBytes(response);
        await response.body.dump();
        if (held > offset) retries = this.policy.start();
        offset = held;
        this.options.onProgress?.(offset, size);
      } catch (error) {
        const cause = uploadRetryCause(error, this.policy);
        const delay = cause && retries.next('PUT', cause);
        if (delay === undefined) throw error;
        this.options.onRetry?.(error, delay);
        await sleep(delay, signal);
        const headers = mayComplete ? await this.completionHeaders() : this.conditions;
        const status = await queryStatus(this.transport, this.url, size, headers, signal).catch((queryError: unknown) => {
          if (uploadRetryCause(queryError, this.policy)) return undefined;
          throw queryError;
        });
        if (status === 'complete') return this.completed(headers);
        if (status !== undefined) offset = status;
      }
    }
  }

  private async completionHeaders(): Promise<Record<string, string>> {
    return { ...this.conditions, ...this.completion, [Headers.sha256]: await this.hash.digest(this.options.signal) };
  }

  /** The stored object's description, from a status query on the completed upload. */
  private async completed(headers: Record<string, string>): Promise<SetResult> {
    const response = await sendChunk(this.transport, this.url, {
      headers: { ...headers, 'content-range': `bytes */${this.blob.size}` },
      signal: this.options.signal,
    });
    this.options.onProgress?.(this.blob.size, this.blob.size);
    return (await response.body.json()) as SetResult;
  }
}

/**
 * The sha256 of a Blob, read in order as the upload goes. A Blob never changes, so bytes hashed
 * once stay hashed whatever the server kept.
 */
class BlobSha256 {
  /** Bytes 0..hashed-1 are in `hash`. */
  private hashed = 0;

  constructor(
    private readonly blob: Blob,
    private readonly hash: IncrementalSha256,
  ) {}

  private reading: Promise<void> = Promise.resolve();

  /** Hashes the bytes up to `end` (exclusive) not hashed yet; calls run one after another. */
  through(end: number, signal: AbortSignal | undefined): Promise<void> {
    this.reading = this.reading.catch(() => {}).then(() => this.read(end, signal));
    return this.reading;
  }

  private async read(end: number, signal: AbortSignal | undefined): Promise<void> {
    while (this.hashed < end) {
      signal?.throwIfAborted();
      const next = Math.min(this.hashed + 4 * MiB, end);
      this.hash.update(new Uint8Array(await this.blob.slice(this.hashed, next).arrayBuffer()));
      this.hashed = next;
    }
  }

  async digest(signal: AbortSignal | undefined): Promise<string> {
    await this.through(this.blob.size, signal);
    return this.hash.copy().digestHex();
  }
}
