import { ConnectionError, PreconditionFailedError, StorageError } from './errors.js';
import { sleep } from './streams.js';
import { retryCauseOf, type Transport, type TransportResponse } from './transport.js';

/**
 * The body of a GET that picks up where it broke: after a network failure or a stall mid-body it
 * asks again for the rest (`Range: bytes=N-` with `If-Match: <etag>`, so bytes of two versions are
 * never stitched together) and goes on yielding from there. Failures are retried by the
 * transport's Retry policy; only failures in a row count, so a long download over a poor network
 * finishes as long as each attempt gains bytes. It ends with an error if the value changed
 * (PreconditionFailedError), the server answers the resume with other bytes (`ResumeRefused`),
 * or the budget is spent.
 *
 * In a browser, a read the server offloads to the store is followed by the browser itself, which
 * hides the object's ETag; the store's URL then names the value instead (a blob, whose bytes never
 * change). The rest is asked of that URL while it lasts (no credentials: it is signed), and else
 * of the server again, whose answer must come from the same blob. A rest the server serves itself
 * (one too short for it to hand off) cannot be told to be the same value, so the store comes first.
 */
export async function* resumingBody(
  transport: Transport,
  url: string,
  first: TransportResponse,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array> {
  const etag = header(first, 'etag');
  const blob = blobOf(first);
  /** The signed store URL of the blob, while the browser follows the server's redirects. */
  let storeUrl = etag ? undefined : first.redirectedTo;
  const total = Number(header(first, 'content-length') ?? Number.NaN);
  const policy = transport.options.retry;
  let retries = policy.start();
  let response = first;
  let received = 0;
  for (;;) {
    const before = received;
    try {
      for await (const chunk of response.body) {
        received += chunk.length;
        yield chunk;
      }
      if (Number.isNaN(total) || received === total) return;
      throw new ConnectionError(`Download ended after ${received} of ${total} bytes`, { code: 'ShortBody' });
    } catch (error) {
      const cause = retryCauseOf(error, policy, 'GET') ?? (isShortBody(error) ? { kind: 'read' as const } : undefined);
      // Without an ETag or a blob to check, a resumed request could return another value's bytes.
      if (!cause || (!etag && !blob) || Number.isNaN(total)) throw error;
      if (received > before) retries = policy.start();
      const delay = retries.next('GET', cause);
      if (delay === undefined) throw error;
      await sleep(delay, signal);
    }
    const range = `bytes=${received}-`;
    const fromStore = storeUrl === undefined ? undefined : await restFromStore(transport, storeUrl, received, total, signal);
    if (fromStore) {
      response = fromStore;
      continue;
    }
    response = await transport.send(
      { method: 'GET', url, headers: etag ? { range, 'if-match': etag } : { range }, signal },
      async (answer) => answer,
    );
    if (!etag) {
      checkSameBlob(response, blob);
      storeUrl = response.redirectedTo;
    }
    checkResumed(response, received, total);
  }
}

/**
 * The rest of a blob, from `storeUrl` itself: the 206 of exactly the bytes asked for, or undefined
 * when the store does not give it, and the server is to be asked: the URL expired (a 403, not
 * retried), the store stayed out of reach through the transport's retries, or its answer is not
 * that range (CORS rules that hide Content-Range).
 */
async function restFromStore(
  transport: Transport,
  storeUrl: string,
  from: number,
  total: number,
  signal: AbortSignal | undefined,
): Promise<TransportResponse | undefined> {
  let response: TransportResponse;
  try {
    response = await transport.send(
      { method: 'GET', url: storeUrl, headers: { range: `bytes=${from}-` }, signal, anonymous: true },
      async (answer) => answer,
    );
  } catch (error) {
    if (signal?.aborted) throw error;
    return undefined;
  }
  if (resumesAt(response, from, total)) return response;
  response.body.dump().catch(() => {});
  return undefined;
}

/** The store blob a browser-followed answer came from: its URL without the (signed, changing) query. */
function blobOf(response: TransportResponse): string | undefined {
  if (response.redirectedTo === undefined) return undefined;
  const url = new URL(response.redirectedTo);
  return `${url.origin}${url.pathname}`;
}

/**
 * A resume without an ETag must come from the blob the first answer came from: from another, the
 * value changed; from the server itself (a rest too short to hand off), nothing tells.
 */
function checkSameBlob(response: TransportResponse, blob: string | undefined): void {
  const from = blobOf(response);
  if (blob !== undefined && from === blob) return;
  response.body.dump().catch(() => {});
  if (from === undefined) {
    throw new StorageError(
      'The rest of the download came from the server, not from the store it was sent to first: in a browser, nothing tells whether it is the same value (its ETag stays behind the redirect)',
      { code: 'ResumeRefused' },
    );
  }
  throw new PreconditionFailedError('The value changed while it was downloaded: its rest comes from another blob', {
    status: 412,
    code: 'PreconditionFailed',
  });
}

function isShortBody(error: unknown): boolean {
  return error instanceof StorageError && error.code === 'ShortBody';
}

function header(response: TransportResponse, name: string): string | undefined {
  const value = response.headers[name];
  return typeof value === 'string' ? value : undefined;
}

/** Whether `response` is the 206 of exactly the bytes from `from` on, of a value `total` long. */
function resumesAt(response: TransportResponse, from: number, total: number): boolean {
  const range = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(header(response, 'content-range') ?? '');
  return response.statusCode === 206 && range !== null && Number(range[1]) === from && Number(range[3]) === total;
}

/** A resumed answer must be the 206 of exactly the bytes asked for, of the same length. */
function checkResumed(response: TransportResponse, from: number, total: number): void {
  if (!resumesAt(response, from, total)) {
    response.body.dump().catch(() => {});
    throw new StorageError(`The server did not resume the download at byte ${from} (status ${response.statusCode})`, {
      status: response.statusCode,
      code: 'ResumeRefused',
    });
  }
}
