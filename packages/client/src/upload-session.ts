import { StorageError } from './errors.js';
import { Retry, type RetryCause } from './retry.js';
import { retryCauseOf, type Transport, type TransportResponse } from './transport.js';

/**
 * The requests of a resumable upload on an upload URL (GCS protocol, docs/protocol.md): chunks,
 * status queries and cancelling, each sent once; the upload loops retry them by their policy.
 */

const NO_RETRY = Retry.none();

/** Cancels the upload session (DELETE on its URL, as GCS does); best effort. */
export async function cancelUpload(transport: Transport, url: string): Promise<void> {
  await transport.send({ method: 'DELETE', url, anonymous: true, retry: NO_RETRY, acceptStatus: [404] }, async (response) =>
    response.body.dump(),
  );
}

export async function sendChunk(
  transport: Transport,
  url: string,
  request: Pick<Parameters<Transport['send']>[0], 'headers' | 'body' | 'signal'>,
): Promise<TransportResponse> {
  return transport.send(
    { method: 'PUT', url, anonymous: true, retry: NO_RETRY, acceptStatus: [308], ...request },
    async (response) => response,
  );
}

/** Bytes the server holds, from a 308's `Range: bytes=0-N` (none: 0). */
export function acknowledgedBytes(response: TransportResponse): number {
  const range = response.headers.range;
  const match = typeof range === 'string' ? /^bytes=0-(\d+)$/.exec(range) : null;
  return match ? Number(match[1]) + 1 : 0;
}

export async function queryStatus(
  transport: Transport,
  url: string,
  size: number | '*',
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
): Promise<number | 'complete'> {
  const response = await sendChunk(transport, url, { headers: { ...headers, 'content-range': `bytes */${size}` }, signal });
  if (response.statusCode === 200) {
    await response.body.dump();
    return 'complete';
  }
  await response.body.dump();
  return acknowledgedBytes(response);
}

export async function completedInfo(
  transport: Transport,
  url: string,
  size: number,
  headers: Record<string, string>,
  signal: AbortSignal | undefined,
) {
  const response = await sendChunk(transport, url, { headers: { ...headers, 'content-range': `bytes */${size}` }, signal });
  return response.body.json();
}

/** What the policy retries, plus an offset disagreement: the status query settles where to go on. */
export function uploadRetryCause(error: unknown, policy: Retry): RetryCause | undefined {
  if (error instanceof StorageError && error.code === 'UploadOffsetMismatch')
    return { kind: 'status', status: 409, retryAfterSeconds: undefined };
  return retryCauseOf(error, policy, 'PUT');
}
