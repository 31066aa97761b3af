// The embedded index's versions are entered in key order and purge order in batches, not as they
// are written (sqlite-versions.ts): every reader in either order sees every version all the same,
// across ids used again after a delete, after a restart, and in a data directory whose versions
// an older version indexed as it wrote them.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ObjectRef } from '../src/backends/backend.js';
import { fsck } from '../src/backends/fs/fsck.js';
import { SqliteIndex } from '../src/backends/fs/sqlite-index.js';
import { FILING_BATCH } from '../src/backends/fs/sqlite-versions.js';
import { KEY_SPACE_END } from '../src/backends/key-range.js';

const DAY = 86_400_000;
const TENANT = 'filing';

describe('versions filed in batches (embedded index)', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'stowage-version-filing-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const warnings: string[] = [];
  const openAt = (file: string, upkeepThread = false) =>
    SqliteIndex.open({
      file,
      durability: 'process',
      defaultQuotaBytes: null,
      attributeLayout: { contentFields: [] },
      upkeepThread: upkeepThread ? { onWarning: (message) => warnings.push(message) } : undefined,
    });
  const open = (name: string, upkeepThread = false) => openAt(path.join(dir, `${name}.sqlite`), upkeepThread);

  /** Runs `use` on a new index of its own (its upkeep on a thread of its own, or not), closing it after. */
  const withIndex = async (name: string, use: (index: SqliteIndex) => Promise<void>, upkeepThread = false) => {
    const index = await open(name, upkeepThread);
    try {
      await use(index);
    } finally {
      await index.close();
    }
  };

  const ref = (key: string): ObjectRef => ({ tenant: TENANT, type: 'data', key });

  /** The values written, by their sha256. */
  const values = new Map<string, string>();

  /** Writes `value` at `key` at `now`; what it replaces is kept until `now + DAY`. */
  const write = (index: SqliteIndex, key: string, value: string, now: number) => {
    const sha256 = createHash('sha256').update(value).digest('hex');
    values.set(sha256, value);
    return index.put({
      ref: ref(key),
      row: {
        size: value.length,
        sha256,
        contentType: 'text/plain',
        lastModified: now,
        expiresAt: null,
        blobId: null,
        inline: Buffer.from(value),
        attributes: {},
      },
      condition: undefined,
      now,
      collectAfter: now,
      purgeAfter: now + DAY,
    });
  };

  /** Every version of the tenant's data, current ones too, as `key sha-prefix`, newest first per key. */
  const history = async (index: SqliteIndex, now: number) => {
    const rows = await index.listVersions({
      tenant: TENANT,
      type: 'data',
      start: Buffer.alloc(0),
      end: KEY_SPACE_END,
      after: undefined,
      limit: 100_000,
      now,
    });
    return rows.map((row) => `${row.key} ${row.deleteMarker ? '(deleted)' : values.get(row.row.sha256)}`);
  };

  const count = (index: SqliteIndex, sql: string) => index.db.db.prepare(sql).pluck().get() as number;

  /** The sweeper's round files what is unfiled (and here purges nothing). */
  const fileNow = (index: SqliteIndex) => index.purgeVersions({ now: 0, limit: 1, collectAfter: 0 });

  /** Both hand-kept orders name exactly the versions at or below the mark: the filed ones. */
  const assertExact = (index: SqliteIndex) => {
    const versions = count(index, 'SELECT COUNT(*) FROM object_versions WHERE id <= (SELECT through FROM versions_filed)');
    const keyed = count(
      index,
      'SELECT COUNT(*) FROM version_keys k JOIN object_versions v ON v.id = k.id AND v.tenant = k.tenant AND v.type = k.type AND v.key = k.key',
    );
    const purges = count(
      index,
      'SELECT COUNT(*) FROM version_purges p JOIN object_versions v ON v.id = p.id AND v.purge_after = p.purge_after',
    );
    assert.equal(keyed, versions, 'version_keys names each version');
    assert.equal(count(index, 'SELECT COUNT(*) FROM version_keys'), versions, 'and nothing else');
    assert.equal(purges, versions, 'version_purges names each version');
    assert.equal(count(index, 'SELECT COUNT(*) FROM version_purges'), versions, 'and nothing else');
  };

  test('versions not yet filed are listed, summed and restored like filed ones', () =>
    withIndex('unfiled', async (index) => {
      const now = Date.now();
      await write(index, 'a', 'a1', now);
      await write(index, 'a', 'a2', now + 1);
      await write(index, 'b', 'b1', now + 2);
      await write(index, 'a', 'a3', now + 3);
      assert.deepEqual(await history(index, now + 4), ['a a3', 'a a2', 'a a1', 'b b1']);
      // A reader never files (nor writes): the two versions are read beside the orders.
      assert.equal(count(index, 'SELECT COUNT(*) FROM version_keys'), 0, 'two versions, none filed');
      assert.equal(count(index, 'SELECT through FROM versions_filed'), 0);
      await fileNow(index);
      assertExact(index);
      assert.equal(count(index, 'SELECT COUNT(*) FROM version_keys'), 2, 'filed by the sweeper');
      assert.deepEqual(await history(index, now + 4), ['a a3', 'a a2', 'a a1', 'b b1'], 'the same once filed');
      await write(index, 'b', 'b2', now + 5);
      assert.deepEqual(await index.retained({ tenant: TENANT }), { bytes: 6, versions: 3 }, 'the unfiled one counts');
      const [b1] = (
        await index.listVersions({
          tenant: TENANT,
          type: 'data',
          start: Buffer.from('b'),
          end: Buffer.from('c'),
          after: undefined,
          limit: 10,
          now: now + 6,
        })
      ).filter((row) => !row.current);
      assert.ok(b1);
      await index.restoreVersion({ ref: ref('b'), versionId: b1.versionId, now: now + 7, purgeAfter: now + DAY, collectAfter: now });
      assert.deepEqual(await history(index, now + 8), ['a a3', 'a a2', 'a a1', 'b b1', 'b b2', 'b b1']);
      assertExact(index);
      await fileNow(index);
      assert.deepEqual(await history(index, now + 8), ['a a3', 'a a2', 'a a1', 'b b1', 'b b2', 'b b1']);
      assertExact(index);
    }));

  for (const upkeepThread of [false, true])
    test(`writes file their versions every FILING_BATCH, with no reader asking (${upkeepThread ? 'on the upkeep thread' : 'in a commit'})`, () =>
      withIndex(
        `batches-${upkeepThread}`,
        async (index) => {
          const now = Date.now();
          const rounds = FILING_BATCH + 200;
          // The first round makes the 64 keys; each later one replaces 64 values.
          for (let i = 0; i <= rounds; i += 64)
            await Promise.all(Array.from({ length: 64 }, (_, k) => write(index, `k${k}`, `v${i}`, now + i)));
          // The filing is a commit of its own, after the one that crossed the batch (or the thread's).
          await write(index, 'last', 'x', now + rounds + 1);
          const filedCount = () => count(index, 'SELECT COUNT(*) FROM version_keys');
          for (const deadline = Date.now() + 10_000; upkeepThread && filedCount() === 0 && Date.now() < deadline; )
            await new Promise((resolve) => setTimeout(resolve, 10));
          const versions = count(index, 'SELECT COUNT(*) FROM object_versions');
          const filed = filedCount();
          assert.ok(versions > FILING_BATCH);
          assert.ok(filed >= FILING_BATCH && filed <= versions, `${filed} of ${versions} filed`);
          assert.equal(count(index, 'SELECT through FROM versions_filed') > 0, true);
          const listed = await history(index, now + rounds + 2);
          assert.equal(listed.length, versions + 65, 'every version and the 65 current rows');
          assertExact(index);
          assert.deepEqual(warnings, []);
        },
        upkeepThread,
      ));

  test('an id used again after the newest version was removed is filed, not taken for filed', () =>
    withIndex('reuse', async (index) => {
      const now = Date.now();
      await write(index, 'k', 'one', now);
      await write(index, 'k', 'two', now + 1);
      const [, one] = await index.listVersions({
        tenant: TENANT,
        type: 'data',
        start: Buffer.alloc(0),
        end: KEY_SPACE_END,
        after: undefined,
        limit: 10,
        now: now + 2,
      });
      assert.ok(one && !one.current);
      await fileNow(index);
      assert.equal(count(index, 'SELECT COUNT(*) FROM version_keys'), 1);
      // Removing the only version leaves the table empty, so the next version gets its id again.
      const idBefore = count(index, 'SELECT MAX(id) FROM object_versions');
      assert.deepEqual(await index.removeVersion({ ref: ref('k'), versionId: one.versionId, collectAfter: now }), { deleteMarker: false });
      await write(index, 'k', 'three', now + 3);
      assert.equal(count(index, 'SELECT MAX(id) FROM object_versions'), idBefore, 'the same id again');
      assert.deepEqual(await history(index, now + 4), ['k three', 'k two']);
      assertExact(index);
    }));

  test('the purge removes versions filed or not, from both orders', () =>
    withIndex('purge', async (index) => {
      const now = Date.now();
      for (let i = 0; i < 5; i++) await write(index, 'p', `p${i}`, now + i);
      await fileNow(index);
      for (let i = 5; i < 8; i++) await write(index, 'p', `p${i}`, now + i);
      assert.equal(count(index, 'SELECT COUNT(*) FROM object_versions'), 7);
      assert.equal(count(index, 'SELECT COUNT(*) FROM version_keys'), 4, 'four filed, three not');
      // Version pi stopped at now + i + 1: p0 to p4 are due.
      assert.equal(await index.purgeVersions({ now: now + DAY + 5, limit: 100, collectAfter: now }), 5);
      assert.deepEqual(await history(index, now + DAY + 6), ['p p7', 'p p6', 'p p5']);
      assertExact(index);
    }));

  test("a filed version's purge time changed by an upsert (as stowage migrate writes) moves in the purge order", () =>
    withIndex('update', async (index) => {
      const now = Date.now();
      await write(index, 'u', 'u1', now);
      await write(index, 'u', 'u2', now + 1);
      await fileNow(index);
      index.db.db.prepare('UPDATE object_versions SET purge_after = ?').run(now + 10);
      assertExact(index);
      assert.equal(await index.purgeVersions({ now: now + 10, limit: 10, collectAfter: now }), 1, 'due at its new time');
      assert.deepEqual(await history(index, now + 11), ['u u2']);
      assertExact(index);
    }));

  test('a data directory whose versions an older version indexed as it wrote: its index becomes the filed one', async () => {
    const now = Date.now();
    const older = await open('older');
    await write(older, 'x', 'x1', now);
    await write(older, 'x', 'x2', now + 1);
    await write(older, 'y', 'y1', now + 2);
    await write(older, 'y', 'y2', now + 3);
    await write(older, 'x', 'x3', now + 4);
    // What that version had: SQLite's own indexes, no hand-kept ones.
    older.db.db.exec(`
      DROP TRIGGER object_versions_unfiled;
      DROP TABLE version_keys;
      DROP TABLE version_purges;
      DROP TABLE versions_filed;
      CREATE INDEX object_versions_by_key ON object_versions (tenant, type, key, id);
      CREATE INDEX object_versions_by_purge ON object_versions (purge_after);
    `);
    await older.close();
    const index = await open('older');
    try {
      const indexes = index.db.db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'object_versions'")
        .pluck()
        .all();
      assert.ok(!indexes.includes('object_versions_by_key') && !indexes.includes('object_versions_by_purge'), String(indexes));
      assertExact(index);
      assert.deepEqual(await history(index, now + 5), ['x x3', 'x x2', 'x x1', 'y y2', 'y y1']);
      await write(index, 'y', 'y3', now + 6);
      // Due: x1 (stopped at now + 1), y1 (now + 3), x2 (now + 4); not y2 (now + 6).
      assert.equal(await index.purgeVersions({ now: now + DAY + 4, limit: 100, collectAfter: now }), 3);
      assert.deepEqual(await history(index, now + DAY + 7), ['x x3', 'y y3', 'y y2']);
      assertExact(index);
    } finally {
      await index.close();
    }
  });

  test('an entry that names no such version is not trusted: not listed under its key, not purged early, not removed with a bucket', () =>
    withIndex('strays', async (index) => {
      const now = Date.now();
      await write(index, 'mine', 'm1', now);
      await write(index, 'mine', 'm2', now + 1);
      await fileNow(index);
      const id = count(index, 'SELECT id FROM object_versions');
      // Entries as a hand edit or a bug could leave them: the version under another key, due long ago, in another bucket.
      index.db.db.prepare(`INSERT INTO version_keys (tenant, type, key, id) VALUES (?, 'data', CAST('theirs' AS BLOB), ?)`).run(TENANT, id);
      index.db.db.prepare('INSERT INTO version_purges (purge_after, id) VALUES (1, ?)').run(id);
      assert.equal(
        await index.buckets.create({ name: 'other-bucket', owner: TENANT, createdAt: now, quotaBytes: null, settings: '{}', grantees: [] }),
        true,
      );
      index.db.db
        .prepare(`INSERT INTO version_keys (tenant, type, key, id) VALUES (?, 'other-bucket', CAST('x' AS BLOB), ?)`)
        .run(TENANT, id);
      assert.deepEqual(await history(index, now + 2), ['mine m2', 'mine m1']);
      assert.equal(await index.purgeVersions({ now: now + 2, limit: 10, collectAfter: now }), 0);
      assert.equal(await index.buckets.remove({ name: 'other-bucket', owner: TENANT, now, collectAfter: now }), 'deleted');
      assert.equal(count(index, 'SELECT COUNT(*) FROM object_versions'), 1, 'the version stays');
    }));

  test('fsck finds the orders apart from the versions, and --repair files them again', async () => {
    const dataDir = path.join(dir, 'fsck');
    await mkdir(dataDir);
    const now = Date.now();
    const index = await openAt(path.join(dataDir, 'index.sqlite'));
    for (let i = 0; i < 4; i++) await write(index, i % 2 ? 'odd' : 'even', `v${i}`, now + i);
    assert.equal((await history(index, now + 5)).length, 4, 'two versions and two current rows');
    await fileNow(index);
    assert.deepEqual((await fsck({ dataDir })).findings, []);
    index.db.db.exec(`DELETE FROM version_keys WHERE key = CAST('odd' AS BLOB);
      INSERT INTO version_purges (purge_after, id) VALUES (1, 999)`);
    await index.close();
    const found = (await fsck({ dataDir })).findings;
    assert.deepEqual(
      found.map((finding) => [finding.kind, finding.message]),
      [['version-order-drift', '1 filed versions are missing from the key order; 1 entries of the purge order name no version']],
    );
    const repaired = await fsck({ dataDir, repair: true });
    assert.equal(repaired.findings[0]?.repaired, 'both orders filed again from the versions');
    assert.deepEqual((await fsck({ dataDir })).findings, []);
    const reopened = await openAt(path.join(dataDir, 'index.sqlite'));
    try {
      assert.deepEqual(await history(reopened, now + 6), ['even v2', 'even v0', 'odd v3', 'odd v1']);
      assertExact(reopened);
    } finally {
      await reopened.close();
    }
  });
});
