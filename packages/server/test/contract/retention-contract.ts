import assert from 'node:assert/strict';
import { it } from 'node:test';
import { KEPT_NEWER_RECHECK_MS } from '../../src/backends/kept-newer.js';
import { keyAfter, prefixRange } from '../../src/backends/key-range.js';
import type { ObjectIndex, VersionRow } from '../../src/backends/object-index.js';
import { PurgeSchedule } from '../../src/backends/purge-schedule.js';
import { blobRow, code, inlineRow, put, ref, SECOND, T0, takeAll } from './index-fixtures.js';
import type { OpenedIndex } from './object-index-contract.js';

const DAY = 86_400 * SECOND;
const PURGE = T0 + 7 * DAY;

async function versionsOf(index: ObjectIndex, key: string, now = T0 + 100 * SECOND): Promise<VersionRow[]> {
  const start = Buffer.from(key, 'utf8');
  return index.listVersions({ tenant: 'acme', type: 'data', start, end: keyAfter(start), after: undefined, limit: 100, now });
}

async function versionsUnder(index: ObjectIndex, prefix: string, now = T0 + 100 * SECOND): Promise<VersionRow[]> {
  return index.listVersions({ tenant: 'acme', type: 'data', ...prefixRange(prefix), after: undefined, limit: 1000, now });
}

/** What a version list says, newest first: [current?, marker?, size]. */
const shape = (rows: VersionRow[]) => rows.map((row) => [row.current ? 'current' : row.deleteMarker ? 'marker' : 'version', row.row.size]);

/**
 * Retention: versions are rows. A replaced or removed visible row becomes a noncurrent version (a
 * delete adds a marker) when the write passes `purgeAfter`; versions are invisible to reads and
 * listings, restorable, purged by the sweeper, and keep naming their blobs until then.
 */
