import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { ObjectRef } from '../../src/backends/backend.js';
import { type IndexRow, infoOf, type ObjectIndex } from '../../src/backends/object-index.js';

/** An index to test, fresh and empty, and how to dispose of it. */
export interface OpenedIndex {
  readonly index: ObjectIndex;
  /** The `attributes` column of `ref`'s row as stored, read and written past the index (what another version wrote). */
  readonly attributesColumn: {
    read(ref: ObjectRef): Promise<string | null>;
    write(ref: ObjectRef, column: string | null): Promise<void>;
  };
  /** Makes `ref`'s row look written before rows had version ids (both version columns NULL). */
  makeLegacy(ref: ObjectRef): Promise<void>;
  close(): Promise<void>;
}

import { bucketsContract } from './buckets-contract.js';
import { blobRow, byteOrder, code, etagOf, grant, inlineRow, listAll, put, ref, remove, SECOND, T0, takeAll } from './index-fixtures.js';
import { batchContract } from './object-index-batch-contract.js';
import { retentionContract } from './retention-contract.js';
import { storedAttributesContract } from './stored-attributes-contract.js';

/**
 * The behaviour every ObjectIndex must have, SQLite and PostgreSQL alike. `open` gives a fresh,
 * empty index each time (default quota: unlimited); each test opens its own.
 */
