import { createWriteStream } from 'node:fs';
import { stat, truncate } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConnectionError, StorageError } from '../errors.js';
import { Headers } from '../protocol.js';
import { Retry } from '../retry.js';
import { countBytes } from '../streams.js';
import { retryCauseOf, type Transport, type TransportResponse } from '../transport.js';
import { sha256OfFile } from './resumable-upload.js';

export interface ResumableDownloadOptions {
  signal: AbortSignal | undefined;
  onProgress: ((bytes: number, total: number | undefined) => void) | undefined;
}

const NO_RETRY = Retry.none();

/**
 * Downloads into `file`, resuming after a broken connection with `Range: bytes=N-` and
 * `If-Match: <etag>`: the server answers 412 if the object changed meanwhile, so bytes of two
 * versions are never stitched together. At the end the file's sha256 is checked against the
 * server's `x-stowage-sha256`. Failures are retried by the transport's {@link Retry} policy
 * (its budgets, backoff and Retry-After); the budget starts over whenever bytes were gained.
 */
export async function downloadFileResumable(
  transport: Transport,
  url: string,
  file: string,
  options: ResumableDownloadOptions,
): Promise<void> {
  let written = 0;
  let etag: string | undefined;
  let total: number | undefined;
  let expectedSha256: string | undefined;
  const policy = transport.options.retry;
  let retries = policy.start();
  for (;;) {
    const resuming = written > 0;
    try {
      const headers: Record<string, string> = resuming && etag ? { range: `bytes=${written}-`, 'if-match': etag } : {};
      await transport.send({ method: 'GET', url, headers, signal: options.signal, retry: NO_RETRY }, async (response) => {
        if (resuming) checkResumedResponse(response, written, total);
        else {
          etag = header(response, 'etag');
          total = Number(header(response, 'content-length') ?? Number.NaN);
          expectedSha256 = header(response, Headers.sha256);
        }
        const meter = (source: AsyncIterable<Uint8Array>) =>
          countBytes(source, { startAt: written, total, onProgress: options.onProgress });
        await pipeline(response.body, meter, createWriteStream(file, { flags: resuming ? 'a' : 'w', flush: true }));
      });
      written = (await stat(file)).size;
      if (total !== undefined && !Number.isNaN(total) && written !== total)
        throw new ConnectionError(`Download ended after ${written} of ${total} bytes`, { code: 'ShortBody' });
      break;
    } catch (error) {
      // Whatever reached the file before the break is kept; anything past it is not trusted.
      const onDisk = await stat(file).then(
        (info) => info.size,
        () => 0,
      );
      // Without an ETag nothing can be resumed safely, so those bytes are not progress.
      const kept = etag ? onDisk : 0;
      const progressed = kept > written;
      written = kept;
      await truncate(file, written).catch(() => {});
      // Only failures in a row count against the budget: a long download over a poor network
      // finishes as long as each attempt gains bytes.
      if (progressed) retries = policy.start();
      const cause = retryCauseOf(error, policy, 'GET');
      const delay = cause && retries.next('GET', cause);
      if (delay === undefined) throw error;
      // Every byte reached the file before the break (a connection cut after the last one): there
      // is nothing left to ask for (a Range from the end is 416); the sha256 below judges them.
      if (total !== undefined && written === total && written > 0) break;
      await sleep(delay, undefined, { signal: options.signal });
    }
  }
  if (expectedSha256) {
    const actual = await sha256OfFile(file, options.signal);
    if (actual !== expectedSha256)
      throw new StorageError(`Downloaded bytes have sha256 ${actual}, the server says ${expectedSha256}`, { code: 'ChecksumMismatch' });
  }
}

function header(response: TransportResponse, name: string): string | undefined {
  const value = response.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** A resumed response must be the 206 of exactly the bytes asked for, of the same object size. */
function checkResumedResponse(response: TransportResponse, written: number, total: number | undefined): void {
  const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header(response, 'content-range') ?? '');
  if (response.statusCode !== 206 || !range || Number(range[1]) !== written || (total !== undefined && Number(range[3]) !== total)) {
    throw new StorageError(`The server did not resume the download at byte ${written} (status ${response.statusCode})`, {
      status: response.statusCode,
      code: 'ResumeRefused',
    });
  }
}
