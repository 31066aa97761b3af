import type { Readable } from 'node:stream';
import { fail } from '../errors.js';
import { streamingSha256 } from './hash-thread.js';

/** What a metered body has seen so far. */
export interface BodyMeter {
  bytes: number;
  /** Hex sha256; set once the body ended. */
  sha256: string | undefined;
}

export interface BodyLimits {
  readonly maxBytes: number;
  readonly expectedBytes: number | undefined;
  /** A resumable upload continues one hash across chunks; it is digested at completion instead. */
  readonly continueHash?: { update(chunk: Uint8Array): unknown } | undefined;
  /** Stops the reading at once, even while the body is stalled; the reason is thrown. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * Yields the chunks of `body` while hashing and counting them. Fails with EntityTooLarge at the
 * first chunk past `maxBytes` (never buffering to measure), and with IncompleteBody when the
 * body ends short of `expectedBytes`.
 */
export async function* meterBody(body: Readable, meter: BodyMeter, limits: BodyLimits): AsyncGenerator<Buffer> {
  const own = limits.continueHash ? undefined : streamingSha256(limits.expectedBytes);
  // destroyOnReturn: false — on a limit error the route still answers 413 on this connection.
  const chunks = body.iterator({ destroyOnReturn: false }) as AsyncIterator<Buffer>;
  try {
    for (;;) {
      const next = await nextUnlessAborted(chunks, limits.signal);
      if (next.done) break;
      const chunk = next.value;
      meter.bytes += chunk.length;
      if (meter.bytes > limits.maxBytes) throw fail('EntityTooLarge', `The body exceeds the limit of ${limits.maxBytes} bytes`);
      if (own) {
        const behind = own.update(chunk);
        if (behind) await behind;
      } else limits.continueHash?.update(chunk);
      yield chunk;
    }
    if (limits.expectedBytes !== undefined && meter.bytes !== limits.expectedBytes) {
      throw fail('IncompleteBody', `Received ${meter.bytes} of ${limits.expectedBytes} declared bytes`);
    }
    if (own) meter.sha256 = await own.digest();
  } finally {
    // A body that failed or was abandoned is never digested: its hash is dropped.
    if (own && meter.sha256 === undefined) own.discard();
  }
}

/**
 * The next chunk, or the abort reason as soon as `signal` fires. A stalled body parks the read
 * in a promise nothing else settles; racing it lets a timeout or a newer request end the write
 * while the connection is still there to carry the error response (then it is closed). The
 * abort listener goes once the chunk comes, so nothing outlives the step that holds the chunk.
 */
export function nextUnlessAborted(chunks: AsyncIterator<Buffer>, signal: AbortSignal | undefined): Promise<IteratorResult<Buffer>> {
  if (!signal) return chunks.next();
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    chunks.next().then(
      (result) => {
        signal.removeEventListener('abort', onAbort);
        resolve(result);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
