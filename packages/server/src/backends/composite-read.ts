import { Readable } from 'node:stream';
import { BlobNotFoundError, type BlobStore } from './blob-store.js';
import type { ManifestPart } from './composite.js';

/** The piece of one part a read needs: bytes `from`..`to` of the part (inclusive). */
interface Segment {
  readonly part: ManifestPart;
  readonly from: number;
  readonly to: number;
}

/**
 * Bytes `start`..`end` (inclusive) of a composite value whose parts are `parts`, in order. The
 * first part read is opened before this returns, so that a part already gone (the value was
 * replaced and its parts collected since the lookup) raises BlobNotFoundError for the caller to
 * look the key up again; later parts are opened as the read reaches them, one at a time.
 */
export async function readComposite(blobs: BlobStore, parts: readonly ManifestPart[], start: number, end: number): Promise<Readable> {
  const segments: Segment[] = [];
  let offset = 0;
  for (const part of parts) {
    const partEnd = offset + part.size - 1;
    if (partEnd >= start && offset <= end) segments.push({ part, from: Math.max(start - offset, 0), to: Math.min(end, partEnd) - offset });
    offset += part.size;
  }
  // No parts: the manifest was dissolved after the lookup (its value replaced, its parts collected).
  if (segments.length === 0) throw new BlobNotFoundError('manifest');
  const [first, ...rest] = segments as [Segment, ...Segment[]];
  const opened = await open(blobs, first);
  const body = Readable.from(chain(blobs, opened, rest), { objectMode: false });
  // Destroyed before its first read, the chain never started: the part opened here is closed here.
  body.once('close', () => {
    if (!Buffer.isBuffer(opened) && !opened.destroyed) opened.destroy();
  });
  return body;
}

async function open(blobs: BlobStore, { part, from, to }: Segment): Promise<Readable | Buffer> {
  if (part.blobId === null) return (part.inline ?? Buffer.alloc(0)).subarray(from, to + 1);
  return blobs.read({ blobId: part.blobId, start: from, end: to, size: part.size });
}

async function* chain(blobs: BlobStore, first: Readable | Buffer, rest: readonly Segment[]): AsyncGenerator<Buffer> {
  let current: Readable | Buffer | undefined = first;
  try {
    for (let i = 0; ; i++) {
      if (Buffer.isBuffer(current)) yield current;
      else yield* current as AsyncIterable<Buffer>;
      const next = rest[i];
      if (!next) return;
      current = undefined;
      current = await open(blobs, next);
    }
  } finally {
    // A reader that stops early (a client gone) leaves no part's stream open.
    if (current && !Buffer.isBuffer(current)) current.destroy();
  }
}
