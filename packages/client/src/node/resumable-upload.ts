import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { pipeline, type Readable, Transform } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { StorageError } from '../errors.js';
import { Headers } from '../protocol.js';
import type { Transport } from '../transport.js';
import { acknowledgedBytes, cancelUpload, completedInfo, queryStatus, sendChunk, uploadRetryCause } from '../upload-session.js';

export interface ResumableUploadOptions {
  /**
   * Bytes per chunk; undefined sends the rest of the file in one request, which the server makes
   * durable piece by piece (after a cut the upload goes on from its last durable piece).
   */
  chunkSize: number | undefined;
  /** Sent with every chunk (the write's conditions). */
  headers: Record<string, string>;
  /** Sent only with the requests that may complete the upload (the value's metadata). */
  completionHeaders?: Record<string, string>;
  signal: AbortSignal | undefined;
  onProgress: ((bytes: number, total: number | undefined) => void) | undefined;
}

/** A tapped chunk keeps the hash's state every this many bytes, to go on from after a partial answer. */
const SNAPSHOT_BYTES = 1024 * 1024;
/** The latest snapshots kept (1 GiB of the file): the server's checkpoints are far closer together. */
const SNAPSHOTS_KEPT = 1024;

/** Hex sha256 of a file, read once as a stream. */
export async function sha256OfFile(file: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024, signal })) hash.update(chunk);
  return hash.digest('hex');
}

/**
 * The sha256 of a file being uploaded, built from the chunks as they go out so that the file is
 * read once, not once to hash it and once to send it. Only the request that completes the upload
 * (the last chunk, or a status query that may complete it) carries the digest; `complete` reads
 * whatever was not hashed on the way (normally the last chunk, which is hashed before it is sent).
 */
class FileSha256 {
  private hash = createHash('sha256');
  /** Bytes 0..hashed-1 are in `hash`. */
  private hashed = 0;

  constructor(
    private readonly file: string,
    private readonly size: number,
    /** The file's modification time when the upload began. */
    private readonly mtimeMs: number,
    private readonly signal: AbortSignal | undefined,
  ) {}

  /**
   * A stream of the chunk [offset, end] that also hashes it, on a copy that is kept when `adopt`
   * confirms the server took the whole chunk, or up to one of the snapshots taken every MiB on
   * the way when it took part of it (a long request the server made durable piece by piece);
   * undefined when the chunk does not follow the hashed bytes (after a resume), which `complete`
   * then reads.
   */
  tap(
    offset: number,
    end: number,
    onSent?: (bytes: number) => void,
  ): { stream: Readable; adopt: (acknowledged: number) => void } | undefined {
    if (offset !== this.hashed) return undefined;
    const copy = this.hash.copy();
    const snapshots = new Map<number, Hash>();
    let seen = 0;
    const stream = new Transform({
      transform(chunk: Buffer, _encoding, callback) {
        for (let at = 0; at < chunk.length; ) {
          const step = Math.min(chunk.length - at, SNAPSHOT_BYTES - (seen % SNAPSHOT_BYTES));
          copy.update(chunk.subarray(at, at + step));
          at += step;
          seen += step;
          if (seen % SNAPSHOT_BYTES !== 0) continue;
          snapshots.set(offset + seen, copy.copy());
          // The server acknowledges within its last checkpoint of what was sent: older ones go.
          if (snapshots.size > SNAPSHOTS_KEPT) snapshots.delete(snapshots.keys().next().value as number);
          onSent?.(offset + seen);
        }
        callback(null, chunk);
      },
    });
    // Errors reach the reader through `stream`; a reader that stops destroys the file stream too.
    pipeline(createReadStream(this.file, { start: offset, end, highWaterMark: 256 * 1024 }), stream, () => {});
    return {
      stream,
      adopt: (acknowledged) => {
        if (this.hashed !== offset) return;
        const taken = acknowledged === end + 1 && seen === end + 1 - offset ? copy : snapshots.get(acknowledged);
        if (!taken) return;
        this.hash = taken;
        this.hashed = acknowledged;
      },
    };
  }

  /**
   * The hex digest of the whole file, reading what is not hashed yet. A file written to during
   * the upload would be stored as a mix of old and new bytes that no hash could catch (each byte
   * is hashed as sent): its size and modification time are checked first, as gsutil does.
   */
  async complete(): Promise<string> {
    const now = await stat(this.file);
    if (now.size !== this.size || now.mtimeMs !== this.mtimeMs) {
      throw new StorageError(`${this.file} changed while it was being uploaded; nothing was stored`, { code: 'FileChanged' });
    }
    if (this.hashed < this.size) {
      const rest = createReadStream(this.file, { start: this.hashed, end: this.size - 1, highWaterMark: 1024 * 1024, signal: this.signal });
      for await (const chunk of rest) this.hash.update(chunk as Buffer);
      this.hashed = this.size;
    }
    return this.hash.copy().digest('hex');
  }
}

