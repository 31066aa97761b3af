import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, Transform } from 'node:stream';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import type { BodySource } from './transport.js';

/** Anything `set` accepts as a value. */
export type StorageValue = string | Uint8Array | Readable | WebReadableStream | ReadableStream | Blob;

/** Turns a value into a body source: strings, bytes and Blobs can be replayed on retry; streams cannot. */
export function bodyFromValue(value: StorageValue): BodySource {
  if (typeof value === 'string') {
    const bytes = Buffer.from(value, 'utf8');
    return { create: () => bytes, replayable: true, length: bytes.length };
  }
  if (value instanceof Uint8Array) return { create: () => value, replayable: true, length: value.length };
  if (typeof Blob !== 'undefined' && value instanceof Blob) {
    return { create: () => Readable.fromWeb(value.stream() as WebReadableStream), replayable: true, length: value.size };
  }
  if (value instanceof Readable) return { create: () => value, replayable: false, length: undefined };
  if (isWebStream(value)) {
    const stream = Readable.fromWeb(value as WebReadableStream);
    return { create: () => stream, replayable: false, length: undefined };
  }
  throw new TypeError('value must be a string, Uint8Array, Buffer, Blob, Readable or ReadableStream');
}

/** A file by path: opened anew for every attempt, so uploads from files are retried safely. */
export async function bodyFromFile(file: string): Promise<BodySource> {
  const { size } = await stat(file);
  return { create: () => createReadStream(file, { highWaterMark: 256 * 1024 }), replayable: true, length: size };
}

function isWebStream(value: unknown): boolean {
  return typeof (value as { getReader?: unknown })?.getReader === 'function';
}

/**
 * Passes bytes through, counting them from `startAt` (a resumed transfer), reporting progress,
 * and with `onShort` failing at the end if fewer than `total` arrived: a download cut short is
 * an error, never a silently short value.
 */
export function byteCounter(options: {
  startAt?: number;
  total: number | undefined;
  onProgress?: ((bytes: number, total: number | undefined) => void) | undefined;
  onShort?: (received: number) => Error;
}): Transform {
  let seen = options.startAt ?? 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      options.onProgress?.(seen, options.total);
      callback(null, chunk);
    },
    flush(callback) {
      callback(options.onShort && options.total !== undefined && seen !== options.total ? options.onShort(seen) : null);
    },
  });
}
