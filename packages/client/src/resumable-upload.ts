import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { StorageError } from './errors.js';
import { Headers } from './protocol.js';
import { Retry, type RetryCause } from './retry.js';
import { retryCauseOf, type Transport, type TransportResponse } from './transport.js';

export interface ResumableUploadOptions {
  /** Bytes per chunk. */
  chunkSize: number;
  headers: Record<string, string>;
  signal: AbortSignal | undefined;
  onProgress: ((bytes: number, total: number | undefined) => void) | undefined;
}

const NO_RETRY = Retry.none();

/** Hex sha256 of a file, read once as a stream. */
export async function sha256OfFile(file: string, signal?: AbortSignal): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1024 * 1024, signal })) hash.update(chunk);
  return hash.digest('hex');
}

/**
 * Uploads a file through an upload URL with the GCS resumable protocol: chunks with
 * `Content-Range`, and after a network error or 5xx a status query (`bytes STAR/TOTAL`) tells
 * where the server stands, so the upload resumes from the last durable byte instead of starting
 * over. The file's sha256 rides along, so the server refuses to complete a corrupted upload.
 * Failures are retried by the transport's {@link Retry} policy (its budgets, backoff and
 * Retry-After); the budget starts over whenever a chunk moved the upload forward.
 */
export async function uploadFileResumable(
  transport: Transport,
  uploadUrl: string,
  file: string,
  size: number,
  sha256: string,
  options: ResumableUploadOptions,
): Promise<unknown> {
  const headers = { ...options.headers, [Headers.sha256]: sha256 };
  let offset = 0;
  const policy = transport.options.retry;
  let retries = policy.start();
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const end = Math.min(offset + options.chunkSize, size) - 1;
      const isQuery = size === 0;
      const response = await sendChunk(transport, uploadUrl, {
        headers: { ...headers, 'content-range': isQuery ? 'bytes */0' : `bytes ${offset}-${end}/${size}` },
        body: isQuery
          ? undefined
          : {
              create: () => createReadStream(file, { start: offset, end, highWaterMark: 256 * 1024 }),
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
      if (next > offset) retries = policy.start();
      offset = next;
      options.onProgress?.(offset, size);
    } catch (error) {
      const cause = uploadRetryCause(error, policy);
      const delay = cause && retries.next('PUT', cause);
      if (delay === undefined) throw error;
      await sleep(delay, undefined, { signal: options.signal });
      const status = await queryStatus(transport, uploadUrl, size, headers, options.signal).catch((queryError: unknown) => {
        if (uploadRetryCause(queryError, policy)) return undefined;
        throw queryError;
      });
      if (status === 'complete') return completedInfo(transport, uploadUrl, size, headers, options.signal);
      if (status !== undefined) offset = status;
    }
  }
}

async function sendChunk(
  transport: Transport,
  url: string,
  request: Pick<Parameters<Transport['send']>[0], 'headers' | 'body' | 'signal'>,
): Promise<TransportResponse> {
  return transport.send(
    { method: 'PUT', url, anonymous: true, retry: NO_RETRY, acceptStatus: [308], ...request },
    async (response) => response,
  );
}

/** Bytes the server holds, from a 308's `Range: bytes=0-N` (none: 0). */
function acknowledgedBytes(response: TransportResponse): number {
  const range = response.headers.range;
  const match = typeof range === 'string' ? /^bytes=0-(\d+)$/.exec(range) : null;
  return match ? Number(match[1]) + 1 : 0;
}

async function queryStatus(
  transport: Transport,
  url: string,
  size: number,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
): Promise<number | 'complete'> {
  const response = await sendChunk(transport, url, { headers: { ...headers, 'content-range': `bytes */${size}` }, signal });
  if (response.statusCode === 200) {
    await response.body.dump();
    return 'complete';
  }
  await response.body.dump();
  return acknowledgedBytes(response);
}

async function completedInfo(
  transport: Transport,
  url: string,
  size: number,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
) {
  const response = await sendChunk(transport, url, { headers: { ...headers, 'content-range': `bytes */${size}` }, signal });
  return response.body.json();
}

/** What the policy retries, plus an offset disagreement: the status query settles where to go on. */
function uploadRetryCause(error: unknown, policy: Retry): RetryCause | undefined {
  if (error instanceof StorageError && error.code === 'UploadOffsetMismatch')
    return { kind: 'status', status: 409, retryAfterSeconds: undefined };
  return retryCauseOf(error, policy, 'PUT');
}