export function objectIndexContract(name: string, open: () => Promise<OpenedIndex>, options: { skip?: string | false } = {}): void {
  describe(`ObjectIndex contract: ${name}`, { skip: options.skip || false }, () => {
    const opened: OpenedIndex[] = [];
    const fresh = async (): Promise<ObjectIndex> => {
      const handle = await open();
      opened.push(handle);
      return handle.index;
    };
    after(async () => {
      for (const handle of opened.splice(0)) await handle.close();
    });

    describe('stored attributes', () =>
      storedAttributesContract(async () => {
        const handle = await open();
        opened.push(handle);
        return handle;
      }));

    describe('rows', () => {
      let index: ObjectIndex;
      before(async () => {
        index = await fresh();
      });

      it('finds what was put, field for field (blob, inline, empty)', async () => {
        const blob = blobRow(100_000, { contentType: 'image/png', lastModified: T0 + 5 });
        const small = inlineRow('hello');
        const empty = inlineRow('');
        await put(index, ref('rows/blob'), blob);
        await put(index, ref('rows/small'), small);
        await put(index, ref('rows/empty'), empty);
        assert.deepEqual(await index.find({ ref: ref('rows/blob'), now: T0 }), blob);
        assert.deepEqual(await index.find({ ref: ref('rows/small'), now: T0 }), small);
        const found = await index.find({ ref: ref('rows/empty'), now: T0 });
        assert.equal(found?.size, 0);
        assert.equal(found?.inline?.length ?? 0, 0);
        assert.equal(found?.blobId, null);
      });

      it('finds nothing under another key, tenant or type', async () => {
        await put(index, ref('rows/iso'), inlineRow('x'));
        assert.equal(await index.find({ ref: ref('rows/missing'), now: T0 }), undefined);
        assert.equal(await index.find({ ref: ref('rows/iso', 'other'), now: T0 }), undefined);
        assert.equal(await index.find({ ref: ref('rows/iso', 'acme', 'tmp'), now: T0 }), undefined);
        assert.equal(await index.find({ ref: ref('rows/ISO'), now: T0 }), undefined);
      });

      it('keeps keys of any legal text exactly (multi-byte UTF-8, emoji, U+FFFF, 1024 bytes)', async () => {
        const keys = ['ä/ö/ü', '日本語/キー', '😀/🚀', '\uFFFF', 'a b+c%20?#', 'x'.repeat(1024)];
        for (const key of keys) await put(index, ref(key), inlineRow(key));
        for (const key of keys) assert.equal((await index.find({ ref: ref(key), now: T0 }))?.inline?.toString('utf8'), key);
      });

      it('an object is visible until the instant it expires, and not at it', async () => {
        const row = inlineRow('short-lived', { expiresAt: T0 + 10 * SECOND });
        await put(index, ref('rows/ttl', 'acme', 'tmp'), row);
        assert.deepEqual(await index.find({ ref: ref('rows/ttl', 'acme', 'tmp'), now: T0 + 10 * SECOND - 1 }), row);
        assert.equal(await index.find({ ref: ref('rows/ttl', 'acme', 'tmp'), now: T0 + 10 * SECOND }), undefined);
        assert.equal(await index.find({ ref: ref('rows/ttl', 'acme', 'tmp'), now: T0 + 20 * SECOND }), undefined);
      });

      it('a replace shows the new row and queues the old blob, due at collectAfter', async () => {
        const gc = await fresh();
        const first = blobRow(10);
        const second = blobRow(20);
        await put(gc, ref('replace'), first);
        await put(gc, ref('replace'), second, { collectAfter: T0 + 60 * SECOND });
        assert.deepEqual(await gc.find({ ref: ref('replace'), now: T0 }), second);
        assert.deepEqual(await takeAll(gc, T0 + 60 * SECOND - 1), [], 'not due before collectAfter');
        assert.deepEqual(await takeAll(gc, T0 + 60 * SECOND), [first.blobId]);
      });

      it('a replace by an inline value queues the old blob; keeping the same blob queues nothing', async () => {
        const gc = await fresh();
        const blob = blobRow(10);
        await put(gc, ref('same'), blob);
        await put(gc, ref('same'), { ...blob, contentType: 'text/plain', lastModified: T0 + 1 });
        assert.deepEqual(await takeAll(gc, T0 + SECOND), []);
        await put(gc, ref('same'), inlineRow('now inline'));
        assert.deepEqual(await takeAll(gc, T0 + SECOND), [blob.blobId]);
        await gc.forgetGarbage([blob.blobId as string]);
        await put(gc, ref('same'), inlineRow('inline again'));
        assert.deepEqual(await takeAll(gc, T0 + 3_601 * SECOND), [], 'an inline value has no blob to queue');
      });

      it('remove: true and gone when visible, its blob queued; false when there is none', async () => {
        const gc = await fresh();
        const row = blobRow(10);
        await put(gc, ref('gone'), row);
        assert.equal(await remove(gc, ref('gone'), { collectAfter: T0 + SECOND }), true);
        assert.equal(await gc.find({ ref: ref('gone'), now: T0 }), undefined);
        assert.equal(await remove(gc, ref('gone')), false);
        assert.equal(await remove(gc, ref('never')), false);
        assert.deepEqual(await takeAll(gc, T0 + SECOND), [row.blobId]);
        assert.deepEqual(await gc.usage('acme'), { tenant: 'acme', bytes: 0, objects: 0, pendingUploadBytes: 0, quotaBytes: null });
      });

      it('remove of an expired row answers false but drops it (and its usage)', async () => {
        const gc = await fresh();
        const row = blobRow(10, { expiresAt: T0 + SECOND });
        await put(gc, ref('stale', 'acme', 'tmp'), row);
        assert.equal(await remove(gc, ref('stale', 'acme', 'tmp'), { now: T0 + SECOND }), false);
        assert.equal((await gc.usage('acme')).objects, 0);
        assert.equal(await gc.sweepExpired({ now: T0 + 2 * SECOND, limit: 10, collectAfter: T0 }), 0, 'nothing left to sweep');
        assert.deepEqual(await takeAll(gc, T0), [row.blobId]);
      });
    });

    describe('conditions', () => {
      let index: ObjectIndex;
      before(async () => {
        index = await fresh();
      });

      it('If-None-Match: * stores only where no object is visible', async () => {
        const row = inlineRow('first');
        await put(index, ref('inm'), row, { condition: { ifNoneMatch: true } });
        await assert.rejects(put(index, ref('inm'), inlineRow('second'), { condition: { ifNoneMatch: true } }), code('PreconditionFailed'));
        assert.deepEqual(await index.find({ ref: ref('inm'), now: T0 }), row, 'the refused write changed nothing');
      });

      it('If-None-Match: * succeeds over an expired row', async () => {
        await put(index, ref('inm-exp', 'acme', 'tmp'), inlineRow('old', { expiresAt: T0 + SECOND }));
        const row = inlineRow('new');
        await put(index, ref('inm-exp', 'acme', 'tmp'), row, { condition: { ifNoneMatch: true }, now: T0 + SECOND });
        assert.deepEqual(await index.find({ ref: ref('inm-exp', 'acme', 'tmp'), now: T0 + SECOND }), row);
      });

      it('If-Match: the current ETag (or *) stores; another ETag, or no object, is 412', async () => {
        const first = inlineRow('v1');
        await put(index, ref('im'), first);
        const second = inlineRow('v2');
        await put(index, ref('im'), second, { condition: { ifMatch: ['"nope"', etagOf(first)] } });
        await assert.rejects(
          put(index, ref('im'), inlineRow('v3'), { condition: { ifMatch: [etagOf(first)] } }),
          code('PreconditionFailed'),
        );
        const third = inlineRow('v3');
        await put(index, ref('im'), third, { condition: { ifMatch: ['*'] } });
        assert.deepEqual(await index.find({ ref: ref('im'), now: T0 }), third);
        await assert.rejects(put(index, ref('im-missing'), inlineRow('x'), { condition: { ifMatch: ['*'] } }), code('PreconditionFailed'));
        assert.equal(await index.find({ ref: ref('im-missing'), now: T0 }), undefined);
      });

      it('If-Match never matches an expired row', async () => {
        const row = inlineRow('old', { expiresAt: T0 + SECOND });
        await put(index, ref('im-exp', 'acme', 'tmp'), row);
        for (const ifMatch of [['*'], [etagOf(row)]])
          await assert.rejects(
            put(index, ref('im-exp', 'acme', 'tmp'), inlineRow('new'), { condition: { ifMatch }, now: T0 + SECOND }),
            code('PreconditionFailed'),
          );
        await put(index, ref('im-exp', 'acme', 'tmp'), inlineRow('new'), { condition: { ifMatch: [etagOf(row)] }, now: T0 + SECOND - 1 });
      });

      it('remove checks the condition too, and keeps the row when it fails', async () => {
        const row = inlineRow('keep me');
        await put(index, ref('rm-cond'), row);
        await assert.rejects(remove(index, ref('rm-cond'), { condition: { ifMatch: ['"other"'] } }), code('PreconditionFailed'));
        await assert.rejects(remove(index, ref('rm-cond'), { condition: { ifNoneMatch: true } }), code('PreconditionFailed'));
        assert.deepEqual(await index.find({ ref: ref('rm-cond'), now: T0 }), row);
        await assert.rejects(remove(index, ref('rm-none'), { condition: { ifMatch: ['*'] } }), code('PreconditionFailed'));
        assert.equal(await remove(index, ref('rm-cond'), { condition: { ifMatch: [etagOf(row)] } }), true);
      });
    });

    describe('listing', () => {
      let index: ObjectIndex;
      // Byte order differs from UTF-16 order: U+FFFF (EF BF BF) sorts before 😀 (F0 9F 98 80).
      const keys = [
        'a',
        'a/b',
        'a/c',
        'a0',
        'ab',
        'abc',
        'b',
        'B',
        '~',
        'é',
        'ä',
        'äb',
        'ä/x',
        'å',
        '日本',
        '日本語',
        '\uFFFF',
        '\uFFFFz',
        '😀',
        '😀/1',
        '🚀',
        'z',
      ];
      before(async () => {
        index = await fresh();
        for (const key of keys) await put(index, ref(key), inlineRow(key));
        await put(index, ref('a/expired'), inlineRow('gone', { expiresAt: T0 }));
        await put(index, ref('ab-expired'), inlineRow('gone', { expiresAt: T0 - 1 }));
        await put(index, ref('a/other-tenant', 'other'), inlineRow('x'));
        await put(index, ref('a/other-type', 'acme', 'result'), inlineRow('x'));
      });

      it('lists every visible key of the tenant and type, in UTF-8 byte order', async () => {
        const page = await index.list({ tenant: 'acme', type: 'data', prefix: '', after: undefined, limit: 1_000, now: T0 });
        assert.deepEqual(page, { keys: byteOrder(keys), truncated: false });
        assert.notDeepEqual(byteOrder(keys), [...keys].sort(), 'the test keys tell byte order from UTF-16 order');
      });

      it('pages of every size add up to the whole listing, each truncated but the last', async () => {
        const all = byteOrder(keys);
        for (const pageSize of [1, 2, 3, 5, 7, all.length - 1, all.length, all.length + 1]) {
          const { keys: listed, pages } = await listAll(index, { pageSize });
          assert.deepEqual(listed, all, `page size ${pageSize}`);
          assert.equal(pages.length, Math.max(1, Math.ceil(all.length / pageSize)), `pages of ${pageSize}`);
        }
      });

      it('a page that ends exactly at the last key is not truncated', async () => {
        const all = byteOrder(keys);
        const exact = await index.list({ tenant: 'acme', type: 'data', prefix: '', after: undefined, limit: all.length, now: T0 });
        assert.equal(exact.truncated, false);
        const short = await index.list({ tenant: 'acme', type: 'data', prefix: '', after: undefined, limit: all.length - 1, now: T0 });
        assert.equal(short.truncated, true);
        const lastTwo = await index.list({ tenant: 'acme', type: 'data', prefix: '', after: all.at(-3), limit: 2, now: T0 });
        assert.deepEqual(lastTwo, { keys: all.slice(-2), truncated: false });
        const none = await index.list({ tenant: 'acme', type: 'data', prefix: '', after: all.at(-1), limit: 2, now: T0 });
        assert.deepEqual(none, { keys: [], truncated: false });
      });

      it('a prefix is a byte range: multi-byte prefixes and prefixes ending in high bytes', async () => {
        const cases: Array<[string, string[]]> = [
          ['a', ['a', 'a/b', 'a/c', 'a0', 'ab', 'abc']],
          ['a/', ['a/b', 'a/c']],
          ['ab', ['ab', 'abc']],
          ['ä', ['ä', 'ä/x', 'äb']],
          ['日本', ['日本', '日本語']],
          ['\uFFFF', ['\uFFFF', '\uFFFFz']],
          ['😀', ['😀', '😀/1']],
          ['B', ['B']],
          ['c', []],
          ['a/b/', []],
        ];
        for (const [prefix, expected] of cases) {
          for (const pageSize of [1, 2, 100]) {
            const { keys: listed } = await listAll(index, { prefix, pageSize });
            assert.deepEqual(listed, byteOrder(expected), `prefix ${JSON.stringify(prefix)}, pages of ${pageSize}`);
          }
        }
      });

      // The domain only passes an `after` that starts with the prefix (its page token's last key).
      it('after is exclusive and need not be a stored key; past the prefix, nothing follows', async () => {
        const list = (prefix: string, afterKey: string, limit = 100) =>
          index.list({ tenant: 'acme', type: 'data', prefix, after: afterKey, limit, now: T0 });
        assert.deepEqual((await list('a', 'a')).keys, ['a/b', 'a/c', 'a0', 'ab', 'abc']);
        assert.deepEqual((await list('a', 'a/bb')).keys, ['a/c', 'a0', 'ab', 'abc']);
        assert.deepEqual((await list('a', 'b')).keys, [], 'after past the prefix');
        assert.deepEqual((await list('', '\uFFFF')).keys, ['\uFFFFz', '😀', '😀/1', '🚀']);
        assert.deepEqual((await list('', 'ä')).keys.slice(0, 2), ['ä/x', 'äb']);
      });

      it('expired objects are never listed and do not count toward a page', async () => {
        const now = T0 + 5 * SECOND;
        await put(index, ref('a/ttl-1'), inlineRow('x', { expiresAt: now }));
        await put(index, ref('a/ttl-2'), inlineRow('x', { expiresAt: now + 1 }));
        const { keys: listed } = await listAll(index, { prefix: 'a/', pageSize: 1, now });
        assert.deepEqual(listed, ['a/b', 'a/c', 'a/ttl-2']);
        const page = await index.list({ tenant: 'acme', type: 'data', prefix: 'a/', after: 'a/c', limit: 1, now: now + 1 });
        assert.deepEqual(page, { keys: [], truncated: false }, 'only expired keys follow');
      });
    });

    describe('quotas and usage', () => {
      it('usage counts bytes and objects as rows come, change size and go', async () => {
        const index = await fresh();
        assert.deepEqual(await index.usage('acme'), { tenant: 'acme', bytes: 0, objects: 0, pendingUploadBytes: 0, quotaBytes: null });
        await put(index, ref('u1'), blobRow(100));
        await put(index, ref('u2'), blobRow(50));
        await put(index, ref('u1'), blobRow(30));
        await put(index, ref('u3', 'other'), blobRow(7));
        assert.deepEqual(await index.usage('acme'), { tenant: 'acme', bytes: 80, objects: 2, pendingUploadBytes: 0, quotaBytes: null });
        await remove(index, ref('u2'));
        assert.deepEqual(await index.usage('acme'), { tenant: 'acme', bytes: 30, objects: 1, pendingUploadBytes: 0, quotaBytes: null });
        assert.equal((await index.usage('other')).bytes, 7);
      });

      it('setQuota: bytes, null for unlimited, default; quotaSource says whose it is', async () => {
        const index = await fresh();
        assert.equal(await index.quotaSource('acme'), 'default');
        await index.setQuota('acme', 1_000);
        assert.equal((await index.usage('acme')).quotaBytes, 1_000);
        assert.equal(await index.quotaSource('acme'), 'tenant');
        await index.setQuota('acme', null);
        assert.equal((await index.usage('acme')).quotaBytes, null);
        assert.equal(await index.quotaSource('acme'), 'tenant');
        await index.setQuota('acme', 'default');
        assert.equal(await index.quotaSource('acme'), 'default');
        assert.equal((await index.usage('acme')).quotaBytes, null, 'the default of this index is unlimited');
        assert.equal(await index.quotaSource('other'), 'default');
      });

      it('a write past the quota fails with QuotaExceeded and changes nothing', async () => {
        const index = await fresh();
        await index.setQuota('acme', 100);
        const kept = blobRow(60);
        await put(index, ref('q1'), kept);
        await index.openUpload(grant('up-quota', ref('q2')));
        await assert.rejects(
          put(index, ref('q2'), blobRow(41), { condition: { ifNoneMatch: true }, completesUpload: 'up-quota' }),
          code('QuotaExceeded'),
        );
        await assert.rejects(put(index, ref('q1'), blobRow(101), { collectAfter: T0 }), code('QuotaExceeded'));
        assert.equal(await index.find({ ref: ref('q2'), now: T0 }), undefined);
        assert.deepEqual(await index.find({ ref: ref('q1'), now: T0 }), kept);
        assert.equal(await index.isUploadOpen('up-quota'), true, 'the session did not complete');
        assert.deepEqual(await takeAll(index, T0 + SECOND), [], 'the blob it would have replaced was not queued');
        const usage = await index.usage('acme');
        assert.deepEqual([usage.bytes, usage.objects], [60, 1]);
        await put(index, ref('q2'), blobRow(40));
        assert.equal((await index.usage('acme')).bytes, 100, 'exactly the quota fits');
      });

      it('a tenant over a lowered quota can still shrink and delete', async () => {
        const index = await fresh();
        await put(index, ref('big'), blobRow(500));
        await put(index, ref('other'), blobRow(100));
        await index.setQuota('acme', 100);
        await assert.rejects(put(index, ref('new'), blobRow(1)), code('QuotaExceeded'));
        await put(index, ref('big'), blobRow(400));
        assert.equal(await remove(index, ref('other')), true);
        assert.equal((await index.usage('acme')).bytes, 400);
        await put(index, ref('new'), inlineRow(''), {});
        assert.equal((await index.usage('acme')).objects, 2, 'an empty object adds no bytes');
      });

      it('concurrent writers of one tenant take exactly what the quota holds, and a changed quota applies at once', async () => {
        const index = await fresh();
        await index.setQuota('acme', 1_000);
        const wave = (name: string, count: number) =>
          Promise.allSettled(Array.from({ length: count }, (_, i) => put(index, ref(`${name}/${i}`), blobRow(30))));
        const outcomes = async (settled: PromiseSettledResult<void>[]) => {
          for (const failed of settled.filter((result) => result.status === 'rejected'))
            assert.equal((failed.reason as { code?: string }).code, 'QuotaExceeded');
          return settled.filter((result) => result.status === 'fulfilled').length;
        };
        assert.equal(await outcomes(await wave('first', 64)), 33, '33 writes of 30 bytes fit in 1,000');
        assert.deepEqual(pick(await index.usage('acme')), { bytes: 990, objects: 33 });
        await index.setQuota('acme', 2_000);
        assert.equal(await outcomes(await wave('second', 64)), 33, 'the raised quota takes 33 more');
        assert.deepEqual(pick(await index.usage('acme')), { bytes: 1_980, objects: 66 });
        await index.setQuota('acme', 500);
        await assert.rejects(put(index, ref('over'), blobRow(1)), code('QuotaExceeded'));
        const removed = await Promise.all(Array.from({ length: 64 }, (_, i) => remove(index, ref(`first/${i}`))));
        assert.equal(removed.filter(Boolean).length, 33);
        const removedSecond = await Promise.all(Array.from({ length: 64 }, (_, i) => remove(index, ref(`second/${i}`))));
        assert.equal(removedSecond.filter(Boolean).length, 33);
        assert.deepEqual(pick(await index.usage('acme')), { bytes: 0, objects: 0 });
        assert.equal(await outcomes(await wave('third', 64)), 16, 'the lowered quota: 16 of 30 bytes in 500');
        assert.deepEqual(pick(await index.usage('acme')), { bytes: 480, objects: 16 });
      });

      it('pending upload bytes count open sessions only', async () => {
        const index = await fresh();
        for (const id of ['p1', 'p2', 'p3']) {
          await index.openUpload(grant(id, ref(`pending/${id}`)));
          const claim = await index.claimUpload({ uploadId: id, offset: 0, needsPart: false });
          assert.ok(claim);
          assert.equal(
            await index.advanceUpload({
              uploadId: id,
              attempt: claim.attempt,
              received: 100,
              total: undefined,
              hashState: null,
              staging: null,
            }),
            true,
          );
        }
        await index.openUpload(grant('p4', ref('pending/p4', 'other')));
        const claim = await index.claimUpload({ uploadId: 'p4', offset: 0, needsPart: false });
        await index.advanceUpload({ uploadId: 'p4', attempt: claim?.attempt ?? 0, received: 9, total: 9, hashState: null, staging: null });
        assert.equal((await index.usage('acme')).pendingUploadBytes, 300);
        await index.cancelUpload('p1');
        await put(index, ref('pending/p2'), blobRow(100), { completesUpload: 'p2' });
        const usage = await index.usage('acme');
        assert.deepEqual([usage.pendingUploadBytes, usage.bytes, usage.objects], [100, 100, 1]);
        assert.equal((await index.usage('other')).pendingUploadBytes, 9);
      });
    });

    describe('expiry sweeping', () => {
      it('removes expired rows in batches, charges their tenants and queues their blobs', async () => {
        const index = await fresh();
        const expired = [blobRow(10, { expiresAt: T0 + 1 }), blobRow(20, { expiresAt: T0 + 2 }), inlineRow('abc', { expiresAt: T0 + 3 })];
        await put(index, ref('s1', 'acme', 'tmp'), expired[0] as IndexRow);
        await put(index, ref('s2', 'other', 'tmp'), expired[1] as IndexRow);
        await put(index, ref('s3', 'acme', 'tmp'), expired[2] as IndexRow);
        const live = blobRow(5, { expiresAt: T0 + 10 * SECOND });
        await put(index, ref('live', 'acme', 'tmp'), live);
        await put(index, ref('forever'), blobRow(1));
        const now = T0 + SECOND;
        assert.equal(await index.sweepExpired({ now: T0, limit: 10, collectAfter: now }), 0, 'nothing expired yet');
        assert.equal(await index.sweepExpired({ now, limit: 2, collectAfter: now + SECOND }), 2);
        assert.equal(await index.sweepExpired({ now, limit: 2, collectAfter: now + SECOND }), 1);
        assert.equal(await index.sweepExpired({ now, limit: 2, collectAfter: now + SECOND }), 0);
        assert.deepEqual(await index.find({ ref: ref('live', 'acme', 'tmp'), now }), live);
        assert.deepEqual(await takeAll(index, now), [], 'queued blobs wait for collectAfter');
        assert.deepEqual(await takeAll(index, now + SECOND), [expired[0]?.blobId, expired[1]?.blobId].sort());
        assert.deepEqual(await index.usage('acme'), { tenant: 'acme', bytes: 6, objects: 2, pendingUploadBytes: 0, quotaBytes: null });
        assert.deepEqual(await index.usage('other'), { tenant: 'other', bytes: 0, objects: 0, pendingUploadBytes: 0, quotaBytes: null });
      });

      it('concurrent sweeps remove and count each row once', async () => {
        const index = await fresh();
        for (let i = 0; i < 40; i++) await put(index, ref(`cs${i}`, i % 2 ? 'acme' : 'other', 'tmp'), blobRow(3, { expiresAt: T0 + i }));
        const counts = await Promise.all(
          Array.from({ length: 4 }, () => index.sweepExpired({ now: T0 + SECOND, limit: 7, collectAfter: T0 + SECOND })),
        );
        let total = counts.reduce((sum, n) => sum + n, 0);
        for (;;) {
          const n = await index.sweepExpired({ now: T0 + SECOND, limit: 7, collectAfter: T0 + SECOND });
          if (n === 0) break;
          total += n;
        }
        assert.equal(total, 40);
        assert.equal((await takeAll(index, T0 + SECOND)).length, 40);
        for (const tenant of ['acme', 'other']) {
          const usage = await index.usage(tenant);
          assert.deepEqual([usage.bytes, usage.objects], [0, 0], tenant);
        }
      });
    });

    describe('copies, moves and key ranges', () => batchContract(fresh));

    describe('named buckets', () => bucketsContract(fresh));

    describe('retention: versions are rows', () =>
      retentionContract(fresh, async () => {
        const handle = await open();
        opened.push(handle);
        return handle;
      }));

    describe('blob garbage queue', () => {
      it('takeGarbage leases: hidden from a second take until the lease ends, then due again', async () => {
        const index = await fresh();
        await index.queueGarbage({ blobIds: ['g1', 'g2', 'g3'], collectAfter: T0 + 10 });
        await index.queueGarbage({ blobIds: ['g1'], collectAfter: T0 + 99_999 }); // already queued: no error, no change
        await index.queueGarbage({ blobIds: [], collectAfter: T0 });
        const take = (now: number, limit = 100) => index.takeGarbage({ now, limit, leaseMs: SECOND }).then((ids) => ids.sort());
        assert.deepEqual(await take(T0 + 9), []);
        assert.deepEqual(await take(T0 + 10), ['g1', 'g2', 'g3']);
        assert.deepEqual(await take(T0 + 10), [], 'leased');
        assert.deepEqual(await take(T0 + 10 + SECOND - 1), [], 'still leased');
        assert.deepEqual(await take(T0 + 10 + SECOND, 2).then((ids) => ids.length), 2, 'the limit holds');
        await index.forgetGarbage(['g1', 'g2', 'g3']);
        await index.forgetGarbage([]);
        assert.deepEqual(await take(T0 + 3_600 * SECOND), []);
      });

      it('forgotten blobs are gone for good; others come back after their lease', async () => {
        const index = await fresh();
        await index.queueGarbage({ blobIds: ['f1', 'f2'], collectAfter: T0 });
        assert.deepEqual((await index.takeGarbage({ now: T0, limit: 10, leaseMs: SECOND })).sort(), ['f1', 'f2']);
        await index.forgetGarbage(['f1']);
        assert.deepEqual(await index.takeGarbage({ now: T0 + SECOND, limit: 10, leaseMs: SECOND }), ['f2']);
      });

      it('concurrent takes never hand one blob to two collectors', async () => {
        const index = await fresh();
        const ids = Array.from({ length: 60 }, (_, i) => `c${i}`);
        await index.queueGarbage({ blobIds: ids, collectAfter: T0 });
        const takes = await Promise.all(Array.from({ length: 6 }, () => index.takeGarbage({ now: T0, limit: 15, leaseMs: SECOND })));
        const taken = takes.flat();
        assert.equal(new Set(taken).size, taken.length, 'no id taken twice');
        assert.equal(taken.length, 60);
      });

      it('claimChore: one turn per interval, whoever asks; concurrent claims give one turn', async () => {
        const index = await fresh();
        const turn = (now: number) => index.claimChore({ name: 'sweep', now, intervalMs: 10 * SECOND });
        assert.equal(await turn(T0), true, 'the first turn is due at once');
        assert.equal(await turn(T0 + SECOND), false);
        assert.equal(await index.claimChore({ name: 'other', now: T0 + SECOND, intervalMs: SECOND }), true, 'chores are separate');
        assert.equal(await turn(T0 + 10 * SECOND), true, 'due again after the interval');
        const claims = await Promise.all(Array.from({ length: 20 }, () => turn(T0 + 30 * SECOND)));
        assert.equal(claims.filter(Boolean).length, 1);
      });

      it('knownBlobs: named by a row, queued, or in an upload staging record; else not; in one batch', async () => {
        const index = await fresh();
        const row = blobRow(10);
        const id = row.blobId as string;
        const known = async (ids: string[]) => [...(await index.knownBlobs(ids))].sort();
        await put(index, ref('known'), row);
        assert.deepEqual(await known([id, 'blob-unknown']), [id]);
        assert.deepEqual(await known([]), []);
        await index.queueGarbage({ blobIds: ['blob-queued'], collectAfter: T0 });
        await index.openUpload(grant('up-staging', ref('staged')));
        const claim = await index.claimUpload({ uploadId: 'up-staging', offset: 0, needsPart: false });
        await index.advanceUpload({
          uploadId: 'up-staging',
          attempt: claim?.attempt ?? 0,
          received: 5,
          total: undefined,
          hashState: null,
          staging: JSON.stringify({ blobId: 'blob-assembled', parts: [] }),
        });
        const all = [id, 'blob-queued', 'blob-assembled', 'blob-unknown'];
        assert.deepEqual(await known(all), ['blob-assembled', 'blob-queued', id].sort());
        await remove(index, ref('known'));
        assert.ok((await index.knownBlobs([id])).has(id), 'queued once its row is gone');
        await index.takeGarbage({ now: T0, limit: 10, leaseMs: SECOND });
        await index.forgetGarbage([id, 'blob-queued']);
        await index.deleteUpload('up-staging');
        assert.deepEqual(await known(all), []);
        // A batch as large as a sweep's page is one lookup.
        const many = Array.from({ length: 1000 }, (_, i) => `blob-${i}`);
        assert.deepEqual(await known(many), []);
      });
    });

    describe('upload sessions', () => {
      let index: ObjectIndex;
      before(async () => {
        index = await fresh();
      });

      it('openUpload creates an empty session once; a second open keeps the first grant', async () => {
        const target = ref('uploads/ä 😀');
        const record = await index.openUpload(grant('o1', target, { contentType: 'text/csv', sessionExpiresAt: T0 + 60 * SECOND }));
        assert.deepEqual(record, {
          uploadId: 'o1',
          ref: target,
          contentType: 'text/csv',
          expiresAt: T0 + 60 * SECOND,
          received: 0,
          total: undefined,
          completed: undefined,
          cancelled: false,
          hashState: null,
          staging: null,
          attempt: 0,
        });
        const again = await index.openUpload(grant('o1', ref('elsewhere'), { contentType: 'image/png', sessionExpiresAt: T0 }));
        assert.deepEqual(again, record);
        assert.deepEqual(await index.findUpload('o1'), record);
        assert.equal(await index.findUpload('o-missing'), undefined);
        assert.equal(await index.isUploadOpen('o1'), true);
        assert.equal(await index.isUploadOpen('o-missing'), false);
      });

      it('a claim fences older ones: only the newest attempt can advance', async () => {
        await index.openUpload(grant('f1', ref('uploads/fence')));
        const first = await index.claimUpload({ uploadId: 'f1', offset: 0, needsPart: false });
        const second = await index.claimUpload({ uploadId: 'f1', offset: 0, needsPart: false });
        assert.ok(first && second);
        assert.ok(second.attempt > first.attempt);
        assert.equal(first.partNumber, undefined);
        const progress = { uploadId: 'f1', received: 10, total: 30, hashState: Buffer.from([1, 2, 3]), staging: '{"parts":[1]}' };
        assert.equal(await index.advanceUpload({ ...progress, attempt: first.attempt }), false, 'a stale attempt cannot advance');
        assert.equal((await index.findUpload('f1'))?.received, 0);
        assert.equal(await index.advanceUpload({ ...progress, attempt: second.attempt }), true);
        const record = await index.findUpload('f1');
        assert.deepEqual(
          {
            received: record?.received,
            total: record?.total,
            hashState: record?.hashState,
            staging: record?.staging,
            attempt: record?.attempt,
          },
          { received: 10, total: 30, hashState: Buffer.from([1, 2, 3]), staging: '{"parts":[1]}', attempt: second.attempt },
        );
        assert.equal(await index.claimUpload({ uploadId: 'f1', offset: 0, needsPart: false }), undefined, 'not at offset 0 any more');
        assert.equal(await index.claimUpload({ uploadId: 'f1', offset: 11, needsPart: false }), undefined);
        assert.equal(await index.claimUpload({ uploadId: 'f-missing', offset: 0, needsPart: false }), undefined);
        const third = await index.claimUpload({ uploadId: 'f1', offset: 10, needsPart: false });
        assert.ok(third && third.attempt > second.attempt);
        assert.equal(await index.advanceUpload({ ...progress, received: 20, attempt: second.attempt }), false);
        assert.equal(await index.advanceUpload({ ...progress, received: 20, total: undefined, attempt: third.attempt }), true);
        assert.equal((await index.findUpload('f1'))?.total, undefined);
      });

      it('part numbers are unique per session, 1 upward, and only given when asked for', async () => {
        await index.openUpload(grant('parts', ref('uploads/parts')));
        const a = await index.claimUpload({ uploadId: 'parts', offset: 0, needsPart: true });
        const b = await index.claimUpload({ uploadId: 'parts', offset: 0, needsPart: false });
        const c = await index.claimUpload({ uploadId: 'parts', offset: 0, needsPart: true });
        assert.deepEqual([a?.partNumber, b?.partNumber, c?.partNumber], [1, undefined, 2]);
        const concurrent = await Promise.all(
          Array.from({ length: 20 }, () => index.claimUpload({ uploadId: 'parts', offset: 0, needsPart: true })),
        );
        const parts = concurrent.map((claim) => claim?.partNumber);
        const attempts = concurrent.map((claim) => claim?.attempt);
        assert.equal(new Set(parts).size, 20, 'no part number given twice');
        assert.equal(new Set(attempts).size, 20, 'no attempt given twice');
        assert.deepEqual(
          parts.map(Number).sort((x, y) => x - y),
          Array.from({ length: 20 }, (_, i) => i + 3),
        );
      });

      it('a put that completes the session ends it in the same commit, once', async () => {
        const target = ref('uploads/complete');
        await index.openUpload(grant('c1', target));
        const row = blobRow(42);
        await put(index, target, row, { completesUpload: 'c1' });
        const record = await index.findUpload('c1');
        // The session keeps the stored object's info as JSON: an absent expiry stays absent.
        assert.deepEqual(record?.completed, JSON.parse(JSON.stringify(infoOf(row))));
        assert.equal(await index.isUploadOpen('c1'), false);
        assert.equal(await index.claimUpload({ uploadId: 'c1', offset: 0, needsPart: false }), undefined);
        const again = blobRow(43);
        await assert.rejects(put(index, target, again, { completesUpload: 'c1' }), code('UploadOffsetMismatch'));
        assert.deepEqual(await index.find({ ref: target, now: T0 }), row, 'the second completion stored nothing');
        await assert.rejects(put(index, ref('uploads/nope'), blobRow(1), { completesUpload: 'c-missing' }), code('NoSuchUpload'));
        assert.equal(await index.find({ ref: ref('uploads/nope'), now: T0 }), undefined);
      });

      it('a failed condition leaves the session open', async () => {
        const target = ref('uploads/cond');
        await put(index, target, inlineRow('exists'));
        await index.openUpload(grant('cc', target));
        await assert.rejects(
          put(index, target, blobRow(5), { completesUpload: 'cc', condition: { ifNoneMatch: true } }),
          code('PreconditionFailed'),
        );
        assert.equal(await index.isUploadOpen('cc'), true);
      });

      it('cancel closes the session for good (it stays until it expires) and keeps its staging record', async () => {
        const target = ref('uploads/cancel');
        await index.openUpload(grant('x1', target));
        const claim = await index.claimUpload({ uploadId: 'x1', offset: 0, needsPart: false });
        const progress = { uploadId: 'x1', received: 7, total: 7, hashState: Buffer.from('h'), staging: '{"file":"x1"}' };
        await index.advanceUpload({ ...progress, attempt: claim?.attempt ?? 0 });
        await index.cancelUpload('x1');
        const record = await index.findUpload('x1');
        assert.equal(record?.cancelled, true);
        assert.equal(record?.received, 0);
        assert.equal(record?.total, undefined);
        assert.equal(record?.staging, '{"file":"x1"}');
        assert.equal(await index.isUploadOpen('x1'), false);
        assert.equal(await index.claimUpload({ uploadId: 'x1', offset: 0, needsPart: false }), undefined);
        assert.equal(await index.advanceUpload({ ...progress, attempt: claim?.attempt ?? 0 }), false);
        assert.equal((await index.openUpload(grant('x1', target))).cancelled, true, 'opening its URL again does not revive it');
        await assert.rejects(put(index, target, blobRow(1), { completesUpload: 'x1' }), code('NoSuchUpload'));
        assert.equal(await index.find({ ref: target, now: T0 }), undefined);
        await index.cancelUpload('x-missing');
      });

      it('expiredUploads lists sessions whose URL expired, oldest first; deleteUpload removes one', async () => {
        const sessions = await fresh();
        for (const [id, at] of [
          ['e3', 300],
          ['e1', 100],
          ['e2', 200],
          ['e4', 400],
        ] as const)
          await sessions.openUpload(grant(id, ref(`exp/${id}`), { sessionExpiresAt: T0 + at }));
        assert.deepEqual(
          (await sessions.expiredUploads({ now: T0 + 300, limit: 10 })).map((record) => record.uploadId),
          ['e1', 'e2', 'e3'],
        );
        assert.deepEqual(
          (await sessions.expiredUploads({ now: T0 + 300, limit: 2 })).map((record) => record.uploadId),
          ['e1', 'e2'],
        );
        assert.deepEqual(await sessions.expiredUploads({ now: T0 + 99, limit: 10 }), []);
        await sessions.deleteUpload('e1');
        await sessions.deleteUpload('e-missing');
        assert.equal(await sessions.findUpload('e1'), undefined);
        assert.deepEqual(
          (await sessions.expiredUploads({ now: T0 + 300, limit: 10 })).map((record) => record.uploadId),
          ['e2', 'e3'],
        );
      });
    });

    describe('API keys', () => {
      it('stores and finds key records', async () => {
        const index = await fresh();
        const record = {
          clientId: 'stw_0123',
          tenant: 'acme',
          secretHash: 'ab'.repeat(32),
          sealedSecret: 'v1.nonce.sealed.tag',
          createdAt: T0,
          name: 'ci job',
          scope: '{"readOnly":true,"prefix":"reports/"}',
          revokedAt: null,
        };
        await index.apiKeys.insert(record);
        await index.apiKeys.insert({ ...record, clientId: 'stw_4567', tenant: 'other', sealedSecret: null });
        assert.equal((await index.apiKeys.find('stw_4567'))?.sealedSecret, null, 'a key made before S3 has no sealed secret');
        assert.deepEqual(await index.apiKeys.find('stw_0123'), record);
        assert.equal((await index.apiKeys.find('stw_4567'))?.tenant, 'other');
        assert.equal(await index.apiKeys.find('stw_missing'), undefined);
        await assert.rejects(index.apiKeys.insert({ ...record, tenant: 'thief' }), 'a client id is never reused');
        assert.deepEqual(await index.apiKeys.find('stw_0123'), record);
      });

      it("lists a tenant's keys oldest first and revokes one once, for its tenant only", async () => {
        const index = await fresh();
        const base = { secretHash: 'cd'.repeat(32), sealedSecret: null, name: null, scope: null, revokedAt: null };
        await index.apiKeys.insert({ ...base, clientId: 'stw_b', tenant: 'acme', createdAt: T0 + 2 });
        await index.apiKeys.insert({ ...base, clientId: 'stw_a', tenant: 'acme', createdAt: T0 + 1 });
        await index.apiKeys.insert({ ...base, clientId: 'stw_c', tenant: 'other', createdAt: T0 });
        assert.deepEqual(
          (await index.apiKeys.listFor('acme')).map((key) => key.clientId),
          ['stw_a', 'stw_b'],
        );
        assert.equal(await index.apiKeys.revoke('other', 'stw_a', T0 + 5), false, "another tenant's key is not theirs to revoke");
        assert.equal(await index.apiKeys.revoke('acme', 'stw_a', T0 + 5), true);
        assert.equal(await index.apiKeys.revoke('acme', 'stw_a', T0 + 9), true, 'again: still revoked');
        assert.equal((await index.apiKeys.find('stw_a'))?.revokedAt, T0 + 5, 'revoked at the first revocation');
        assert.equal(await index.apiKeys.revoke('acme', 'stw_missing', T0 + 5), false);
        assert.equal((await index.apiKeys.find('stw_b'))?.revokedAt, null);
      });
    });

    describe('bucket settings', () => {
      it('keeps a CORS configuration per tenant and storage type, replaced by the next and removed with null', async () => {
        const index = await fresh();
        const mine = { tenant: 'acme', type: 'data' } as const;
        assert.equal(await index.bucketSettings.findCors(mine), undefined, 'none before one is set');
        await index.bucketSettings.setCors(mine, '[{"first":true}]');
        await index.bucketSettings.setCors({ tenant: 'acme', type: 'tmp' }, '[{"tmp":true}]');
        assert.equal(await index.bucketSettings.findCors(mine), '[{"first":true}]');
        assert.equal(await index.bucketSettings.findCors({ tenant: 'other', type: 'data' }), undefined, 'another tenant has its own');
        await index.bucketSettings.setCors(mine, '[{"second":true}]');
        assert.equal(await index.bucketSettings.findCors(mine), '[{"second":true}]');
        await index.bucketSettings.setCors(mine, null);
        assert.equal(await index.bucketSettings.findCors(mine), undefined);
        assert.equal(await index.bucketSettings.findCors({ tenant: 'acme', type: 'tmp' }), '[{"tmp":true}]', 'another type keeps its own');
      });
    });

    describe('concurrency', () => {
      it('50 concurrent If-None-Match: * puts on one key: exactly one wins', async () => {
        const index = await fresh();
        const rows = Array.from({ length: 50 }, (_, i) => blobRow(10 + i));
        const results = await Promise.allSettled(rows.map((row) => put(index, ref('race'), row, { condition: { ifNoneMatch: true } })));
        const won = results.flatMap((result, i) => (result.status === 'fulfilled' ? [rows[i] as IndexRow] : []));
        assert.equal(won.length, 1);
        for (const result of results)
          if (result.status === 'rejected') assert.equal((result.reason as { code?: string }).code, 'PreconditionFailed');
        assert.deepEqual(await index.find({ ref: ref('race'), now: T0 }), won[0]);
        const usage = await index.usage('acme');
        assert.deepEqual([usage.bytes, usage.objects], [won[0]?.size, 1]);
        assert.deepEqual(await takeAll(index, T0), [], 'no stored blob was replaced');
      });

      it('concurrent If-Match chains: each version replaces exactly the one before it', async () => {
        const index = await fresh();
        const first = inlineRow('v0');
        await put(index, ref('chain'), first);
        const rows = Array.from({ length: 20 }, (_, i) => blobRow(i + 1));
        const results = await Promise.allSettled(
          rows.map((row) => put(index, ref('chain'), row, { condition: { ifMatch: [etagOf(first)] } })),
        );
        assert.equal(results.filter((result) => result.status === 'fulfilled').length, 1);
      });

      it('concurrent writes of one tenant cannot overrun its quota together', async () => {
        const index = await fresh();
        await index.setQuota('acme', 100);
        const results = await Promise.allSettled(Array.from({ length: 25 }, (_, i) => put(index, ref(`q/${i}`), blobRow(10))));
        assert.equal(results.filter((result) => result.status === 'fulfilled').length, 10);
        for (const result of results)
          if (result.status === 'rejected') assert.equal((result.reason as { code?: string }).code, 'QuotaExceeded');
        const usage = await index.usage('acme');
        assert.deepEqual([usage.bytes, usage.objects], [100, 10]);
        const { keys } = await listAll(index, { prefix: 'q/', pageSize: 100 });
        assert.equal(keys.length, 10);
      });

      it('concurrent replaces of one key queue every replaced blob exactly once', async () => {
        const index = await fresh();
        const rows = Array.from({ length: 20 }, () => blobRow(1));
        await Promise.all(rows.map((row) => put(index, ref('churn'), row)));
        const current = await index.find({ ref: ref('churn'), now: T0 });
        const queued = await takeAll(index, T0);
        assert.equal(queued.length, 19);
        assert.deepEqual([...queued, current?.blobId].sort(), rows.map((row) => row.blobId).sort());
        assert.deepEqual([(await index.usage('acme')).objects, (await index.usage('acme')).bytes], [1, 1]);
      });
    });

    it('checkReady resolves while the index answers', async () => {
      const index = await fresh();
      await index.checkReady();
    });
  });
}

/** The counts of a usage, without its quota and pending uploads. */
function pick(usage: { bytes: number; objects: number }): { bytes: number; objects: number } {
  return { bytes: usage.bytes, objects: usage.objects };
}
