import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { ObjectRef, UploadGrantInfo, WriteCondition } from '../../src/backends/backend.js';
import type { IndexRow, ObjectIndex, PutRowOptions } from '../../src/backends/object-index.js';

/** Every instant is passed in: the contract never reads a clock. */
export const T0 = 1_700_000_000_000;
export const SECOND = 1_000;

export function ref(key: string, tenant = 'acme', type: ObjectRef['type'] = 'data'): ObjectRef {
  return { tenant, type, key };
}

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * A version id for a row about to be put, as the engine gives every write one (IndexedBackend):
 * the row the index stores, and finds, names it.
 */
export function versionId(): string {
  return `v${randomBytes(10).toString('base64url')}`;
}

/** A row holding `size` bytes in a blob of its own (or `inline` bytes). */
export function blobRow(size: number, overrides: Partial<IndexRow> = {}): IndexRow {
  const blobId = `blob-${randomBytes(8).toString('hex')}`;
  return {
    size,
    sha256: sha256(Buffer.from(blobId)),
    contentType: 'application/octet-stream',
    lastModified: T0,
    expiresAt: null,
    blobId,
    inline: null,
    attributes: null,
    versionId: versionId(),
    ...overrides,
  };
}

export function inlineRow(text: string, overrides: Partial<IndexRow> = {}): IndexRow {
  const data = Buffer.from(text, 'utf8');
  return {
    size: data.length,
    sha256: sha256(data),
    contentType: 'text/plain; charset=utf-8',
    lastModified: T0,
    expiresAt: null,
    blobId: null,
    inline: data,
    attributes: null,
    versionId: versionId(),
    ...overrides,
  };
}

export function etagOf(row: IndexRow): string {
  return `"${row.sha256}"`;
}

export function put(index: ObjectIndex, target: ObjectRef, row: IndexRow, options: Partial<PutRowOptions> = {}): Promise<void> {
  return index.put({ ref: target, row, condition: undefined, now: T0, collectAfter: T0, ...options });
}

export function remove(
  index: ObjectIndex,
  target: ObjectRef,
  options: { now?: number; condition?: WriteCondition; collectAfter?: number } = {},
) {
  return index.remove({ ref: target, now: options.now ?? T0, condition: options.condition, collectAfter: options.collectAfter ?? T0 });
}

export function grant(uploadId: string, target: ObjectRef, overrides: Partial<UploadGrantInfo> = {}): UploadGrantInfo {
  return {
    uploadId,
    ref: target,
    contentType: 'application/octet-stream',
    sessionExpiresAt: T0 + 3_600 * SECOND,
    objectExpiresAt: undefined,
    ...overrides,
  };
}

/** Every queued blob due at `now` (a long lease, so none comes back during the test). */
export async function takeAll(index: ObjectIndex, now: number): Promise<string[]> {
  return (await index.takeGarbage({ now, limit: 1_000, leaseMs: 3_600 * SECOND })).sort();
}

/** Keys in UTF-8 byte order, which is what listing promises (not UTF-16 code unit order). */
export function byteOrder(keys: readonly string[]): string[] {
  return [...keys].sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

export async function listAll(index: ObjectIndex, options: { tenant?: string; prefix?: string; now?: number; pageSize: number }) {
  const keys: string[] = [];
  const pages: string[][] = [];
  let afterKey: string | undefined;
  for (;;) {
    const page = await index.list({
      tenant: options.tenant ?? 'acme',
      type: 'data',
      prefix: options.prefix ?? '',
      after: afterKey,
      limit: options.pageSize,
      now: options.now ?? T0,
    });
    pages.push(page.keys);
    keys.push(...page.keys);
    if (!page.truncated) return { keys, pages };
    assert.equal(page.keys.length, options.pageSize, 'a truncated page is a full page');
    afterKey = page.keys.at(-1);
  }
}

export const code = (expected: string) => (error: unknown) => {
  assert.equal((error as { code?: unknown }).code, expected, `expected ${expected}, got ${String(error)}`);
  return true;
};