export function retentionContract(fresh: () => Promise<ObjectIndex>, openHandle: () => Promise<OpenedIndex>): void {
  it('an overwrite with retention keeps the old row as a version, naming its blob (not queued); without, nothing is kept', async () => {
    const index = await fresh();
    const first = blobRow(100);
    await put(index, ref('o/kept'), first);
    await put(index, ref('o/kept'), blobRow(200), { now: T0 + SECOND, purgeAfter: PURGE });
    assert.deepEqual(await takeAll(index, T0 + DAY), [], 'the replaced blob is not garbage');
    const rows = await versionsOf(index, 'o/kept');
    assert.deepEqual(shape(rows), [
      ['current', 200],
      ['version', 100],
    ]);
    const [current, old] = rows as [VersionRow, VersionRow];
    assert.notEqual(current.versionId, old.versionId);
    assert.equal(old.since, T0);
    assert.equal(old.stoppedAt, T0 + SECOND);
    assert.equal(old.purgeAfter, PURGE);
    assert.equal(current.since, T0 + SECOND);
    assert.equal((await index.find({ ref: ref('o/kept'), now: T0 + 2 * SECOND }))?.size, 200, 'reads see the current row');
    assert.deepEqual(await index.retained({ tenant: 'acme' }), { bytes: 100, versions: 1 });
    assert.equal((await index.usage('acme')).bytes, 200, 'versions are not in the usage ledger');
    assert.ok((await index.knownBlobs([first.blobId as string])).has(first.blobId as string));

    await put(index, ref('o/gone'), blobRow(10));
    const replaced = blobRow(20);
    await put(index, ref('o/gone'), replaced, { now: T0 + SECOND });
    assert.equal((await versionsOf(index, 'o/gone')).length, 1, 'no retention: no version');
  });

  it('a delete with retention keeps the row and a delete marker; reads, lists and counts see nothing', async () => {
    const index = await fresh();
    await put(index, ref('d/a'), inlineRow('hello'));
    assert.equal(
      await index.remove({ ref: ref('d/a'), now: T0 + SECOND, condition: undefined, collectAfter: T0, purgeAfter: PURGE }),
      true,
    );
    assert.equal(await index.find({ ref: ref('d/a'), now: T0 + 2 * SECOND }), undefined);
    assert.deepEqual(
      (await index.list({ tenant: 'acme', type: 'data', prefix: 'd/', after: undefined, limit: 10, now: T0 + 2 * SECOND })).keys,
      [],
    );
    assert.deepEqual(await index.countRange({ tenant: 'acme', type: 'data', ...prefixRange('d/'), now: T0 + 2 * SECOND }), {
      objects: 0,
      bytes: 0,
    });
    assert.deepEqual(shape(await versionsOf(index, 'd/a')), [
      ['marker', 0],
      ['version', 5],
    ]);
    const [marker] = await versionsOf(index, 'd/a');
    assert.equal(marker?.since, T0 + SECOND);
    // An expired row is not a value that was deleted: no version.
    await put(index, ref('d/expired'), inlineRow('x', { expiresAt: T0 + SECOND }));
    await index.remove({ ref: ref('d/expired'), now: T0 + 2 * SECOND, condition: undefined, collectAfter: T0, purgeAfter: PURGE });
    assert.deepEqual(await versionsOf(index, 'd/expired'), []);
  });

  it('a move with retention keeps the source (and a marker) and the replaced destination; blobs stay shared', async () => {
    const index = await fresh();
    const source = blobRow(30);
    const target = blobRow(40);
    await put(index, ref('m/src'), source);
    await put(index, ref('m/dst'), target);
    await index.transfer({
      from: ref('m/src'),
      to: ref('m/dst'),
      move: true,
      overwrite: true,
      condition: undefined,
      now: T0 + SECOND,
      lastModified: undefined,
      expiresAtIfNone: null,
      collectAfter: T0,
      purgeAfter: PURGE,
      sourcePurgeAfter: PURGE,
    });
    assert.deepEqual(shape(await versionsOf(index, 'm/src')), [
      ['marker', 0],
      ['version', 30],
    ]);
    assert.deepEqual(shape(await versionsOf(index, 'm/dst')), [
      ['current', 30],
      ['version', 40],
    ]);
    assert.deepEqual(await takeAll(index, T0 + DAY), []);
    const [current] = await versionsOf(index, 'm/dst');
    assert.equal(current?.since, T0 + SECOND, 'the destination became current at the move');
  });

  it('a range delete and a delete of many keys with retention keep each visible row with a marker', async () => {
    const index = await fresh();
    for (const key of ['r/1', 'r/2', 'r/3']) await put(index, ref(key), inlineRow(key));
    await put(index, ref('r/old'), inlineRow('old', { expiresAt: T0 + SECOND }));
    for (let start: Buffer | undefined = prefixRange('r/').start; start; ) {
      const step = await index.removeRange({
        tenant: 'acme',
        type: 'data',
        start,
        end: prefixRange('r/').end,
        limit: 2,
        now: T0 + 2 * SECOND,
        collectAfter: T0,
        purgeAfter: PURGE,
      });
      start = step.next;
    }
    const rows = await versionsUnder(index, 'r/');
    assert.deepEqual(
      rows.map((row) => [row.key, row.deleteMarker]),
      [
        ['r/1', true],
        ['r/1', false],
        ['r/2', true],
        ['r/2', false],
        ['r/3', true],
        ['r/3', false],
      ],
    );
    await put(index, ref('n/1'), inlineRow('one'));
    await put(index, ref('n/2'), inlineRow('two'));
    const sizes = await index.removeMany({
      tenant: 'acme',
      type: 'data',
      keys: ['n/1', 'n/2', 'n/3'],
      now: T0 + SECOND,
      collectAfter: T0,
      // Each key's own instant (a lifecycle rule for n/2's prefix).
      purgeAfter: (key) => (key === 'n/2' ? PURGE + DAY : PURGE),
    });
    assert.deepEqual(sizes, [3, 3, undefined]);
    const kept = await versionsUnder(index, 'n/');
    assert.deepEqual(shape(kept), [
      ['marker', 0],
      ['version', 3],
      ['marker', 0],
      ['version', 3],
    ]);
    assert.deepEqual(
      kept.map((row) => [row.key, row.purgeAfter]),
      [
        ['n/1', PURGE],
        ['n/1', PURGE],
        ['n/2', PURGE + DAY],
        ['n/2', PURGE + DAY],
      ],
    );
  });

  it('purge with count rules: the newest noncurrent versions a count keeps are held a day, again and again; unresolved types wait', async () => {
    const index = await fresh();
    for (let i = 1; i <= 4; i++) await put(index, ref('n/a'), inlineRow(`a${i}`), { now: T0 + i * SECOND, purgeAfter: T0 + DAY });
    for (let i = 1; i <= 2; i++) await put(index, ref('x'), inlineRow(`x${i}`), { now: T0 + i * SECOND, purgeAfter: T0 + DAY });
    for (let i = 1; i <= 2; i++)
      await put(index, ref('o', 'acme', 'result'), inlineRow(`o${i}`), { now: T0 + i * SECOND, purgeAfter: T0 + DAY });
    // A deleted key: its current delete marker is not one of its noncurrent versions.
    for (let i = 1; i <= 3; i++) await put(index, ref('n/d'), inlineRow(`d${i}`), { now: T0 + i * SECOND, purgeAfter: T0 + DAY });
    await index.remove({ ref: ref('n/d'), now: T0 + 5 * SECOND, condition: undefined, collectAfter: T0, purgeAfter: T0 + DAY });
    // Nothing due yet; the round settles the delete and files what was written (the embedded index), so the holds move filed versions.
    await index.sweepExpired({ now: T0 + 10 * SECOND, limit: 100, collectAfter: T0 });
    assert.equal(await index.purgeVersions({ now: T0, limit: 100, collectAfter: T0 }), 0);
    const rules = [{ prefix: 'n/', ms: DAY, newer: 2 }];
    const schedule = new PurgeSchedule(30 * DAY, [{ prefix: 'n/', ms: DAY }], T0, rules);
    const keptNewer = { scheduleOf: (tenant: string, type: string) => (tenant === 'acme' && type === 'data' ? schedule : undefined) };
    const kept = async (key: string) =>
      (await versionsOf(index, key))
        .filter((row) => !row.current)
        .map((row) => [row.deleteMarker ? 'marker' : row.row.size, row.purgeAfter]);
    const due = T0 + DAY + 10 * SECOND;
    // n/a: two held, the oldest goes; n/d: its two newest values held, the oldest goes, and its marker held; x goes.
    assert.equal(await index.purgeVersions({ now: due, limit: 100, collectAfter: due, keptNewer }), 8);
    const held = due + KEPT_NEWER_RECHECK_MS;
    assert.deepEqual(await kept('n/a'), [
      [2, held],
      [2, held],
    ]);
    assert.deepEqual(await kept('n/d'), [
      ['marker', held],
      [2, held],
      [2, held],
    ]);
    assert.deepEqual(await kept('x'), []);
    const other = () =>
      index
        .listVersions({ tenant: 'acme', type: 'result', ...prefixRange(''), after: undefined, limit: 10, now: due })
        .then((rows) => rows.length);
    assert.equal(await other(), 2, 'a version whose schedule is not resolved waits');
    assert.equal(await index.purgeVersions({ now: held - 1, limit: 100, collectAfter: due, keptNewer }), 0);
    // At the next look, still the newest two of each: held again.
    assert.equal(await index.purgeVersions({ now: held, limit: 100, collectAfter: due, keptNewer }), 5);
    assert.deepEqual(
      (await kept('n/a')).map(([, purgeAfter]) => purgeAfter),
      [held + KEPT_NEWER_RECHECK_MS, held + KEPT_NEWER_RECHECK_MS],
    );
    // A rule without a count covering the key lets them go by its own days, as on S3.
    const longer = new PurgeSchedule(30 * DAY, [{ prefix: 'n/', ms: DAY }], T0, [...rules, { prefix: '', ms: 5 * DAY, newer: 0 }]);
    const byLonger = { scheduleOf: () => longer };
    const third = held + KEPT_NEWER_RECHECK_MS;
    assert.ok(third < T0 + 5 * DAY, 'the third look comes before 5 days passed');
    assert.equal(
      await index.purgeVersions({ now: third, limit: 100, collectAfter: due, keptNewer: byLonger }),
      6,
      'held once more; the other type’s version goes by its time',
    );
    assert.equal(await index.purgeVersions({ now: T0 + 6 * DAY, limit: 100, collectAfter: due, keptNewer: byLonger }), 5);
    assert.deepEqual(await kept('n/a'), []);
    assert.deepEqual(await kept('n/d'), []);
    assert.equal(await other(), 1, 'the other type’s current row stays');
  });

  it('expireLoneMarker: only a delete marker that is its key’s only version, filed or not, and only sooner', async () => {
    const index = await fresh();
    const removeAll = async (key: string, now: number) => {
      await index.remove({ ref: ref(key), now, condition: undefined, collectAfter: T0, purgeAfter: PURGE });
      // A delete kept in place (the embedded index) is a row of objects until settled.
      await index.sweepExpired({ now, limit: 100, collectAfter: T0 });
    };
    for (const key of ['m/lone', 'm/behind', 'm/filed']) {
      await put(index, ref(key), inlineRow('v'), { now: T0 });
      await removeAll(key, T0 + SECOND);
    }
    // m/filed's versions are filed (the embedded index files them in a purge's round).
    await index.purgeVersions({ now: T0 + 2 * SECOND, limit: 100, collectAfter: T0 });
    const keptValue = async (key: string) => (await versionsOf(index, key)).find((row) => !row.deleteMarker) as VersionRow;
    for (const key of ['m/lone', 'm/filed'])
      await index.deleteVersion({ ref: ref(key), versionId: (await keptValue(key)).versionId, now: T0 + 3 * SECOND, collectAfter: T0 });
    const at = T0 + DAY;
    assert.equal(await index.expireLoneMarker({ ref: ref('m/behind'), at }), false, 'a value behind the marker');
    assert.equal(await index.expireLoneMarker({ ref: ref('m/none'), at }), false, 'no version at all');
    for (const key of ['m/lone', 'm/filed']) {
      assert.equal(await index.expireLoneMarker({ ref: ref(key), at }), true, key);
      assert.deepEqual(shape(await versionsOf(index, key)), [['marker', 0]]);
      assert.equal((await versionsOf(index, key))[0]?.purgeAfter, at);
      assert.equal(await index.expireLoneMarker({ ref: ref(key), at: at + 1 }), false, 'never later');
    }
    // A key deleted in place and not settled yet, or written again, is not alone.
    await put(index, ref('m/kept'), inlineRow('v'), { now: T0 });
    await index.remove({ ref: ref('m/kept'), now: T0 + SECOND, condition: undefined, collectAfter: T0, purgeAfter: PURGE });
    assert.equal(await index.expireLoneMarker({ ref: ref('m/kept'), at }), false);
    await put(index, ref('m/lone'), inlineRow('again'), { now: T0 + 4 * SECOND });
    assert.equal(await index.expireLoneMarker({ ref: ref('m/lone'), at: at - 1 }), false);
    // Due, the lone ones go at the sweeper's purge.
    assert.equal(await index.purgeVersions({ now: at, limit: 100, collectAfter: at }), 2);
    assert.deepEqual(shape(await versionsOf(index, 'm/filed')), []);
  });

  it('purge removes versions past their window, and a blob is collected only when no row or version names it', async () => {
    const index = await fresh();
    const shared = blobRow(50);
    await put(index, ref('p/a'), shared);
    // A copy shares the blob; then both rows are overwritten with retention, with different windows.
    await index.transfer({
      from: ref('p/a'),
      to: ref('p/b'),
      move: false,
      overwrite: false,
      condition: undefined,
      now: T0,
      lastModified: T0,
      expiresAtIfNone: null,
      collectAfter: T0,
    });
    await put(index, ref('p/a'), inlineRow('new a'), { now: T0 + SECOND, purgeAfter: T0 + DAY });
    await put(index, ref('p/b'), inlineRow('new b'), { now: T0 + SECOND, purgeAfter: T0 + 2 * DAY });
    assert.equal(await index.purgeVersions({ now: T0 + DAY - 1, limit: 100, collectAfter: T0 }), 0);
    assert.equal(await index.purgeVersions({ now: T0 + DAY, limit: 100, collectAfter: T0 }), 1);
    assert.deepEqual(await takeAll(index, T0 + DAY), [], "p/b's version still names the blob");
    assert.equal(await index.purgeVersions({ now: T0 + 2 * DAY, limit: 100, collectAfter: T0 }), 1);
    assert.deepEqual(await takeAll(index, T0 + 2 * DAY), [shared.blobId]);
    assert.deepEqual(await index.retained({ tenant: 'acme' }), { bytes: 0, versions: 0 });
  });

  it('restoreVersion puts a version back (a new version id), keeps the current one as a version, and changes nothing when already it', async () => {
    const index = await fresh();
    const first = blobRow(60);
    await put(index, ref('v/k'), first);
    await put(index, ref('v/k'), inlineRow('second'), { now: T0 + SECOND, purgeAfter: PURGE });
    const old = (await versionsOf(index, 'v/k')).find((row) => !row.current) as VersionRow;
    const restored = await index.restoreVersion({
      ref: ref('v/k'),
      versionId: old.versionId,
      now: T0 + 2 * SECOND,
      purgeAfter: PURGE,
      collectAfter: T0,
    });
    assert.equal(restored.blobId, first.blobId);
    assert.equal((await index.find({ ref: ref('v/k'), now: T0 + 3 * SECOND }))?.size, 60);
    const rows = await versionsOf(index, 'v/k');
    assert.deepEqual(shape(rows), [
      ['current', 60],
      ['version', 6],
      ['version', 60],
    ]);
    assert.notEqual(rows[0]?.versionId, old.versionId);
    assert.equal((await index.usage('acme')).bytes, 60);
    // Again: the current row already holds that value.
    await index.restoreVersion({ ref: ref('v/k'), versionId: old.versionId, now: T0 + 3 * SECOND, purgeAfter: PURGE, collectAfter: T0 });
    assert.equal((await versionsOf(index, 'v/k')).length, 3);
    await assert.rejects(
      index.restoreVersion({ ref: ref('v/k'), versionId: 'no-such', now: T0 + 3 * SECOND, purgeAfter: PURGE, collectAfter: T0 }),
      code('NoSuchVersion'),
    );
    // ifCurrent: only over the version the caller saw current (or, null, over none).
    const seen = rows[0]?.versionId as string;
    for (const ifCurrent of [null, 'another'])
      await assert.rejects(
        index.restoreVersion({
          ref: ref('v/k'),
          versionId: old.versionId,
          now: T0 + 3 * SECOND,
          purgeAfter: PURGE,
          collectAfter: T0,
          ifCurrent,
        }),
        code('PreconditionFailed'),
      );
    await index.restoreVersion({
      ref: ref('v/k'),
      versionId: old.versionId,
      now: T0 + 3 * SECOND,
      purgeAfter: PURGE,
      collectAfter: T0,
      ifCurrent: seen,
    });
    // A deleted key comes back from its version; a delete marker is not a value.
    await index.remove({ ref: ref('v/k'), now: T0 + 4 * SECOND, condition: undefined, collectAfter: T0, purgeAfter: PURGE });
    const marker = (await versionsOf(index, 'v/k'))[0] as VersionRow;
    assert.equal(marker.deleteMarker, true);
    await assert.rejects(
      index.restoreVersion({ ref: ref('v/k'), versionId: marker.versionId, now: T0 + 5 * SECOND, purgeAfter: PURGE, collectAfter: T0 }),
      code('NoSuchVersion'),
    );
    await index.restoreVersion({ ref: ref('v/k'), versionId: old.versionId, now: T0 + 5 * SECOND, purgeAfter: PURGE, collectAfter: T0 });
    assert.equal((await index.find({ ref: ref('v/k'), now: T0 + 6 * SECOND }))?.blobId, first.blobId);
    assert.deepEqual(await takeAll(index, T0 + DAY), []);
  });

  it('findVersion gives the value of a version, current or not (inline bytes too); a delete marker has none', async () => {
    const index = await fresh();
    const big = blobRow(70);
    await put(index, ref('f/k'), inlineRow('small one'));
    await put(index, ref('f/k'), big, { now: T0 + SECOND, purgeAfter: PURGE });
    const [current, old] = await versionsOf(index, 'f/k');
    const now = T0 + 2 * SECOND;
    assert.equal((await index.findVersion({ ref: ref('f/k'), versionId: old?.versionId as string, now }))?.inline?.toString(), 'small one');
    assert.equal((await index.findVersion({ ref: ref('f/k'), versionId: current?.versionId as string, now }))?.blobId, big.blobId);
    await index.remove({ ref: ref('f/k'), now, condition: undefined, collectAfter: T0, purgeAfter: PURGE });
    const marker = (await versionsOf(index, 'f/k'))[0] as VersionRow;
    assert.equal(await index.findVersion({ ref: ref('f/k'), versionId: marker.versionId, now }), undefined);
    assert.equal(await index.findVersion({ ref: ref('f/k'), versionId: 'never', now }), undefined);
    assert.equal(await index.findVersion({ ref: ref('f/other'), versionId: old?.versionId as string, now }), undefined);
  });

  it('removeVersion removes one noncurrent version for good and queues its blob; the current row is no version to remove', async () => {
    const index = await fresh();
    const first = blobRow(80);
    await put(index, ref('x/k'), first);
    await put(index, ref('x/k'), inlineRow('now'), { now: T0 + SECOND, purgeAfter: PURGE });
    const [current, old] = await versionsOf(index, 'x/k');
    assert.equal(await index.removeVersion({ ref: ref('x/k'), versionId: current?.versionId as string, collectAfter: T0 }), undefined);
    assert.deepEqual(await index.removeVersion({ ref: ref('x/k'), versionId: old?.versionId as string, collectAfter: T0 }), {
      deleteMarker: false,
    });
    assert.deepEqual(shape(await versionsOf(index, 'x/k')), [['current', 3]]);
    assert.deepEqual(await takeAll(index, T0 + DAY), [first.blobId]);
  });

  it('deleteVersion of the current row: the newest version left is current again, with its id and since; usage follows', async () => {
    const index = await fresh();
    const first = blobRow(80);
    await put(index, ref('dv/k'), first);
    const second = blobRow(30);
    await put(index, ref('dv/k'), second, { now: T0 + SECOND, purgeAfter: PURGE });
    const now = T0 + 2 * SECOND;
    assert.deepEqual(await index.deleteVersion({ ref: ref('dv/k'), versionId: second.versionId as string, now, collectAfter: T0 }), {
      deleteMarker: false,
      promoted: first.versionId,
    });
    assert.deepEqual(await index.find({ ref: ref('dv/k'), now }), first, 'the version before is the current row, as it was');
    const [back] = await versionsOf(index, 'dv/k', now);
    assert.deepEqual([back?.current, back?.versionId, back?.since], [true, first.versionId, T0]);
    assert.equal((await versionsOf(index, 'dv/k', now)).length, 1);
    assert.deepEqual([(await index.usage('acme')).bytes, (await index.usage('acme')).objects], [80, 1]);
    assert.deepEqual(await index.retained({ tenant: 'acme' }), { bytes: 0, versions: 0 });
    assert.deepEqual(await takeAll(index, T0 + DAY), [second.blobId], 'the removed value is garbage');

    // The only version: the key is gone.
    assert.deepEqual(await index.deleteVersion({ ref: ref('dv/k'), versionId: first.versionId as string, now, collectAfter: T0 }), {
      deleteMarker: false,
      promoted: undefined,
    });
    assert.equal(await index.find({ ref: ref('dv/k'), now }), undefined);
    assert.deepEqual([(await index.usage('acme')).bytes, (await index.usage('acme')).objects], [0, 0]);
    assert.equal(await index.deleteVersion({ ref: ref('dv/k'), versionId: 'never', now, collectAfter: T0 }), undefined);
  });

  it('deleteVersion of the newest delete marker undeletes the key; of an older marker or a noncurrent value, only that goes', async () => {
    const index = await fresh();
    const value = inlineRow('kept');
    await put(index, ref('dm/k'), value);
    await index.remove({ ref: ref('dm/k'), now: T0 + SECOND, condition: undefined, collectAfter: T0, purgeAfter: PURGE });
    const between = inlineRow('between');
    await put(index, ref('dm/k'), between, { now: T0 + 2 * SECOND });
    await index.remove({ ref: ref('dm/k'), now: T0 + 3 * SECOND, condition: undefined, collectAfter: T0, purgeAfter: PURGE });
    const now = T0 + 4 * SECOND;
    const [newest, , older] = await versionsOf(index, 'dm/k', now);
    assert.deepEqual(shape(await versionsOf(index, 'dm/k', now)), [
      ['marker', 0],
      ['version', 7],
      ['marker', 0],
      ['version', 4],
    ]);
    // The older marker: only it goes.
    assert.deepEqual(await index.deleteVersion({ ref: ref('dm/k'), versionId: older?.versionId as string, now, collectAfter: T0 }), {
      deleteMarker: true,
      promoted: undefined,
    });
    assert.equal(await index.find({ ref: ref('dm/k'), now }), undefined);
    // The newest marker: the value before it is current again.
    assert.deepEqual(await index.deleteVersion({ ref: ref('dm/k'), versionId: newest?.versionId as string, now, collectAfter: T0 }), {
      deleteMarker: true,
      promoted: between.versionId,
    });
    assert.deepEqual(await index.find({ ref: ref('dm/k'), now }), between);
    assert.deepEqual(shape(await versionsOf(index, 'dm/k', now)), [
      ['current', 7],
      ['version', 4],
    ]);
    assert.equal((await index.usage('acme')).objects, 1);
  });

  it('transfer from a version copies that value (current or kept) in the transaction; a marker or an unknown id is NoSuchVersion', async () => {
    const index = await fresh();
    const old = blobRow(40, { contentType: 'text/old' });
    await put(index, ref('cv/src'), old);
    await put(index, ref('cv/src'), inlineRow('current'), { now: T0 + SECOND, purgeAfter: PURGE });
    const now = T0 + 2 * SECOND;
    const copy = (fromVersionId: string, to: string) =>
      index.transfer({
        from: ref('cv/src'),
        fromVersionId,
        to: ref(to),
        move: false,
        overwrite: true,
        condition: undefined,
        now,
        lastModified: now,
        expiresAtIfNone: null,
        collectAfter: T0,
      });
    const copied = await copy(old.versionId as string, 'cv/dst');
    assert.equal(copied.blobId, old.blobId, 'the copy names the version’s blob');
    assert.equal(copied.contentType, 'text/old');
    assert.notEqual(copied.versionId, old.versionId);
    assert.deepEqual(await index.find({ ref: ref('cv/dst'), now }), copied);
    const [current] = await versionsOf(index, 'cv/src', now);
    assert.equal((await copy(current?.versionId as string, 'cv/dst2')).inline?.toString(), 'current');
    await index.remove({ ref: ref('cv/src'), now, condition: undefined, collectAfter: T0, purgeAfter: PURGE });
    const [marker] = await versionsOf(index, 'cv/src', now);
    await assert.rejects(copy(marker?.versionId as string, 'cv/x'), code('NoSuchVersion'));
    await assert.rejects(copy('never', 'cv/x'), code('NoSuchVersion'));
    assert.equal(await index.find({ ref: ref('cv/x'), now }), undefined);
    // Purged while a copy names its blob: the blob stays.
    await index.purgeVersions({ now: PURGE + 1, limit: 100, collectAfter: PURGE });
    assert.ok(!(await takeAll(index, PURGE + DAY)).includes(old.blobId as string));
  });

  it('a row written before rows had version ids is version "null", current since its Last-Modified, and kept and restored as any', async () => {
    const handle = await openHandle();
    const { index } = handle;
    await put(index, ref('legacy/k'), inlineRow('old', { lastModified: T0 - 5 * SECOND }));
    await handle.makeLegacy(ref('legacy/k'));
    const [before] = await versionsOf(index, 'legacy/k');
    assert.deepEqual([before?.versionId, before?.since, before?.current], ['null', T0 - 5 * SECOND, true]);
    await put(index, ref('legacy/k'), inlineRow('new'), { now: T0 + SECOND, purgeAfter: PURGE });
    const [, kept] = await versionsOf(index, 'legacy/k');
    assert.deepEqual([kept?.versionId, kept?.since, kept?.stoppedAt], ['null', T0 - 5 * SECOND, T0 + SECOND]);
    assert.equal((await index.findVersion({ ref: ref('legacy/k'), versionId: 'null', now: T0 + 2 * SECOND }))?.inline?.toString(), 'old');
    await index.restoreVersion({ ref: ref('legacy/k'), versionId: 'null', now: T0 + 2 * SECOND, purgeAfter: PURGE, collectAfter: T0 });
    assert.equal((await index.find({ ref: ref('legacy/k'), now: T0 + 3 * SECOND }))?.inline?.toString(), 'old');
  });

  it('listVersions pages by (key, newest first) with a cursor', async () => {
    const index = await fresh();
    for (let i = 0; i < 3; i++) await put(index, ref('l/a'), inlineRow(`a${i}`), { now: T0 + i * SECOND, purgeAfter: PURGE });
    await put(index, ref('l/b'), inlineRow('b'), { now: T0 });
    const all = await versionsUnder(index, 'l/');
    const paged: VersionRow[] = [];
    let after: { key: Buffer; seq: number } | undefined;
    for (;;) {
      const page = await index.listVersions({ tenant: 'acme', type: 'data', ...prefixRange('l/'), after, limit: 1, now: T0 + 10 * SECOND });
      paged.push(...page);
      const last = page.at(-1);
      if (!last) break;
      after = { key: Buffer.from(last.key, 'utf8'), seq: last.seq };
    }
    assert.deepEqual(
      paged.map((row) => row.versionId),
      all.map((row) => row.versionId),
    );
    assert.deepEqual(
      all.map((row) => [row.key, row.row.size]),
      [
        ['l/a', 2],
        ['l/a', 2],
        ['l/a', 2],
        ['l/b', 1],
      ],
    );
  });
}
