import { createHash, type Hash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { fail } from '../errors.js';

/** What a metered body has seen so far. */
export interface BodyMeter {
  bytes: number;
  /** Hex sha256; set once the body ended. */
  sha256: string | undefined;
}

/**
 * Yields the chunks of `body` while hashing and counting them. Fails with EntityTooLarge at the
 * first chunk past `maxBytes` (never buffering to measure), and with IncompleteBody when the
 * body ends short of `expectedBytes`.
 */
export async function* meterBody(
  body: Readable,
  meter: BodyMeter,
  limits: { maxBytes: number; expectedBytes: number | undefined; continueHash?: Hash | undefined; signal?: AbortSignal | undefined },
): AsyncGenerator<Buffer> {
  // A body that stopped arriving parks this loop in an await that no abort of the pipeline
  // reaches: destroying the body is what ends it.
  const { signal } = limits;
  const destroyBody = () => body.destroy(signal?.reason);
  signal?.throwIfAborted();
  signal?.addEventListener('abort', destroyBody, { once: true });
  try {
    yield* meterChunks(body, meter, limits);
  } finally {
    signal?.removeEventListener('abort', destroyBody);
  }
}

async function* meterChunks(
  body: Readable,
  meter: BodyMeter,
  limits: { maxBytes: number; expectedBytes: number | undefined; continueHash?: Hash | undefined },
): AsyncGenerator<Buffer> {
  // A resumable upload continues one hash across chunks; it is digested at completion instead.
  const hash = limits.continueHash ?? createHash('sha256');
  // destroyOnReturn: false — on a limit error the route still answers 413 on this connection.
  for await (const chunk of body.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>) {
    meter.bytes += chunk.length;
    if (meter.bytes > limits.maxBytes) throw fail('EntityTooLarge', `The body exceeds the limit of ${limits.maxBytes} bytes`);
    hash.update(chunk);
    yield chunk;
  }
  if (limits.expectedBytes !== undefined && meter.bytes !== limits.expectedBytes) {
    throw fail('IncompleteBody', `Received ${meter.bytes} of ${limits.expectedBytes} declared bytes`);
  }
  if (!limits.continueHash) meter.sha256 = hash.digest('hex');
}