/**
 * Uploads a file through an upload URL with the GCS resumable protocol: chunks with
 * `Content-Range`, and after a network error or 5xx a status query (`bytes STAR/TOTAL`) tells
 * where the server stands, so the upload resumes from the last durable byte instead of starting
 * over. The file's sha256 rides on the request that completes the upload, so the server refuses
 * to complete a corrupted one. Failures are retried by the transport's {@link Retry} policy (its
 * budgets, backoff and Retry-After); the budget starts over whenever a chunk moved the upload forward.
 */
export async function uploadFileResumable(
  transport: Transport,
  uploadUrl: string,
  file: string,
  size: number,
  options: ResumableUploadOptions,
): Promise<unknown> {
  const fileHash = new FileSha256(file, size, (await stat(file)).mtimeMs, options.signal);
  // Whatever completes the upload (the last chunk, or a status query after a failure) carries
  // what the server checks and stores at completion.
  const withDigest = async () => ({ ...options.headers, ...options.completionHeaders, [Headers.sha256]: await fileHash.complete() });
  const sendsRest = options.chunkSize === undefined;
  let offset = 0;
  const policy = transport.options.retry;
  let retries = policy.start();
  // The hashing tap of the request in flight; a replayed body re-creates it, so only the attempt
  // the server answered counts.
  let tapped: ReturnType<FileSha256['tap']>;
  // Whether the request in flight held the last byte (and so the digest).
  let sentLast = false;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      if (offset === size) {
        // Every byte is held (or there are none): the query that declares the total, with the
        // digest, completes the upload.
        const response = await sendChunk(transport, uploadUrl, {
          headers: { ...(await withDigest()), 'content-range': `bytes */${size}` },
          signal: options.signal,
        });
        if (response.statusCode === 200) {
          options.onProgress?.(size, size);
          return response.body.json();
        }
        offset = acknowledgedBytes(response);
        await response.body.dump();
        if (offset === size) {
          // Its bytes would count against the quota until the URL expires: cancel it.
          await cancelUpload(transport, uploadUrl).catch(() => {});
          throw new StorageError('The server holds every byte of the upload but did not complete it', { code: 'UploadIncomplete' });
        }
        continue;
      }
      // The rest of a file goes with an unknown total (`/*`) but for its last byte, which then
      // goes alone with the total and the digest (known by then: every byte before it was
      // hashed as it went). Any server completes on that; a chunk that ends the upload always
      // carries the digest.
      const end = sendsRest
        ? offset < size - 1
          ? Math.min(size - 1, offset + (transport.http.streamedBodyLimit ?? size)) - 1
          : size - 1
        : Math.min(offset + (options.chunkSize as number), size) - 1;
      const last = end + 1 === size;
      sentLast = last;
      const response = await sendChunk(transport, uploadUrl, {
        headers: {
          ...(last ? await withDigest() : options.headers),
          'content-range': `bytes ${offset}-${end}/${sendsRest && !last ? '*' : size}`,
        },
        body: {
          create: () => {
            tapped = last ? undefined : fileHash.tap(offset, end, sendsRest ? (sent) => options.onProgress?.(sent, size) : undefined);
            return tapped?.stream ?? createReadStream(file, { start: offset, end, highWaterMark: 256 * 1024 });
          },
          replayable: true,
          length: end - offset + 1,
        },
        signal: options.signal,
      });
      if (response.statusCode === 200) {
        options.onProgress?.(size, size);
        return response.body.json();
      }
      const next = acknowledgedBytes(response);
      await response.body.dump();
      tapped?.adopt(next);
      if (next > offset) retries = policy.start();
      offset = next;
      options.onProgress?.(offset, size);
    } catch (error) {
      if (error instanceof StorageError && error.code === 'FileChanged') {
        // Its bytes so far would count against the quota until the URL expires: cancel it.
        await cancelUpload(transport, uploadUrl).catch(() => {});
        throw error;
      }
      const cause = uploadRetryCause(error, policy);
      const delay = cause && retries.next('PUT', cause);
      if (delay === undefined) throw error;
      await sleep(delay, undefined, { signal: options.signal });
      // Where the server stands. Chunks declare the total, and the query carries the digest that
      // completes an upload whose bytes all arrived. The rest of a file does not declare it (that
      // could complete the upload before its digest is known), and carries the digest once the
      // last byte went out; its hash goes on from the piece the server reached if it can.
      const declaresTotal = !sendsRest;
      let headers = options.headers;
      if (declaresTotal || sentLast) {
        try {
          headers = await withDigest();
        } catch (changed) {
          await cancelUpload(transport, uploadUrl).catch(() => {});
          throw changed;
        }
      }
      const status = await queryStatus(transport, uploadUrl, declaresTotal ? size : '*', headers, options.signal).catch(
        (queryError: unknown) => {
          if (uploadRetryCause(queryError, policy)) return undefined;
          throw queryError;
        },
      );
      if (status === 'complete') return completedInfo(transport, uploadUrl, size, headers, options.signal);
      if (status === undefined) continue;
      if (sendsRest) {
        tapped?.adopt(status);
        if (status > offset) retries = policy.start();
        options.onProgress?.(status, size);
      }
      offset = status;
    }
  }
}
