// The embedded index's upkeep on a thread of its own (index-upkeep.ts): the WAL is checkpointed
// there, never in a commit of the main connection, and still starts over under writes that never
// pause; the commit queue waits a turn, without blocking, while the thread holds the write lock;
// a failure there is warned of and writes go on; closing stops the thread before the main
// connection, which then checkpoints the WAL away.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Sqlite from 'better-sqlite3';
import { CommitQueue } from '../src/backends/fs/commit-queue.js';
import { SqliteIndex } from '../src/backends/fs/sqlite-index.js';
import { FILING_BATCH } from '../src/backends/fs/sqlite-versions.js';

const DAY = 86_400_000;

describe('the embedded index upkeep thread', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'stowage-index-upkeep-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const open = (name: string, warnings: string[]) =>
    SqliteIndex.open({
      file: path.join(dir, `${name}.sqlite`),
      durability: 'full',
      defaultQuotaBytes: null,
      attributeLayout: { contentFields: [] },
      upkeepThread: { onWarning: (message, error) => warnings.push(`${message}: ${(error as Error).message}`) },
    });

  /** Writes a `size`-byte inline value at `key`; a replaced one is kept a day when `keep`. */
  const write = (index: SqliteIndex, key: string, size: number, keep = false) => {
    const value = Buffer.alloc(size, key);
    const now = Date.now();
    return index.put({
      ref: { tenant: 'upkeep', type: 'data', key },
      row: {
        size,
        sha256: createHash('sha256').update(value).digest('hex'),
        contentType: 'application/octet-stream',
        lastModified: now,
        expiresAt: null,
        blobId: null,
        inline: value,
        attributes: {},
      },
      condition: undefined,
      now,
      collectAfter: now,
      purgeAfter: keep ? now + DAY : undefined,
    });
  };

  test('the WAL is checkpointed on the thread and starts over under writes that never pause', async () => {
    const warnings: string[] = [];
    const index = await open('bounded', warnings);
    try {
      const db = index.db.db;
      assert.equal(db.pragma('wal_autocheckpoint', { simple: true }), 0, 'no checkpoint in a commit of the main connection');
      // 64 MiB of new rows, 64 writes at a time: four times the WAL's length at which the thread
      // makes it start over. A WAL that never started over would hold every page written (about
      // 1.6 times the bytes of the rows).
      const written = 64 * 1024 * 1024;
      const size = 3000;
      for (let i = 0; i < written / size; i += 64) await Promise.all(Array.from({ length: 64 }, (_, k) => write(index, `k${i + k}`, size)));
      const wal = statSync(`${index.db.db.name}-wal`).size;
      assert.ok(wal < written, `WAL of ${wal} bytes after ${written} bytes written`);
      // And what was copied out of it is in the database file itself.
      assert.ok(statSync(index.db.db.name).size > written / 2);
      assert.deepEqual(warnings, []);
    } finally {
      await index.close();
    }
  });

  test('closing stops the thread first: the main connection, the last one, checkpoints the WAL away', async () => {
    const warnings: string[] = [];
    const index = await open('close', warnings);
    const file = index.db.db.name;
    for (let i = 0; i < 200; i++) await write(index, `k${i}`, 1000);
    assert.ok(existsSync(`${file}-wal`));
    await index.close();
    assert.equal(existsSync(`${file}-wal`), false, 'another connection stayed open');
    const reopened = new Sqlite(file, { readonly: true });
    try {
      assert.equal(reopened.prepare('SELECT COUNT(*) FROM objects').pluck().get(), 200);
    } finally {
      reopened.close();
    }
    assert.deepEqual(warnings, []);
  });

  test('a filing that fails on the thread is warned of, and writes go on', async () => {
    const warnings: string[] = [];
    const index = await open('failing', warnings);
    try {
      // A trigger that refuses the filing's entries makes each filing fail, as a full disk would.
      index.db.db.exec("CREATE TRIGGER refuse BEFORE INSERT ON version_keys BEGIN SELECT RAISE(FAIL, 'refused'); END");
      for (let i = 0; i <= FILING_BATCH + 64; i += 64)
        await Promise.all(Array.from({ length: 64 }, (_, k) => write(index, `k${k}`, 100, true)));
      for (const deadline = Date.now() + 10_000; warnings.length === 0 && Date.now() < deadline; )
        await new Promise((resolve) => setTimeout(resolve, 10));
      assert.match(warnings[0] ?? '', /filing failed.*refused/);
      await write(index, 'after', 100);
      const filed = () => index.db.db.prepare('SELECT COUNT(*) FROM version_keys').pluck().get() as number;
      assert.equal(filed(), 0);
      assert.ok((await index.find({ ref: { tenant: 'upkeep', type: 'data', key: 'after' }, now: Date.now() })) !== undefined);
      // Once the cause is gone, the thread files them without waiting for another batch.
      index.db.db.exec('DROP TRIGGER refuse');
      for (const deadline = Date.now() + 10_000; filed() === 0 && Date.now() < deadline; )
        await new Promise((resolve) => setTimeout(resolve, 10));
      assert.ok(filed() >= FILING_BATCH, `${filed()} filed`);
    } finally {
      await index.close();
    }
  });

  test('a reader pinning the WAL holds back its start over, not the writes; once it leaves, the WAL starts over', async () => {
    const warnings: string[] = [];
    const index = await open('pinned', warnings);
    const reader = new Sqlite(index.db.db.name, { readonly: true });
    try {
      await write(index, 'first', 100);
      reader.exec('BEGIN');
      reader.prepare('SELECT COUNT(*) FROM objects').pluck().get();
      const size = 3000;
      const writeMiB = async (mib: number, from: number) => {
        for (let i = 0; i < (mib * 1024 * 1024) / size; i += 64)
          await Promise.all(Array.from({ length: 64 }, (_, k) => write(index, `k${from + i + k}`, size)));
      };
      await writeMiB(32, 0);
      const framesOf = () => (index.db.db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>)[0]?.log ?? 0;
      const pinned = framesOf();
      assert.ok(pinned > 8192, `${pinned} frames: the reader kept the WAL from starting over`);
      reader.exec('COMMIT');
      // 24 MiB more: a WAL that did not start over would hold them after the pinned ones.
      await writeMiB(24, 1_000_000);
      const after = framesOf();
      assert.ok(after < pinned, `${after} frames in the WAL after the reader left, ${pinned} while it was there`);
      assert.deepEqual(warnings, []);
    } finally {
      reader.close();
      await index.close();
    }
  });

  test('a thread that dies gives checkpoints and filings back to the commits, and no write waits for it', async () => {
    const warnings: string[] = [];
    const index = await open('dies', warnings);
    try {
      const upkeep = (index as unknown as { upkeep: { worker: { terminate(): Promise<number> } } }).upkeep;
      await upkeep.worker.terminate();
      for (const deadline = Date.now() + 5_000; warnings.length === 0 && Date.now() < deadline; )
        await new Promise((resolve) => setTimeout(resolve, 10));
      assert.match(warnings[0] ?? '', /upkeep thread exited/);
      assert.equal(index.db.db.pragma('wal_autocheckpoint', { simple: true }), 1000);
      for (let i = 0; i <= FILING_BATCH + 64; i += 64)
        await Promise.all(Array.from({ length: 64 }, (_, k) => write(index, `k${k}`, 100, true)));
      await write(index, 'last', 100);
      assert.ok((index.db.db.prepare('SELECT COUNT(*) FROM version_keys').pluck().get() as number) >= FILING_BATCH);
    } finally {
      await index.close();
    }
  });

  test('a commit waits its turn while a neighbour holds the write lock, without blocking the event loop', async () => {
    const db = new Sqlite(path.join(dir, 'queue.sqlite'));
    try {
      db.exec('CREATE TABLE t (n INTEGER)');
      const neighbour = { writing: true, commits: 0, committed: () => neighbour.commits++ };
      const queue = new CommitQueue(db, neighbour);
      let done = false;
      const first = queue
        .enqueue(() => db.prepare('INSERT INTO t VALUES (1)').run())
        .then(() => {
          done = true;
        });
      await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(done, false, 'committed while the neighbour held the lock');
      assert.equal(db.prepare('SELECT COUNT(*) FROM t').pluck().get(), 0);
      // Operations that come meanwhile join the same batch.
      const second = queue.enqueue(() => db.prepare('INSERT INTO t VALUES (2)').run());
      neighbour.writing = false;
      await Promise.all([first, second]);
      assert.equal(db.prepare('SELECT COUNT(*) FROM t').pluck().get(), 2);
      assert.equal(neighbour.commits, 1, 'one commit for both');
    } finally {
      db.close();
    }
  });
});
