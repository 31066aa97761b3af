import type { BodySource } from './transport.js';

/** Anything `set` accepts as a value: text, bytes and Blobs, or a stream (Web, or any async iterable of bytes such as a Node Readable). */
export type StorageValue = string | Uint8Array | Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

/** Turns a value into a body source: strings, bytes and Blobs can be replayed on retry; streams cannot. */
export function bodyFromValue(value: StorageValue): BodySource {
  if (typeof value === 'string') {
    const bytes = new TextEncoder().encode(value);
    return { create: () => bytes, replayable: true, length: bytes.length };
  }
  if (value instanceof Uint8Array) return { create: () => value, replayable: true, length: value.length };
  if (typeof Blob !== 'undefined' && value instanceof Blob) return { create: () => value, replayable: true, length: value.size };
  if (isWebStream(value) || isAsyncIterable(value)) return { create: () => value, replayable: false, length: undefined };
  throw new TypeError('value must be a string, Uint8Array, Buffer, Blob, ReadableStream or async iterable of bytes (Readable)');
}

function isWebStream(value: unknown): value is ReadableStream<Uint8Array> {
  return typeof (value as { getReader?: unknown })?.getReader === 'function';
}

function isAsyncIterable(value: unknown): value is AsyncIterable<Uint8Array> {
  return typeof (value as { [Symbol.asyncIterator]?: unknown })?.[Symbol.asyncIterator] === 'function';
}
