import { bucketSegment } from './buckets.js';
import {
  type BucketName,
  Headers,
  type RestoreKeyResult,
  type RestorePrefixResult,
  Routes,
  type VersionEntry,
  type VersionsPage,
} from './protocol.js';
import type { Transport } from './transport.js';

interface Call {
  storageType: BucketName;
  signal: AbortSignal | undefined;
}

/** `POST {type}/restore` with a JSON body; retried after a lost response only when `idempotent`. */
async function restoreCall<T>(transport: Transport, body: unknown, call: Call, idempotent: boolean): Promise<T> {
  const bytes = new TextEncoder().encode(JSON.stringify(body));
  return transport.send(
    {
      method: 'POST',
      url: `/${bucketSegment(call.storageType)}/${Routes.restore}`,
      headers: { 'content-type': 'application/json' },
      body: { create: () => bytes, replayable: true, length: bytes.length },
      signal: call.signal,
      ...(idempotent ? { retry: transport.options.retry.alsoRetrying('POST') } : {}),
    },
    async (response) => (await response.body.json()) as T,
  );
}

/**
 * A key's version made current again. With a version id it is retried after a lost response (a
 * repeat finds the key already holding that value); without, it is not: a repeat would restore
 * the value the first attempt replaced.
 */
export function restoreKey(transport: Transport, key: string, versionId: string | undefined, call: Call): Promise<RestoreKeyResult> {
  if (typeof key !== 'string' || key === '') throw new TypeError('key must be a non-empty string');
  return restoreCall(transport, versionId === undefined ? { key } : { key, versionId }, call, versionId !== undefined);
}

/** A prefix put back as it was at `at`; retried after a lost response (running it again converges). */
export function restorePrefix(transport: Transport, prefix: string, at: Date | string, call: Call): Promise<RestorePrefixResult> {
  if (typeof prefix !== 'string') throw new TypeError('prefix must be a string');
  const instant = typeof at === 'string' ? new Date(at) : at;
  if (!(instant instanceof Date) || Number.isNaN(instant.getTime())) throw new TypeError('at must be a Date or an ISO 8601 instant');
  return restoreCall(transport, { prefix, at: instant.toISOString() }, call, true);
}

/** Every version under `prefix` (`GET {type}/versions`, all pages): by key, newest first. */
export async function listVersions(
  transport: Transport,
  prefix: string,
  call: Call & { limit?: number | undefined },
): Promise<VersionEntry[]> {
  const versions: VersionEntry[] = [];
  let token: string | undefined;
  do {
    const page = await versionsPage(transport, prefix, token, call);
    versions.push(...page.versions);
    token = page.next ?? undefined;
  } while (token);
  return versions;
}

/** One page of `GET {type}/versions`, after the page token `token`. */
export function versionsPage(
  transport: Transport,
  prefix: string,
  token: string | undefined,
  call: Call & { limit?: number | undefined },
): Promise<VersionsPage> {
  const query = new URLSearchParams({ prefix });
  if (call.limit !== undefined) query.set('limit', String(call.limit));
  return transport.send(
    {
      method: 'GET',
      url: `/${bucketSegment(call.storageType)}/${Routes.versions}?${query}`,
      headers: token ? { [Headers.next]: token } : {},
      signal: call.signal,
    },
    async (response) => (await response.body.json()) as VersionsPage,
  );
}
