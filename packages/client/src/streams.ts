import type { RequestBody } from './http-transport.js';

/** The chunks of a Web ReadableStream (browsers do not all make them async-iterable). */
export async function* chunksOfStream<T>(stream: ReadableStream<T>): AsyncGenerator<T> {
  const reader = stream.getReader();
  let done = false;
  try {
    for (;;) {
      const next = await reader.read();
      if (next.done) {
        done = true;
        return;
      }
      yield next.value;
    }
  } finally {
    if (!done) await reader.cancel().catch(() => {});
    reader.releaseLock();
  }
}

/** The chunks of any request body, for counting or hashing them on the way out. */
export function chunksOf(body: RequestBody): AsyncIterable<Uint8Array> {
  if (typeof body === 'string') return oneChunk(new TextEncoder().encode(body));
  if (body instanceof Uint8Array) return oneChunk(body);
  if (body instanceof Blob) return chunksOfStream(body.stream() as ReadableStream<Uint8Array>);
  if (body instanceof ReadableStream) return chunksOfStream(body);
  return body;
}

async function* oneChunk(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}

/** A Web ReadableStream pulling from an async iterable, which it stops when cancelled. */
export function streamOfChunks(source: AsyncIterable<Uint8Array>): ReadableStream<Uint8Array> {
  const iterator = source[Symbol.asyncIterator]();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const next = await iterator.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  });
}

/**
 * Passes chunks through, counting them from `startAt` (a resumed transfer), reporting progress,
 * and with `onShort` failing at the end if fewer than `total` arrived: a download cut short is an
 * error, never a silently short value.
 */
export async function* countBytes(
  source: AsyncIterable<Uint8Array>,
  options: {
    startAt?: number;
    total: number | undefined;
    onProgress?: ((bytes: number, total: number | undefined) => void) | undefined;
    onShort?: (received: number) => Error;
  },
): AsyncGenerator<Uint8Array> {
  let seen = options.startAt ?? 0;
  for await (const chunk of source) {
    seen += chunk.length;
    options.onProgress?.(seen, options.total);
    yield chunk;
  }
  if (options.onShort && options.total !== undefined && seen !== options.total) throw options.onShort(seen);
}

/** Resolves after `ms`, or rejects with the signal's reason when it aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Every chunk of `chunks`, joined into one array. */
export async function collect(chunks: AsyncIterable<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let length = 0;
  for await (const chunk of chunks) {
    parts.push(chunk);
    length += chunk.length;
  }
  const bytes = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return bytes;
}
