import {
  type BucketName,
  COPY_PATH,
  type CopyEndpoint,
  type CopyKeyResult,
  type CopyPrefixResult,
  type CopyRequest,
  MOVE_PATH,
} from './protocol.js';
import type { Transport } from './transport.js';

/** One object: a key (in `data`), or `{ type, key }` where `type` is a storage type or a bucket's name. */
export type KeyLocation = string | { readonly type?: BucketName; readonly key: string };

/** Every key under a prefix: `{ type, prefix }` (type `data` by default; a storage type or a bucket's name). */
export interface PrefixLocation {
  readonly type?: BucketName;
  readonly prefix: string;
}

/** Options of `copy` and `move`. */
export interface CopyOptions {
  /** Replace existing destination keys. Default false: 409 DestinationExists for a key; skipped under a prefix. */
  overwrite?: boolean;
  /** Copy or move the key only if its ETag is still this one (single keys only); else PreconditionFailedError. */
  ifMatch?: string;
  signal?: AbortSignal;
}

function endpoint(location: KeyLocation | PrefixLocation): CopyEndpoint {
  if (typeof location === 'string') return { type: 'data', key: location };
  const type = location.type ?? 'data';
  if ('prefix' in location && typeof location.prefix === 'string') return { type, prefix: location.prefix };
  if ('key' in location && typeof location.key === 'string') return { type, key: location.key };
  throw new TypeError('a copy or move location is a key, { type?, key } or { type?, prefix }');
}

/**
 * `POST /copy` or `POST /move`. What may be repeated after a lost response decides the retries:
 * a copy with `overwrite` ends in the same state however often it runs, so it is retried like a
 * PUT. A copy without `overwrite` would meet its own first copy (409, or every key skipped), and a
 * move would find its source gone (404, or nothing left to move): those are sent once, and only a
 * request that never reached the server (a connection refused) is tried again.
 */
export async function copyOrMove(
  transport: Transport,
  operation: 'copy' | 'move',
  source: KeyLocation | PrefixLocation,
  destination: KeyLocation | PrefixLocation,
  options: CopyOptions,
): Promise<CopyKeyResult | CopyPrefixResult> {
  const request: CopyRequest = { source: endpoint(source), destination: endpoint(destination), overwrite: options.overwrite === true };
  if ('key' in request.source !== 'key' in request.destination)
    throw new TypeError(`${operation} goes from a key to a key, or from a prefix to a prefix`);
  const body = new TextEncoder().encode(JSON.stringify(request));
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (options.ifMatch !== undefined) headers['if-match'] = options.ifMatch;
  const idempotent = operation === 'copy' && request.overwrite === true;
  return transport.send(
    {
      method: 'POST',
      url: operation === 'copy' ? COPY_PATH : MOVE_PATH,
      headers,
      body: { create: () => body, replayable: true, length: body.length },
      signal: options.signal,
      retry: idempotent ? transport.options.retry.alsoRetrying('POST') : undefined,
    },
    async (response) => (await response.body.json()) as CopyKeyResult | CopyPrefixResult,
  );
}
