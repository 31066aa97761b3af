// Guards online backups of the embedded deployment (`stowage backup`, `stowage restore-backup`):
// a backup taken while writes, overwrites, copies and deletes go on restores to a data directory
// that fsck finds clean and whose every object is a value that was written at its key; a second
// backup copies only the new blobs; a blob the snapshot names that the collector deletes before it
// is copied is held back by the backup's hold on the collector, or, without one, covered by a new
// snapshot; damage at the source is reported, not hidden; open uploads resume after a restore;
// a restore never goes over a data directory that is not empty. Also the S3 destination (with the
// test S3 store) and the PostgreSQL + S3 deployment (with the test services).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import Sqlite from 'better-sqlite3';
import pg from 'pg';
import { BackupError, type BackupReport, backup, fsck, restoreDataDir } from '../src/admin.js';
import { apiClient } from './helpers/api-client.js';
import { embeddedOnly, freshNamespace } from './helpers/deployment.js';
import { rawRequest } from './helpers/raw-http.js';
import { freshS3Prefix, s3Unavailable } from './helpers/s3.js';
import { runProcess } from './helpers/server-process.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const scratch: string[] = [];
const newDir = async (name: string) => {
  const dir = await mkdtemp(path.join(tmpdir(), `stowage-${name}-`));
  scratch.push(dir);
  return dir;
};
after(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

/** Backs up the server's data directory (or deployment) into `destination`. */
function backupOf(ts: TestServer, destination: string, extra: Partial<Parameters<typeof backup>[0]> = {}): Promise<BackupReport> {
  return backup({ config: ts.server.context.config, destination, env: process.env, ...extra });
}

/** The blob a key's row names in a data directory's index. */
function blobOf(dataDir: string, key: string): string {
  const db = new Sqlite(path.join(dataDir, 'index.sqlite'), { readonly: true });
  try {
    const id = db.prepare('SELECT blob_id FROM objects WHERE key = ?').pluck().get(Buffer.from(key)) as string | null;
    assert.ok(id, `${key} has a blob`);
    return id;
  } finally {
    db.close();
  }
}

const blobFile = (dataDir: string, id: string) => path.join(dataDir, 'blobs', id.slice(0, 2), id);

/** The blob files of a data directory, by id. */
async function blobIds(dataDir: string): Promise<string[]> {
  const entries = await readdir(path.join(dataDir, 'blobs'), { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((entry) => entry.isFile()).map((entry) => entry.name);
}

/** Every key and value a server holds for `tenant` in `data`, read through the API. */
async function contents(ts: TestServer, tenant: string): Promise<Map<string, Buffer>> {
  const api = apiClient(ts.origin, await ts.token(tenant));
  const values = new Map<string, Buffer>();
  for (const key of await api.keys('data', '')) {
    const got = await api.get('data', key);
    assert.equal(got.status, 200, `GET ${key}`);
    assert.equal(got.headers['x-stowage-sha256'], sha256(got.body), `${key}: the bytes are the ones the row describes`);
    values.set(key, got.body);
  }
  return values;
}

/** fsck of a restored data directory: clean, nothing found. */
async function assertClean(dataDir: string): Promise<void> {
  const report = await fsck({ dataDir });
  assert.deepEqual(report.findings, [], JSON.stringify(report.findings, null, 2));
  assert.equal(report.exitCode, 0);
}

describe('online backup of the embedded deployment', { skip: embeddedOnly }, () => {
  test('a backup taken under writes, overwrites, copies and deletes restores to values that were written', async () => {
    const ts = await startTestServer();
    const api = apiClient(ts.origin, await ts.token('alice'));
    const keys = Array.from({ length: 16 }, (_, i) => `churn/k${i}`);
    /** Every value ever sent for a key (recorded before it is sent), by sha256. */
    const written = new Map<string, Set<string>>(keys.map((key) => [key, new Set()]));
    const record = (key: string, hash: string) => written.get(key)?.add(hash);
    let stop = false;
    let operations = 0;
    const pick = () => keys[Math.floor(Math.random() * keys.length)] as string;
    const client = async () => {
      while (!stop) {
        const key = pick();
        const roll = Math.random();
        if (roll < 0.6) {
          // Mostly blobs (over 16 KiB), some inline values.
          const value = randomBytes(Math.random() < 0.8 ? 20_000 + Math.floor(Math.random() * 150_000) : Math.floor(Math.random() * 1000));
          record(key, sha256(value));
          assert.equal((await api.put('data', key, value)).status, 200);
        } else if (roll < 0.8) {
          const status = (await api.call('DELETE', `/data/${encodeURIComponent(key)}`)).status;
          assert.ok(status === 204 || status === 404, `delete: ${status}`);
        } else {
          let source = pick();
          while (source === key) source = pick();
          const status = (await api.copy({ source: { type: 'data', key: source }, destination: { type: 'data', key }, overwrite: true }))
            .status;
          // Recorded once answered: whatever it copied was sent, and recorded, before.
          for (const hash of written.get(source) ?? []) record(key, hash);
          assert.ok(status === 200 || status === 404, `copy: ${status}`);
        }
        operations++;
      }
    };
    const destination = await newDir('backup-churn');
    const restored = path.join(await newDir('restored-churn'), 'data');
    let restoredServer: TestServer | undefined;
    try {
      const clients = [client(), client(), client()];
      while (operations < 150) await new Promise((resolve) => setTimeout(resolve, 20));
      const first = await backupOf(ts, destination);
      const during = operations;
      // A second one, still under load: it copies what the first had not.
      const second = await backupOf(ts, destination);
      assert.ok(operations > during, 'the workload went on during the backups');
      stop = true;
      await Promise.all(clients);
      assert.equal(first.exitCode, 0);
      assert.equal(second.exitCode, 0);
      assert.equal(second.manifest.passes, 1, 'the hold kept every blob the snapshot named');

      const restore = await restoreDataDir({ source: destination, dataDir: restored, env: process.env });
      assert.equal(restore.exitCode, 0, JSON.stringify(restore.problems));
      assert.equal(restore.objects, second.manifest.objects);
      assert.equal(restore.blobs.count, second.manifest.blobs.count);
      await assertClean(restored);
      // No blob file but those the restored index names.
      assert.equal((await blobIds(restored)).length, second.manifest.blobs.count);

      restoredServer = await startTestServer({}, { dataDir: restored });
      const values = await contents(restoredServer, 'alice');
      assert.equal(values.size, second.manifest.objects, 'every object row serves');
      for (const [key, value] of values) assert.ok(written.get(key)?.has(sha256(value)), `${key} holds a value that was written there`);
    } finally {
      stop = true;
      await restoredServer?.close();
      await ts.close();
    }
  });

  test('a second backup copies only the blobs written since; inline values travel in the index', async () => {
    const ts = await startTestServer();
    const api = apiClient(ts.origin, await ts.token('alice'));
    try {
      for (let i = 0; i < 10; i++) assert.equal((await api.put('data', `first/${i}`, randomBytes(40_000))).status, 200);
      assert.equal((await api.put('data', 'small', 'inline')).status, 200);
      const destination = await newDir('backup-incremental');
      const first = await backupOf(ts, destination);
      assert.equal(first.manifest.blobs.count, 10);
      assert.equal(first.manifest.blobs.copied, 10);
      assert.equal(first.manifest.objects, 11);

      for (let i = 0; i < 3; i++) assert.equal((await api.put('data', `second/${i}`, randomBytes(30_000))).status, 200);
      assert.equal((await api.put('data', 'first/0', randomBytes(50_000))).status, 200, 'an overwrite: a new blob');
      assert.equal((await api.copy({ source: { type: 'data', key: 'first/1' }, destination: { type: 'data', key: 'copy' } })).status, 200);
      assert.equal((await api.put('data', 'small2', 'inline too')).status, 200);
      const second = await backupOf(ts, destination);
      assert.equal(second.manifest.blobs.count, 13, 'the copy shares its source blob');
      assert.equal(second.manifest.blobs.copied, 4, 'three new keys and one overwrite');
      assert.equal(second.manifest.blobs.copiedBytes, 3 * 30_000 + 50_000);

      const third = await backupOf(ts, destination);
      assert.equal(third.manifest.blobs.copied, 0, 'nothing new: nothing copied');

      const restored = path.join(await newDir('restored-incremental'), 'data');
      assert.equal((await restoreDataDir({ source: destination, dataDir: restored, env: process.env })).exitCode, 0);
      await assertClean(restored);
      const copy = await startTestServer({}, { dataDir: restored });
      try {
        const before = await contents(ts, 'alice');
        assert.deepEqual(await contents(copy, 'alice'), before);
      } finally {
        await copy.close();
      }
    } finally {
      await ts.close();
    }
  });

  test('a blob deleted by the collector after the snapshot: held back, or else covered by a new snapshot', async () => {
    const ts = await startTestServer();
    const api = apiClient(ts.origin, await ts.token('alice'));
    const older = randomBytes(60_000);
    const newer = randomBytes(70_000);
    try {
      assert.equal((await api.put('data', 'k', older)).status, 200);
      const olderFile = blobFile(ts.dataDir, blobOf(ts.dataDir, 'k'));
      /** Overwrites k once the first snapshot is taken, then waits as long as the collector needs. */
      const overwriteAfterFirst = async (pass: number) => {
        if (pass !== 1) return;
        assert.equal((await api.put('data', 'k', newer)).status, 200);
        for (let i = 0; i < 50 && existsSync(olderFile); i++) await new Promise((resolve) => setTimeout(resolve, 20));
      };

      // Without a hold, the collector deletes the replaced blob at once (the file store's grace is
      // 0): the first snapshot's blob is gone, and a second snapshot names the new one.
      const unheld = await newDir('backup-unheld');
      const retried = await backupOf(ts, unheld, { holdCollector: false, afterSnapshot: overwriteAfterFirst });
      assert.equal(existsSync(olderFile), false, 'the collector deleted the replaced blob');
      assert.equal(retried.exitCode, 0);
      assert.equal(retried.manifest.passes, 2);
      const restoredUnheld = path.join(await newDir('restored-unheld'), 'data');
      assert.equal((await restoreDataDir({ source: unheld, dataDir: restoredUnheld, env: process.env })).exitCode, 0);
      await assertClean(restoredUnheld);
      const first = await startTestServer({}, { dataDir: restoredUnheld });
      try {
        assert.deepEqual((await apiClient(first.origin, await first.token('alice')).get('data', 'k')).body, newer);
      } finally {
        await first.close();
      }

      // With the hold (the default), the collector leaves the replaced blob until the backup is
      // done: the first snapshot is the backup, with the value k had then.
      assert.equal((await api.put('data', 'k', older)).status, 200);
      const heldFile = blobFile(ts.dataDir, blobOf(ts.dataDir, 'k'));
      const held = await newDir('backup-held');
      const once = await backupOf(ts, held, {
        afterSnapshot: async (pass) => {
          assert.equal(pass, 1);
          assert.equal((await api.put('data', 'k', newer)).status, 200);
          await new Promise((resolve) => setTimeout(resolve, 200));
          assert.equal(existsSync(heldFile), true, 'held: the replaced blob stays while the backup runs');
        },
      });
      assert.equal(once.manifest.passes, 1);
      const restoredHeld = path.join(await newDir('restored-held'), 'data');
      assert.equal((await restoreDataDir({ source: held, dataDir: restoredHeld, env: process.env })).exitCode, 0);
      await assertClean(restoredHeld);
      const second = await startTestServer({}, { dataDir: restoredHeld });
      try {
        assert.deepEqual((await apiClient(second.origin, await second.token('alice')).get('data', 'k')).body, older);
      } finally {
        await second.close();
      }
      // The hold is gone with the backup: the next collection deletes the blob it kept.
      assert.equal((await api.put('data', 'other', randomBytes(20_000))).status, 200);
      for (let i = 0; i < 50 && existsSync(heldFile); i++) await new Promise((resolve) => setTimeout(resolve, 20));
      assert.equal(existsSync(heldFile), false, 'collected once the backup released its hold');
      const live = new Sqlite(path.join(ts.dataDir, 'index.sqlite'), { readonly: true });
      try {
        assert.equal(live.prepare('SELECT count(*) FROM gc_holds').pluck().get(), 0);
      } finally {
        live.close();
      }
    } finally {
      await ts.close();
    }
  });

  test('damage at the source is reported and kept as it is; the restore reports it too', async () => {
    const ts = await startTestServer();
    const api = apiClient(ts.origin, await ts.token('alice'));
    try {
      assert.equal((await api.put('data', 'lost', randomBytes(30_000))).status, 200);
      assert.equal((await api.put('data', 'kept', randomBytes(30_000))).status, 200);
      const lostBlob = blobOf(ts.dataDir, 'lost');
      await unlink(blobFile(ts.dataDir, lostBlob));
      const destination = await newDir('backup-damaged');
      const report = await backupOf(ts, destination);
      assert.equal(report.exitCode, 3);
      assert.deepEqual(report.missing, [lostBlob]);
      assert.deepEqual(report.manifest.damage?.missing, [lostBlob]);
      assert.equal(report.manifest.blobs.copied, 1);
      const restored = path.join(await newDir('restored-damaged'), 'data');
      const restore = await restoreDataDir({ source: destination, dataDir: restored, env: process.env });
      assert.equal(restore.exitCode, 3);
      assert.deepEqual(
        restore.problems.map((problem) => problem.blobId),
        [lostBlob],
      );
      const checked = await fsck({ dataDir: restored });
      assert.deepEqual(
        checked.findings.map((finding) => [finding.kind, finding.object?.key]),
        [['missing-blob', 'lost']],
        'as at the source',
      );
    } finally {
      await ts.close();
    }
  });

  test('an open resumable upload resumes on the restored data directory', async () => {
    const ts = await startTestServer();
    const value = randomBytes(3 * 256 * 1024);
    let restoredServer: TestServer | undefined;
    try {
      const api = apiClient(ts.origin, await ts.token('alice'));
      const url = new URL((await api.call('GET', '/data/new_resumable_url/big.bin')).text);
      const chunk = (origin: string, start: number, end: number) =>
        rawRequest(origin, 'PUT', url.pathname + url.search, {
          headers: { 'content-range': `bytes ${start}-${end - 1}/${value.length}` },
          body: value.subarray(start, end),
        });
      assert.equal((await chunk(ts.origin, 0, 256 * 1024)).status, 308);
      const destination = await newDir('backup-upload');
      const report = await backupOf(ts, destination);
      assert.deepEqual(report.manifest.uploads, { count: 1, bytes: 256 * 1024 });
      const restored = path.join(await newDir('restored-upload'), 'data');
      assert.equal((await restoreDataDir({ source: destination, dataDir: restored, env: process.env })).exitCode, 0);
      await assertClean(restored);
      restoredServer = await startTestServer({}, { dataDir: restored });
      // The upload URL is signed with the server secret, which the backup kept.
      const status = await rawRequest(restoredServer.origin, 'PUT', url.pathname + url.search, {
        headers: { 'content-range': `bytes */${value.length}` },
      });
      assert.equal(status.status, 308);
      assert.equal(status.headers.range, `bytes=0-${256 * 1024 - 1}`);
      assert.equal((await chunk(restoredServer.origin, 256 * 1024, value.length)).status, 200);
      const got = await apiClient(restoredServer.origin, await restoredServer.token('alice')).get('data', 'big.bin');
      assert.deepEqual(got.body, value);
    } finally {
      await restoredServer?.close();
      await ts.close();
    }
  });

  test('refusals: a restore over a non-empty directory, a backup without its manifest, a destination in the data directory', async () => {
    const ts = await startTestServer();
    try {
      assert.equal((await apiClient(ts.origin, await ts.token('alice')).put('data', 'x', randomBytes(20_000))).status, 200);
      const destination = await newDir('backup-refusals');
      await backupOf(ts, destination);

      const occupied = await newDir('restored-occupied');
      await writeFile(path.join(occupied, 'notes.txt'), 'something of someone');
      await assert.rejects(restoreDataDir({ source: destination, dataDir: occupied, env: process.env }), (error: unknown) => {
        assert.ok(error instanceof BackupError);
        assert.equal(error.exitCode, 2);
        assert.match(error.message, /is not empty/);
        return true;
      });
      assert.deepEqual(await readdir(occupied), ['notes.txt'], 'left as it was');

      await unlink(path.join(destination, 'manifest.json'));
      const target = path.join(await newDir('restored-unfinished'), 'data');
      await assert.rejects(restoreDataDir({ source: destination, dataDir: target, env: process.env }), /holds no finished backup/);
      assert.equal(existsSync(target), false);

      await assert.rejects(backupOf(ts, path.join(ts.dataDir, 'backups')), /cannot go into the data directory/);
      await assert.rejects(backupOf(ts, ts.dataDir), /cannot go into the data directory/);
      const otherDataDir = await newDir('other-data-dir');
      await mkdir(otherDataDir, { recursive: true });
      await writeFile(path.join(otherDataDir, 'lock.sqlite'), '');
      await assert.rejects(backupOf(ts, otherDataDir), /is not a backup \(it holds lock\.sqlite\)/);
    } finally {
      await ts.close();
    }
  });

  test('to an S3 prefix, incrementally, and back', { skip: s3Unavailable }, async () => {
    const s3 = await freshS3Prefix();
    assert.ok(s3);
    const env = {
      ...process.env,
      STOWAGE_S3_ENDPOINT: s3.endpoint,
      STOWAGE_S3_REGION: s3.region,
      STOWAGE_S3_ACCESS_KEY_ID: s3.accessKeyId,
      STOWAGE_S3_SECRET_ACCESS_KEY: s3.secretAccessKey,
    };
    const ts = await startTestServer();
    const api = apiClient(ts.origin, await ts.token('alice'));
    try {
      for (let i = 0; i < 6; i++) assert.equal((await api.put('data', `s3/${i}`, randomBytes(25_000 + i))).status, 200);
      // Over the 16 MiB of one PutObject: sent in parts.
      assert.equal((await api.put('data', 'large', randomBytes(17 * 1024 * 1024))).status, 200);
      const destination = `s3://${s3.bucket}/${s3.prefix}/backup`;
      const first = await backup({ config: ts.server.context.config, destination, env });
      assert.equal(first.exitCode, 0);
      assert.equal(first.manifest.blobs.copied, 7);
      assert.equal((await api.put('data', 's3/new', randomBytes(30_000))).status, 200);
      const second = await backup({ config: ts.server.context.config, destination, env });
      assert.equal(second.manifest.blobs.copied, 1);
      const restored = path.join(await newDir('restored-s3'), 'data');
      assert.equal((await restoreDataDir({ source: destination, dataDir: restored, env })).exitCode, 0);
      await assertClean(restored);
      const copy = await startTestServer({}, { dataDir: restored });
      try {
        assert.deepEqual(await contents(copy, 'alice'), await contents(ts, 'alice'));
      } finally {
        await copy.close();
      }
    } finally {
      await ts.close();
      await s3.drop();
    }
  });
});

const scaleOutUnavailable: string | false =
  process.env.STOWAGE_TEST_PG_URL && !s3Unavailable
    ? false
    : 'needs STOWAGE_TEST_PG_URL and STOWAGE_TEST_S3_* (scripts/test.sh starts them)';

describe('backup of the PostgreSQL + S3 deployment', { skip: scaleOutUnavailable }, () => {
  test('pg_dump from an exported snapshot, then the blobs it names, incrementally', async () => {
    const namespace = await freshNamespace('postgres-s3');
    const ts = await startTestServer(namespace.fields);
    const api = apiClient(ts.origin, await ts.token('alice'));
    try {
      for (let i = 0; i < 5; i++) assert.equal((await api.put('data', `pg/${i}`, randomBytes(30_000))).status, 200);
      assert.equal((await api.put('data', 'inline', 'in the index')).status, 200);
      const destination = await newDir('backup-pg');
      const first = await backupOf(ts, destination);
      assert.equal(first.exitCode, 0);
      assert.equal(first.manifest.deployment, 'postgres');
      assert.equal(first.manifest.objects, 6);
      assert.deepEqual([first.manifest.blobs.count, first.manifest.blobs.copied], [5, 5]);
      assert.ok(existsSync(path.join(destination, 'index.pgdump')));
      assert.equal((await blobIds(destination)).length, 5);
      assert.equal((await api.put('data', 'pg/0', randomBytes(40_000))).status, 200);
      const second = await backupOf(ts, destination);
      assert.deepEqual([second.manifest.blobs.count, second.manifest.blobs.copied], [5, 1]);
      await assert.rejects(
        restoreDataDir({ source: destination, dataDir: path.join(await newDir('restored-pg'), 'data'), env: process.env }),
        /pg_restore/,
      );
      // The documented restore: pg_restore into an empty database finds the index as it was.
      const url = process.env.STOWAGE_TEST_PG_URL as string;
      const database = `t_restore_${randomBytes(6).toString('hex')}`;
      const admin = new pg.Client({ connectionString: url });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${database}`);
        const restoredUrl = new URL(url);
        restoredUrl.pathname = `/${database}`;
        const restore = await runProcess('pg_restore', [
          '--no-owner',
          `--dbname=${restoredUrl.href}`,
          path.join(destination, 'index.pgdump'),
        ]);
        assert.equal(restore.code, 0, restore.stderr);
        const restored = new pg.Client({ connectionString: restoredUrl.href });
        await restored.connect();
        try {
          const schema = (namespace.fields.index as { schema: string }).schema;
          const rows = await restored.query(`SELECT count(*)::int AS n, count(blob_id)::int AS blobs FROM "${schema}".objects`);
          assert.deepEqual(rows.rows[0], { n: 6, blobs: 5 });
        } finally {
          await restored.end();
        }
      } finally {
        await admin.query(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
        await admin.end();
      }
    } finally {
      await ts.close();
      await namespace.drop();
    }
  });
});
