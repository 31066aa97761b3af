import type { Sha256Factory } from './sha256.js';
import { chunksOf } from './streams.js';
import { type BodySource, readErrorResponse, type TransportResponse } from './transport.js';

/** A body that hashes its bytes as they go out, and its hex sha256. */
export interface HashedBody {
  body: BodySource;
  /**
   * The sha256 of the bytes: as an attempt sent them all, or else read again from the body (it is
   * replayable). An attempt may end before its body went out whole (a connection cut, or a 412
   * answered before the server read the body), so neither attempt of a retried write need have
   * hashed it.
   */
  sha256(): Promise<string>;
}

/**
 * Wraps a replayable body so its sha256 is known after it was sent. A conditional write
 * (If-None-Match / If-Match) whose response was lost is retried, and the retry's 412 is then
 * caused by the first attempt's own success; the sha256 lets the caller recognise its own
 * bytes at the key (RFC 9110 §13.1 leaves this to the client). Every attempt sends the same
 * bytes, so the first complete digest holds for all.
 */
export function hashWhileSending(body: BodySource, newSha256: Sha256Factory): HashedBody {
  let digest: string | undefined;
  const hashed: BodySource = {
    replayable: body.replayable,
    length: body.length,
    create: () => {
      const created = body.create();
      if (typeof created === 'string' || created instanceof Uint8Array) {
        digest ??= newSha256()
          .update(typeof created === 'string' ? new TextEncoder().encode(created) : created)
          .digestHex();
        return created;
      }
      // A Blob goes out as it is (browsers stream no request bodies over HTTP/1.1); a 412 that
      // needs its digest reads it again.
      if (created instanceof Blob) return created;
      return (async function* hashing() {
        const hash = newSha256();
        for await (const chunk of chunksOf(created)) {
          hash.update(chunk);
          yield chunk;
        }
        digest ??= hash.digestHex();
      })();
    },
  };
  const sha256 = async () => {
    digest ??= await digestOf(body, newSha256);
    return digest;
  };
  return { body: hashed, sha256 };
}

/** The sha256 of a replayable body, read once more from its start. */
async function digestOf(body: BodySource, newSha256: Sha256Factory): Promise<string> {
  const hash = newSha256();
  for await (const chunk of chunksOf(body.create())) hash.update(chunk);
  return hash.digestHex();
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
  /** The sha256 of the bytes sent (undefined: the body cannot tell, so the 412 stands). */
  sentSha256: () => Promise<string | undefined>;
  lookup: () => Promise<StoredValue>;
}): Promise<{ key: string; size: number; etag: string; sha256: string }> {
  const refusal = await readErrorResponse(options.response);
  if (!options.response.earlierAttemptMayHaveApplied) throw refusal;
  const sent = await options.sentSha256();
  if (sent === undefined) throw refusal;
  const stored = await options.lookup();
  if (stored === undefined || stored.sha256 !== sent) throw refusal;
  return { key: options.key, size: stored.size, etag: stored.etag, sha256: stored.sha256 };
}
