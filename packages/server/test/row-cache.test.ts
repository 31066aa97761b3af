import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { ObjectRef } from '../src/backends/backend.js';
import { SqliteIndex } from '../src/backends/fs/sqlite-index.js';
import type { IndexRow } from '../src/backends/object-index.js';
import { ATTRIBUTE_LAYOUT } from '../src/storage/object-attributes.js';

// The embedded index keeps recently read rows in memory (RowCache). Each test reads a row first,
// so that it is cached, then changes it in every way the index can, and reads again: a cache that
// missed one write path would answer with the old row.

const T0 = Date.UTC(2026, 0, 1);
const ref: ObjectRef = { tenant: 'acme', type: 'data', key: 'report.csv' };

function row(text: string, expiresAt: number | null = null): IndexRow {
  return {
    size: text.length,
    sha256: `sha-${text}`,
    contentType: 'text/plain',
    lastModified: T0,
    expiresAt,
    blobId: null,
    inline: Buffer.from(text),
  };
}

describe('SQLite index row cache', () => {
  let dir: string;
  let index: SqliteIndex;
  const open = (rowCacheBytes: number, defaultQuotaBytes: number | null = null) =>
    SqliteIndex.open({
      file: path.join(dir, 'index.sqlite'),
      durability: 'process',
      defaultQuotaBytes,
      rowCacheBytes,
      attributeLayout: ATTRIBUTE_LAYOUT,
    });

  beforeEach(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'stowage-row-cache-'));
    index = await open(1024 * 1024);
  });
  afterEach(async () => {
    await index.close();
    await rm(dir, { recursive: true, force: true });
  });

  const put = (value: IndexRow, condition?: { ifMatch?: string; ifNoneMatch?: string }) =>
    index.put({ ref, row: value, condition, now: T0, collectAfter: T0 });
  const text = async (now = T0) => (await index.find({ ref, now }))?.inline?.toString();

  it('a replace is read back at once, also after the old row was read', async () => {
    await put(row('v1'));
    assert.equal(await text(), 'v1');
    await put(row('v2'));
    assert.equal(await text(), 'v2');
  });

  it('a removed row is gone, also after it was read', async () => {
    await put(row('v1'));
    assert.equal(await text(), 'v1');
    assert.equal(await index.remove({ ref, condition: undefined, now: T0, collectAfter: T0 }), true);
    assert.equal(await text(), undefined);
  });

  it('a row removed by the expiry sweep is gone even when asked at a time before it expired', async () => {
    await put(row('v1', T0 + 1000));
    assert.equal(await text(), 'v1');
    assert.equal(await index.sweepExpired({ now: T0 + 2000, limit: 10, collectAfter: T0 }), 1);
    assert.equal(await text(T0), undefined, 'the row is no longer in the index');
  });

  it('an expired cached row is not served', async () => {
    await put(row('v1', T0 + 1000));
    assert.equal(await text(T0 + 999), 'v1');
    assert.equal(await text(T0 + 1000), undefined);
  });

  it('a write refused by its condition or the quota leaves the cached row right', async () => {
    await index.close();
    index = await open(1024 * 1024, 10);
    await put(row('v1'));
    assert.equal(await text(), 'v1');
    await assert.rejects(put(row('v2'), { ifMatch: '"other"' }), { code: 'PreconditionFailed' });
    await assert.rejects(put(row('far too long for the quota')), { code: 'QuotaExceeded' });
    assert.equal(await text(), 'v1');
    await put(row('v3'), { ifMatch: '"sha-v1"' });
    assert.equal(await text(), 'v3');
  });

  it('a cache smaller than the rows read still answers every key with its own row', async () => {
    await index.close();
    index = await open(4 * 1024);
    const keys = Array.from({ length: 200 }, (_, i) => `k${i}`);
    for (const key of keys)
      await index.put({ ref: { ...ref, key }, row: row(key.repeat(50)), condition: undefined, now: T0, collectAfter: T0 });
    for (let round = 0; round < 2; round++)
      for (const key of keys) assert.equal((await index.find({ ref: { ...ref, key }, now: T0 }))?.inline?.toString(), key.repeat(50));
  });

  it('keys that would run together are told apart (tenant, type and key boundaries)', async () => {
    const a: ObjectRef = { tenant: 'a/data', type: 'tmp', key: 'k' };
    const b: ObjectRef = { tenant: 'a', type: 'data', key: 'tmp/k' };
    await index.put({ ref: a, row: row('A'), condition: undefined, now: T0, collectAfter: T0 });
    await index.put({ ref: b, row: row('B'), condition: undefined, now: T0, collectAfter: T0 });
    assert.equal((await index.find({ ref: a, now: T0 }))?.inline?.toString(), 'A');
    assert.equal((await index.find({ ref: b, now: T0 }))?.inline?.toString(), 'B');
  });
});
