import assert from 'node:assert/strict';
import { it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import type { BucketChange, BucketRecord } from '../../src/backends/buckets.js';
import { KEY_SPACE_END, prefixRange } from '../../src/backends/key-range.js';
import type { ObjectIndex, TransferOptions } from '../../src/backends/object-index.js';
import { fail } from '../../src/errors.js';
import { blobRow, code, grant, inlineRow, put, ref, SECOND, T0, takeAll } from './index-fixtures.js';

/** A bucket to create: `owner`'s, no quota, empty settings, no grantees unless given. */
function bucket(name: string, owner: string, overrides: Partial<Omit<BucketRecord, 'bytes' | 'objects'>> = {}) {
  return { name, owner, createdAt: T0, quotaBytes: null, settings: '{}', grantees: [], ...overrides };
}

/** What a bucket's record says it holds, and what its owner's usage says. */
async function held(index: ObjectIndex, name: string) {
  const record = await index.buckets.find(name);
  assert.ok(record, `bucket ${name} exists`);
  return { bytes: record.bytes, objects: record.objects };
}

/** Visible objects of every key of (tenant, type), counted from the rows. */
function countAll(index: ObjectIndex, tenant: string, type: string, now = T0) {
  return index.countRange({ tenant, type, start: Buffer.alloc(0), end: KEY_SPACE_END, now });
}

function transfer(index: ObjectIndex, from: ReturnType<typeof ref>, to: ReturnType<typeof ref>, options: Partial<TransferOptions> = {}) {
  return index.transfer({
    from,
    to,
    move: false,
    overwrite: false,
    condition: undefined,
    now: T0,
    lastModified: T0,
    expiresAtIfNone: null,
    collectAfter: T0,
    ...options,
  });
}

async function listNames(index: ObjectIndex, user: string, pageSize: number): Promise<{ names: string[]; pages: number }> {
  const names: string[] = [];
  let pages = 0;
  let after: string | undefined;
  for (;;) {
    const page = await index.buckets.list({ user, after, limit: pageSize });
    pages++;
    names.push(...page.map((record) => record.name));
    if (page.length < pageSize) return { names, pages };
    after = page.at(-1)?.name;
  }
}

/**
 * Named buckets: their records, listing by owner and grantee, changes, removal, and the bytes and
 * objects every write's transaction keeps on the bucket's row (its quota and its existence
 * enforced there). Called inside the ObjectIndex contract.
 */
export function bucketsContract(fresh: () => Promise<ObjectIndex>): void {
  it('create, find, and one global namespace: a taken name is refused whoever asks', async () => {
    const index = await fresh();
    assert.equal(await index.buckets.find('photos'), undefined);
    assert.equal(
      await index.buckets.create(bucket('photos', 'ana', { quotaBytes: 500, settings: '{"a":1}', grantees: ['cy', 'bob'] })),
      true,
    );
    assert.deepEqual(await index.buckets.find('photos'), {
      name: 'photos',
      owner: 'ana',
      createdAt: T0,
      quotaBytes: 500,
      settings: '{"a":1}',
      grantees: ['bob', 'cy'],
      bytes: 0,
      objects: 0,
    });
    assert.equal(await index.buckets.create(bucket('photos', 'bob')), false, 'another user');
    assert.equal(await index.buckets.create(bucket('photos', 'ana')), false, 'the owner again');
    assert.equal((await index.buckets.find('photos'))?.owner, 'ana');
    assert.equal(await index.buckets.countOwned('ana'), 1);
    assert.equal(await index.buckets.countOwned('bob'), 0);
  });

  it('refuses names that are not bucket names: reserved storage types, internal types, bad characters or lengths', async () => {
    const index = await fresh();
    for (const name of ['data', 'tmp', 'result', '.multipart', 'ab', 'x'.repeat(64), 'Upper', 'has_underscore', 'a/b'])
      await assert.rejects(index.buckets.create(bucket(name, 'ana')), code('InvalidBucketName'), name);
    assert.equal(await index.buckets.countOwned('ana'), 0);
    assert.equal(await index.buckets.create(bucket('x'.repeat(63), 'ana')), true);
    assert.equal(await index.buckets.create(bucket('my.logs-2024', 'ana')), true);
  });

  it('list: the buckets a user owns and those granted to them, in name order, a page at a time', async () => {
    const index = await fresh();
    for (const name of ['b-ana-3', 'b-ana-1', 'b-ana-5', 'z-ana']) await index.buckets.create(bucket(name, 'ana'));
    await index.buckets.create(bucket('b-bob-2', 'bob', { grantees: ['ana', 'cy'] }));
    await index.buckets.create(bucket('b-bob-4', 'bob', { grantees: ['ana'] }));
    await index.buckets.create(bucket('a-bob-private', 'bob'));
    await index.buckets.create(bucket('b-cy', 'cy', { grantees: ['bob'] }));
    const ana = ['b-ana-1', 'b-ana-3', 'b-ana-5', 'b-bob-2', 'b-bob-4', 'z-ana'];
    for (const pageSize of [1, 2, 4, 6, 100]) {
      const { names, pages } = await listNames(index, 'ana', pageSize);
      assert.deepEqual(names, ana, `pages of ${pageSize}`);
      assert.equal(pages, Math.floor(ana.length / pageSize) + 1);
    }
    assert.deepEqual((await listNames(index, 'bob', 2)).names, ['a-bob-private', 'b-bob-2', 'b-bob-4', 'b-cy']);
    assert.deepEqual((await listNames(index, 'cy', 10)).names, ['b-bob-2', 'b-cy']);
    assert.deepEqual((await listNames(index, 'nobody', 10)).names, []);
    const page = await index.buckets.list({ user: 'ana', after: 'b-ana-5', limit: 2 });
    assert.deepEqual(
      page.map((record) => [record.name, record.owner, record.grantees]),
      [
        ['b-bob-2', 'bob', ['ana', 'cy']],
        ['b-bob-4', 'bob', ['ana']],
      ],
    );
    assert.deepEqual(await index.buckets.list({ user: 'ana', after: 'z-ana', limit: 10 }), []);
    assert.deepEqual(
      (await index.buckets.list({ user: 'ana', after: 'b-bob', limit: 10 })).map((record) => record.name),
      ['b-bob-2', 'b-bob-4', 'z-ana'],
      '`after` need not be a name',
    );
    assert.equal(await index.buckets.countOwned('ana'), 4);
  });

  it('update: the change sees the record as it stands; quota, settings and grantees are replaced, the rest kept', async () => {
    const index = await fresh();
    await index.buckets.create(bucket('shared', 'ana', { grantees: ['bob'], settings: '{"v":1}' }));
    await put(index, ref('k', 'ana', 'shared'), blobRow(40));
    const seen: BucketRecord[] = [];
    const updated = await index.buckets.update('shared', (current): BucketChange => {
      seen.push(current);
      return { quotaBytes: 1000, settings: '{"v":2}', grantees: ['cy', 'dee', 'cy'] };
    });
    assert.equal(seen.length, 1);
    assert.deepEqual(seen[0], { ...bucket('shared', 'ana', { grantees: ['bob'], settings: '{"v":1}' }), bytes: 40, objects: 1 });
    const expected = {
      ...bucket('shared', 'ana', { quotaBytes: 1000, settings: '{"v":2}', grantees: ['cy', 'dee'] }),
      bytes: 40,
      objects: 1,
    };
    assert.deepEqual(updated, expected);
    assert.deepEqual(await index.buckets.find('shared'), expected);
    assert.deepEqual(await index.buckets.list({ user: 'bob', after: undefined, limit: 10 }), [], 'bob is no longer a grantee');
    assert.deepEqual(
      (await index.buckets.list({ user: 'dee', after: undefined, limit: 10 })).map((record) => record.name),
      ['shared'],
    );

    let called = false;
    const missing = await index.buckets.update('nope', () => {
      called = true;
      return { quotaBytes: null, settings: '{}', grantees: [] };
    });
    assert.equal(missing, undefined);
    assert.equal(called, false);

    await assert.rejects(
      index.buckets.update('shared', () => {
        throw fail('AccessDenied');
      }),
      code('AccessDenied'),
    );
    await assert.rejects(
      index.buckets.update('shared', (current) => {
        assert.equal(current.settings, '{"v":2}');
        throw fail('MalformedPolicy');
      }),
      code('MalformedPolicy'),
    );
    assert.deepEqual(await index.buckets.find('shared'), expected, 'a refused change changes nothing');
  });

  it("remove: 'missing' for no such bucket of that owner, 'not-empty' while it holds a visible object or an open upload", async () => {
    const index = await fresh();
    assert.equal(await index.buckets.remove({ name: 'nope', owner: 'ana', now: T0, collectAfter: T0 }), 'missing');
    await index.buckets.create(bucket('full', 'ana'));
    assert.equal(await index.buckets.remove({ name: 'full', owner: 'bob', now: T0, collectAfter: T0 }), 'missing', "another user's");
    await put(index, ref('k', 'ana', 'full'), inlineRow('x'));
    assert.equal(await index.buckets.remove({ name: 'full', owner: 'ana', now: T0, collectAfter: T0 }), 'not-empty');
    assert.ok(await index.find({ ref: ref('k', 'ana', 'full'), now: T0 }));
    assert.ok(await index.remove({ ref: ref('k', 'ana', 'full'), now: T0, condition: undefined, collectAfter: T0 }));

    await index.openUpload(grant('up-1', ref('big', 'ana', 'full')));
    assert.equal(await index.buckets.remove({ name: 'full', owner: 'ana', now: T0, collectAfter: T0 }), 'not-empty', 'an open upload');
    assert.equal(
      await index.buckets.remove({ name: 'full', owner: 'ana', now: T0 + 3_600 * SECOND, collectAfter: T0 }),
      'deleted',
      'once the upload URL expired, the session does not hold the bucket',
    );
    assert.equal(await index.buckets.find('full'), undefined);
  });

  it("remove: 'deleted' takes the expired leftovers (blobs queued after collectAfter), the grantees and the CORS settings", async () => {
    const index = await fresh();
    await index.buckets.create(bucket('gone', 'ana', { grantees: ['bob'] }));
    await index.bucketSettings.setCors({ tenant: 'ana', type: 'gone' }, '<CORS/>');
    await index.bucketSettings.setCors({ tenant: 'ana', type: 'data' }, '<data/>');
    const leftover = blobRow(30, { expiresAt: T0 + SECOND });
    await put(index, ref('old', 'ana', 'gone'), leftover);
    await put(index, ref('kept', 'ana'), blobRow(5));
    const upload = await index.openUpload(grant('up-2', ref('big', 'ana', 'gone')));
    await index.cancelUpload(upload.uploadId);
    assert.equal(await index.buckets.remove({ name: 'gone', owner: 'ana', now: T0, collectAfter: T0 }), 'not-empty');
    const now = T0 + SECOND;
    assert.equal(await index.buckets.remove({ name: 'gone', owner: 'ana', now, collectAfter: now + SECOND }), 'deleted');
    assert.equal(await index.buckets.find('gone'), undefined);
    assert.equal(await index.buckets.countOwned('ana'), 0);
    assert.deepEqual(await index.buckets.list({ user: 'bob', after: undefined, limit: 10 }), []);
    assert.equal(await index.bucketSettings.findCors({ tenant: 'ana', type: 'gone' }), undefined);
    assert.equal(await index.bucketSettings.findCors({ tenant: 'ana', type: 'data' }), '<data/>', "other buckets' settings stay");
    assert.deepEqual(await takeAll(index, now), [], 'queued no earlier than collectAfter');
    assert.deepEqual(await takeAll(index, now + SECOND), [leftover.blobId]);
    const usage = await index.usage('ana');
    assert.deepEqual([usage.bytes, usage.objects], [5, 1], 'the leftover no longer counts for the owner');
    assert.equal(await index.buckets.remove({ name: 'gone', owner: 'ana', now, collectAfter: now }), 'missing');
    // The name is free again, for anyone, and the new bucket holds nothing of the old one.
    assert.equal(await index.buckets.create(bucket('gone', 'bob')), true);
    assert.deepEqual(await held(index, 'gone'), { bytes: 0, objects: 0 });
    assert.deepEqual(await countAll(index, 'ana', 'gone', T0), { objects: 0, bytes: 0 });
  });

  it("keeps the bucket's bytes and objects through put, overwrite, remove, removeMany, removeRange and sweepExpired", async () => {
    const index = await fresh();
    await index.buckets.create(bucket('usage', 'ana'));
    const at = (key: string) => ref(key, 'ana', 'usage');
    await put(index, at('a/1'), blobRow(100));
    await put(index, at('a/2'), blobRow(20));
    await put(index, at('b/1'), inlineRow('hello'));
    await put(index, ref('plain', 'ana'), blobRow(1000));
    assert.deepEqual(await held(index, 'usage'), { bytes: 125, objects: 3 });
    await put(index, at('a/1'), blobRow(60));
    assert.deepEqual(await held(index, 'usage'), { bytes: 85, objects: 3 }, 'an overwrite charges the difference');
    assert.ok(await index.remove({ ref: at('b/1'), now: T0, condition: undefined, collectAfter: T0 }));
    assert.deepEqual(await held(index, 'usage'), { bytes: 80, objects: 2 });
    for (let i = 0; i < 5; i++) await put(index, at(`c/${i}`), blobRow(10));
    assert.deepEqual(await index.removeMany({ tenant: 'ana', type: 'usage', keys: ['c/0', 'c/1', 'missing'], now: T0, collectAfter: T0 }), [
      10,
      10,
      undefined,
    ]);
    assert.deepEqual(await held(index, 'usage'), { bytes: 110, objects: 5 });
    const range = { tenant: 'ana', type: 'usage', ...prefixRange('c/') };
    const step = await index.removeRange({ ...range, limit: 100, now: T0, collectAfter: T0 });
    assert.deepEqual([step.objects, step.bytes], [3, 30]);
    assert.deepEqual(await held(index, 'usage'), { bytes: 80, objects: 2 });
    await put(index, at('t/1'), blobRow(7, { expiresAt: T0 + SECOND }));
    await put(index, at('t/2'), blobRow(8, { expiresAt: T0 + 2 * SECOND }));
    await put(index, ref('t/3', 'ana', 'tmp'), blobRow(9, { expiresAt: T0 + SECOND }));
    assert.deepEqual(await held(index, 'usage'), { bytes: 95, objects: 4 }, 'expired rows count until swept');
    assert.equal(await index.sweepExpired({ now: T0 + 3 * SECOND, limit: 100, collectAfter: T0 }), 3);
    assert.deepEqual(await held(index, 'usage'), { bytes: 80, objects: 2 });
    const usage = await index.usage('ana');
    assert.deepEqual([usage.bytes, usage.objects], [1080, 3], 'the owner pays for its buckets');
    assert.deepEqual(await countAll(index, 'ana', 'usage'), { objects: 2, bytes: 80 }, 'as the rows say');
  });

  it('transfers charge each side: copies and moves within a bucket, between buckets, and to and from storage types', async () => {
    const index = await fresh();
    await index.buckets.create(bucket('one', 'ana'));
    await index.buckets.create(bucket('two', 'ana'));
    const one = (key: string) => ref(key, 'ana', 'one');
    const two = (key: string) => ref(key, 'ana', 'two');
    await put(index, one('x'), blobRow(100));
    await put(index, ref('d', 'ana'), blobRow(10));
    await transfer(index, one('x'), one('x-copy'));
    assert.deepEqual(await held(index, 'one'), { bytes: 200, objects: 2 });
    await transfer(index, one('x-copy'), one('x-moved'), { move: true });
    assert.deepEqual(await held(index, 'one'), { bytes: 200, objects: 2 }, 'a move within a bucket changes nothing');
    await transfer(index, one('x-moved'), two('x'), { move: true });
    assert.deepEqual(
      [await held(index, 'one'), await held(index, 'two')],
      [
        { bytes: 100, objects: 1 },
        { bytes: 100, objects: 1 },
      ],
    );
    await transfer(index, ref('d', 'ana'), two('d'), { move: true });
    await transfer(index, one('x'), ref('from-one', 'ana'));
    assert.deepEqual(
      [await held(index, 'one'), await held(index, 'two')],
      [
        { bytes: 100, objects: 1 },
        { bytes: 110, objects: 2 },
      ],
    );
    await transfer(index, two('d'), two('x'), { move: true, overwrite: true });
    assert.deepEqual(await held(index, 'two'), { bytes: 10, objects: 1 }, 'a move onto an existing key replaces it');
    // A prefix at a time.
    for (let i = 0; i < 4; i++) await put(index, one(`p/${i}`), blobRow(5));
    const range = { tenant: 'ana', type: 'one', ...prefixRange('p/') };
    const copied = await index.transferRange({
      range,
      fromPrefix: 'p/',
      toType: 'two',
      toPrefix: 'q/',
      limit: 100,
      move: false,
      overwrite: false,
      now: T0,
      lastModified: T0,
      expiresAtIfNone: () => null,
      collectAfter: T0,
    });
    assert.deepEqual([copied.objects, copied.bytes], [4, 20]);
    assert.deepEqual(
      [await held(index, 'one'), await held(index, 'two')],
      [
        { bytes: 120, objects: 5 },
        { bytes: 30, objects: 5 },
      ],
    );
    const moved = await index.transferRange({
      range: { tenant: 'ana', type: 'two', ...prefixRange('q/') },
      fromPrefix: 'q/',
      toType: 'data',
      toPrefix: 'r/',
      limit: 100,
      move: true,
      overwrite: false,
      now: T0,
      lastModified: undefined,
      expiresAtIfNone: () => null,
      collectAfter: T0,
    });
    assert.deepEqual([moved.objects, moved.bytes], [4, 20]);
    assert.deepEqual(await held(index, 'two'), { bytes: 10, objects: 1 });
    const usage = await index.usage('ana');
    assert.deepEqual([usage.bytes, usage.objects], [100 + 5 * 4 + 10 + 100 + 20, 5 + 1 + 1 + 4]);
  });

  it('a write into a bucket that does not exist, or that another user owns, is NoSuchBucket and stores nothing', async () => {
    const index = await fresh();
    await index.buckets.create(bucket('anas', 'ana'));
    await put(index, ref('src', 'ana'), blobRow(10));
    await put(index, ref('src', 'bob'), blobRow(10));
    await assert.rejects(put(index, ref('k', 'ana', 'nope'), blobRow(10)), code('NoSuchBucket'));
    await assert.rejects(put(index, ref('k', 'bob', 'anas'), inlineRow('')), code('NoSuchBucket'), 'not the owner, even empty');
    await assert.rejects(transfer(index, ref('src', 'ana'), ref('k', 'ana', 'nope'), { move: true }), code('NoSuchBucket'));
    await assert.rejects(transfer(index, ref('src', 'bob'), ref('k', 'bob', 'anas')), code('NoSuchBucket'));
    assert.equal(await index.find({ ref: ref('k', 'ana', 'nope'), now: T0 }), undefined);
    assert.equal(await index.find({ ref: ref('k', 'bob', 'anas'), now: T0 }), undefined);
    assert.ok(await index.find({ ref: ref('src', 'ana'), now: T0 }), 'a refused move keeps its source');
    assert.deepEqual(await held(index, 'anas'), { bytes: 0, objects: 0 });
    for (const tenant of ['ana', 'bob']) {
      const usage = await index.usage(tenant);
      assert.deepEqual([usage.bytes, usage.objects], [10, 1], tenant);
    }
    // Storage types and internal types need no bucket; removing from a missing one is no error.
    await put(index, ref('k', 'ana', '.multipart'), blobRow(1));
    await put(index, ref('k', 'ana', 'result'), blobRow(1));
    assert.equal(await index.remove({ ref: ref('k', 'ana', 'nope'), now: T0, condition: undefined, collectAfter: T0 }), false);
    assert.deepEqual(await index.removeMany({ tenant: 'ana', type: 'nope', keys: ['k'], now: T0, collectAfter: T0 }), [undefined]);
  });

  it("upload sessions of a bucket read back with the bucket's name; a row of a garbage type is refused", async () => {
    const index = await fresh();
    await index.buckets.create(bucket('uploads', 'ana'));
    const session = await index.openUpload(grant('up-b', ref('file', 'ana', 'uploads')));
    assert.deepEqual(session.ref, ref('file', 'ana', 'uploads'));
    assert.deepEqual((await index.findUpload('up-b'))?.ref, ref('file', 'ana', 'uploads'));
    await index.openUpload(grant('up-internal', ref('file', 'ana', '.multipart')));
    await assert.rejects(index.openUpload(grant('up-bad', ref('file', 'ana', 'Not A Type!'))), /bad storage type or bucket name/);
  });

  it("a bucket's quota refuses growth past it, and allows what shrinks", async () => {
    const index = await fresh();
    await index.buckets.create(bucket('small', 'ana', { quotaBytes: 100 }));
    const at = (key: string) => ref(key, 'ana', 'small');
    await put(index, at('a'), blobRow(60));
    const refused = await put(index, at('b'), blobRow(50)).then(
      () => assert.fail('stored past the quota'),
      (error: { code?: string; message?: string }) => error,
    );
    assert.equal(refused.code, 'QuotaExceeded');
    assert.match(refused.message ?? '', /bucket small/);
    assert.match(refused.message ?? '', /\b100\b/);
    assert.equal(await index.find({ ref: at('b'), now: T0 }), undefined);
    await put(index, at('b'), blobRow(40));
    assert.deepEqual(await held(index, 'small'), { bytes: 100, objects: 2 }, 'up to the quota exactly');
    await assert.rejects(put(index, at('c'), inlineRow('x')), code('QuotaExceeded'));
    await put(index, at('c'), inlineRow(''));
    assert.deepEqual(await held(index, 'small'), { bytes: 100, objects: 3 }, 'an empty object adds no bytes');
    await assert.rejects(transfer(index, at('a'), at('a-copy')), code('QuotaExceeded'));
    await transfer(index, at('a'), at('a-moved'), { move: true });
    await index.buckets.update('small', (current) => ({ quotaBytes: 50, settings: current.settings, grantees: current.grantees }));
    await put(index, at('a-moved'), blobRow(30));
    assert.deepEqual(await held(index, 'small'), { bytes: 70, objects: 3 }, 'over a lowered quota, an overwrite with less is allowed');
    await assert.rejects(put(index, at('b'), blobRow(41)), code('QuotaExceeded'));
    assert.ok(await index.remove({ ref: at('b'), now: T0, condition: undefined, collectAfter: T0 }));
    assert.deepEqual(await held(index, 'small'), { bytes: 30, objects: 2 });
    await index.buckets.update('small', (current) => ({ quotaBytes: null, settings: current.settings, grantees: current.grantees }));
    await put(index, at('big'), blobRow(10_000));
    assert.deepEqual(await held(index, 'small'), { bytes: 10_030, objects: 3 }, 'no quota: no limit');
  });

  it("the owner's own quota still holds for its buckets", async () => {
    const index = await fresh();
    await index.buckets.create(bucket('mine', 'ana'));
    await index.setQuota('ana', 100);
    await put(index, ref('d', 'ana'), blobRow(70));
    await assert.rejects(put(index, ref('k', 'ana', 'mine'), blobRow(40)), code('QuotaExceeded'));
    assert.deepEqual(await held(index, 'mine'), { bytes: 0, objects: 0 }, 'the refused write left the bucket as it was');
    await put(index, ref('k', 'ana', 'mine'), blobRow(30));
    assert.deepEqual(await held(index, 'mine'), { bytes: 30, objects: 1 });
  });

  it('writes racing for the last bytes of a bucket quota: the total never exceeds it', async () => {
    const index = await fresh();
    await index.buckets.create(bucket('race', 'ana', { quotaBytes: 1000 }));
    const results = await Promise.allSettled(Array.from({ length: 40 }, (_, i) => put(index, ref(`k${i}`, 'ana', 'race'), blobRow(70))));
    const stored = results.filter((result) => result.status === 'fulfilled').length;
    for (const result of results) if (result.status === 'rejected') code('QuotaExceeded')(result.reason);
    assert.equal(stored, 14, '14 × 70 = 980 fit; a 15th would make 1050');
    assert.deepEqual(await held(index, 'race'), { bytes: 980, objects: 14 });
    assert.deepEqual(await countAll(index, 'ana', 'race'), { objects: 14, bytes: 980 });
  });

  it('writes racing with the removal of their bucket: each lands before it (not-empty) or fails NoSuchBucket after it', async () => {
    const index = await fresh();
    await index.buckets.create(bucket('doomed', 'ana'));
    const at = (key: string) => ref(key, 'ana', 'doomed');
    let removedAt: number | undefined;
    let clock = 0;
    const outcomes: Array<{ key: string; startedAt: number; stored: boolean }> = [];
    const stored = () => outcomes.filter((outcome) => outcome.stored).length;
    // Each writer goes on until it has been refused a few times, pausing now and then, so the
    // removal finds moments with no write in flight as well as writes on either side of it.
    const writer = async (w: number) => {
      for (let i = 0, refused = 0; refused < 3 && i < 2000; i++) {
        const key = `w${w}/${i}`;
        const startedAt = clock++;
        try {
          await put(index, at(key), i % 3 ? blobRow(10) : inlineRow(`v${i}`));
          outcomes.push({ key, startedAt, stored: true });
        } catch (error) {
          code('NoSuchBucket')(error);
          outcomes.push({ key, startedAt, stored: false });
          refused++;
        }
        await delay(Math.random() * 5);
      }
    };
    const remover = async () => {
      while (stored() < 12) await delay(1);
      for (let attempts = 1; ; attempts++) {
        const result = await index.buckets.remove({ name: 'doomed', owner: 'ana', now: T0, collectAfter: T0 });
        if (result === 'deleted') {
          removedAt = clock;
          return attempts;
        }
        assert.equal(result, 'not-empty');
        // Empty it of what it holds, as a client would, and try again while the writers go on.
        const range = { tenant: 'ana', type: 'doomed', start: Buffer.alloc(0), end: KEY_SPACE_END };
        for (let next: Buffer | undefined = range.start; next; ) {
          next = (await index.removeRange({ ...range, start: next, limit: 7, now: T0, collectAfter: T0 })).next;
        }
      }
    };
    const [attempts] = await Promise.all([remover(), ...Array.from({ length: 6 }, (_, w) => writer(w))]);
    assert.ok(attempts > 1, 'the first removal found objects');
    assert.ok(removedAt !== undefined);
    assert.ok(stored() >= 12);
    assert.ok(outcomes.length - stored() >= 18, 'every writer was refused after the removal');
    for (const outcome of outcomes)
      if (outcome.startedAt >= removedAt) assert.equal(outcome.stored, false, `${outcome.key} began after the removal`);
    assert.equal(await index.buckets.find('doomed'), undefined);
    for (const outcome of outcomes) assert.equal(await index.find({ ref: at(outcome.key), now: T0 }), undefined, outcome.key);
    assert.deepEqual(await countAll(index, 'ana', 'doomed'), { objects: 0, bytes: 0 }, 'no visible row in the removed bucket');
    const usage = await index.usage('ana');
    assert.deepEqual([usage.bytes, usage.objects], [0, 0], 'and none counted for its owner');
    // Created again, it counts the rows of (owner, name) it starts with: none, expired or not.
    assert.equal(await index.buckets.create(bucket('doomed', 'ana')), true);
    assert.deepEqual(await held(index, 'doomed'), { bytes: 0, objects: 0 });
  });

  it('a write over an expired leftover racing with the removal of its bucket never leaves a row behind', async () => {
    const index = await fresh();
    for (let round = 0; round < 5; round++) {
      const name = `leftover-${round}`;
      await index.buckets.create(bucket(name, 'ana'));
      const at = (key: string) => ref(key, 'ana', name);
      for (let i = 0; i < 5; i++) await put(index, at(`k${i}`), blobRow(10, { expiresAt: T0 }));
      const now = T0 + SECOND;
      const [removal, ...writes] = await Promise.allSettled([
        index.buckets.remove({ name, owner: 'ana', now, collectAfter: now }),
        ...Array.from({ length: 5 }, (_, i) => put(index, at(`k${i}`), blobRow(10), { now })),
      ]);
      assert.equal(removal.status, 'fulfilled');
      const stored = writes.filter((write) => write.status === 'fulfilled').length;
      for (const write of writes) if (write.status === 'rejected') code('NoSuchBucket')(write.reason);
      const left = await countAll(index, 'ana', name, now);
      if ((removal as PromiseFulfilledResult<string>).value === 'deleted') {
        assert.equal(stored, 0, 'a write that landed first would have made it not-empty');
        assert.equal(await index.buckets.find(name), undefined);
        assert.deepEqual(left, { objects: 0, bytes: 0 }, 'no visible row in the removed bucket');
      } else {
        assert.equal((removal as PromiseFulfilledResult<string>).value, 'not-empty');
        assert.equal(stored, 5, 'the bucket stays: every write landed');
        assert.deepEqual(left, { objects: 5, bytes: 50 });
        assert.deepEqual(await held(index, name), { bytes: 50, objects: 5 });
      }
    }
  });
}
