import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import { type BodySource, readErrorResponse, type TransportResponse } from './transport.js';

/** A body that hashes its bytes as they go out, and the hex sha256 once one attempt sent them all. */
export interface HashedBody {
  body: BodySource;
  sha256(): string | undefined;
}

/**
 * Wraps a replayable body so its sha256 is known after it was sent. A conditional write
 * (If-None-Match / If-Match) whose response was lost is retried, and the retry's 412 is then
 * caused by the first attempt's own success; the sha256 lets the caller recognise its own
 * bytes at the key (RFC 9110 §13.1 leaves this to the client). Every attempt sends the same
 * bytes, so the first complete digest holds for all.
 */
export function hashWhileSending(body: BodySource): HashedBody {
  let digest: string | undefined;
  const hashed: BodySource = {
    replayable: body.replayable,
    length: body.length,
    create: () => {
      const created = body.create();
      if (!(created instanceof Readable)) {
        digest ??= createHash('sha256').update(created).digest('hex');
        return created;
      }
      const hash = createHash('sha256');
      const meter = new Transform({
        transform(chunk: Buffer, _encoding, callback) {
          hash.update(chunk);
          callback(null, chunk);
        },
        flush(callback) {
          digest ??= hash.digest('hex');
          callback();
        },
      });
      created.on('error', (error) => meter.destroy(error));
      return created.pipe(meter);
    },
  };
  return { body: hashed, sha256: () => digest };
}

/** What a HEAD tells about the value now at the key (undefined: none). */
export type StoredValue = { size: number; etag: string; sha256: string } | undefined;

/**
 * Settles a 412 to a conditional write. On a retry whose earlier attempt may have been applied,
 * a value at the key with the sha256 of the bytes sent is that attempt's own write: the set
 * succeeded. (Another writer storing the very same bytes in between is indistinguishable, and
 * leaves the key as this write would have.) Otherwise the 412 stands.
 */
export async function settlePreconditionFailed(options: {
  key: string;
  response: TransportResponse;
  sentSha256: string | undefined;
  lookup: () => Promise<StoredValue>;
}): Promise<{ key: string; size: number; etag: string; sha256: string }> {
  const refusal = await readErrorResponse(options.response);
  if (!options.response.earlierAttemptMayHaveApplied || options.sentSha256 === undefined) throw refusal;
  const stored = await options.lookup();
  if (stored === undefined || stored.sha256 !== options.sentSha256) throw refusal;
  return { key: options.key, size: stored.size, etag: stored.etag, sha256: stored.sha256 };
}
