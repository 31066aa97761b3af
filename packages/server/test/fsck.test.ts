// Guards `stowage fsck`: on a data directory written by a real server and then damaged the ways
// disks and crashes damage it (a blob deleted, one truncated, one with a flipped byte, an inline
// value changed, an orphan blob, a temp file, part files without a session or shorter than their
// offset, a completed upload's part left behind, an upload session past its expiry), each problem
// is reported where it is; --repair fixes the leftovers and never drops an object unless told to;
// afterwards fsck is clean and the server serves every healthy object and resumes the uploads.
// Beside a live server it counts no write in flight and refuses to repair.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, unlink, writeFile } from 'node:fs/promises';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import Sqlite from 'better-sqlite3';
import { type FsckReport, fsck } from '../src/admin.js';
import { DataDirInUseError } from '../src/backends/fs/data-dir-lock.js';
import { embeddedOnly } from './helpers/deployment.js';
import { pythonLikeClient, rawRequest } from './helpers/raw-http.js';
import { runCli } from './helpers/server-process.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const bytes = (size: number, seed: number) => Buffer.from(Array.from({ length: size }, (_, i) => (i * seed + (i >> 9)) % 251));
const CHUNK = 256 * 1024;
const DAY = 86_400_000;

/** Upload-URL requests against one server origin. */
function uploadClient(origin: () => string) {
  const put = (url: URL, body: Buffer | string, headers: http.OutgoingHttpHeaders = {}) =>
    rawRequest(origin(), 'PUT', url.pathname + url.search, { headers, body });
  return {
    chunk: (url: URL, data: Buffer, start: number, total: number | '*') =>
      put(url, data, { 'content-range': `bytes ${start}-${start + data.length - 1}/${total}` }),
    status: (url: URL, total: number | '*' = '*') => put(url, '', { 'content-range': `bytes */${total}` }),
  };
}

const VALUES = {
  healthyBlob: bytes(100_000, 3),
  healthyInline: Buffer.from('small and healthy'),
  deleted: bytes(100_000, 5),
  truncated: bytes(100_000, 7),
  flipped: bytes(100_000, 11),
  inlineChanged: Buffer.from('inline value that a bad sector changes'),
  upload: bytes(3 * CHUNK, 13),
};

/** What the damage was done to, for the assertions. */
interface DamagedDir {
  dataDir: string;
  blobOf: Record<'deleted' | 'truncated' | 'flipped', string>;
  urls: Record<'short' | 'lostPart' | 'done' | 'expired', URL>;
  orphan: string;
  temp: string;
  sessionlessPart: string;
}

const uploadIdOf = (url: URL) => url.searchParams.get('upload_id') ?? '';

/** Writes objects and uploads through a real server, stops it, then damages the directory. */
async function buildDamagedDataDir(): Promise<DamagedDir> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'stowage-fsck-'));
  const ts = await startTestServer({}, { dataDir });
  const py = pythonLikeClient(ts.origin, await ts.token('alice'));
  const uploads = uploadClient(() => ts.origin);
  const put = async (key: string, value: Buffer) => assert.equal((await py.put(`/data/set/${key}`, value)).status, 200);
  await put('healthy-blob', VALUES.healthyBlob);
  await put('healthy-inline', VALUES.healthyInline);
  await put('deleted', VALUES.deleted);
  await put('truncated', VALUES.truncated);
  await put('flipped', VALUES.flipped);
  await put('inline-changed', VALUES.inlineChanged);
  const newUrl = async (key: string) => new URL((await py.get(`/data/new_resumable_url/${key}`)).text);
  const urls = { short: await newUrl('short.bin'), lostPart: await newUrl('lost-part.bin'), done: await newUrl('done.bin') };
  const data = VALUES.upload;
  assert.equal((await uploads.chunk(urls.short, data.subarray(0, 2 * CHUNK), 0, data.length)).status, 308);
  assert.equal((await uploads.chunk(urls.lostPart, data.subarray(0, CHUNK), 0, data.length)).status, 308);
  assert.equal((await uploads.chunk(urls.done, data, 0, data.length)).status, 200);
  // A session made eight days ago with the default seven-day URL: the server was down when it expired.
  ts.clock.nowMs = Date.now() - 8 * DAY;
  const oldPy = pythonLikeClient(ts.origin, await ts.token('alice'));
  const expired = new URL((await oldPy.get('/data/new_resumable_url/expired.bin')).text);
  assert.equal((await uploads.chunk(expired, data.subarray(0, CHUNK), 0, '*')).status, 308);
  ts.clock.nowMs = Date.now();
  await ts.close();

  const db = new Sqlite(path.join(dataDir, 'index.sqlite'));
  const blobId = (key: string) => db.prepare('SELECT blob_id FROM objects WHERE key = ?').pluck().get(Buffer.from(key)) as string;
  const blobOf = { deleted: blobId('deleted'), truncated: blobId('truncated'), flipped: blobId('flipped') };
  const changed = Buffer.from(VALUES.inlineChanged);
  changed[3] = (changed[3] ?? 0) ^ 0x20;
  db.prepare('UPDATE objects SET inline_data = ? WHERE key = ?').run(changed, Buffer.from('inline-changed'));
  db.close();

  const blobFile = (id: string) => path.join(dataDir, 'blobs', id.slice(0, 2), id);
  await unlink(blobFile(blobOf.deleted));
  await truncate(blobFile(blobOf.truncated), 60_000);
  const flipped = await readFile(blobFile(blobOf.flipped));
  flipped[50_000] = (flipped[50_000] ?? 0) ^ 0xff;
  await writeFile(blobFile(blobOf.flipped), flipped);
  const orphanId = randomBytes(16).toString('hex');
  const orphan = path.join('blobs', orphanId.slice(0, 2), orphanId);
  await mkdir(path.join(dataDir, path.dirname(orphan)), { recursive: true });
  await writeFile(path.join(dataDir, orphan), 'bytes of a write that never committed');
  const temp = path.join('tmp', randomBytes(16).toString('hex'));
  await writeFile(path.join(dataDir, temp), 'half a write');
  const sessionlessPart = path.join('uploads', randomBytes(16).toString('hex'));
  await writeFile(path.join(dataDir, sessionlessPart), 'part of a cancelled upload');
  // What a machine crash that lost unsynced bytes leaves: parts shorter than their offset.
  await truncate(path.join(dataDir, 'uploads', uploadIdOf(urls.short)), 100_000);
  await unlink(path.join(dataDir, 'uploads', uploadIdOf(urls.lostPart)));
  await writeFile(path.join(dataDir, 'uploads', uploadIdOf(urls.done)), data);
  return { dataDir, blobOf, urls: { ...urls, expired }, orphan, temp, sessionlessPart };
}

/** The finding of `kind` about `where` (a key, an upload id or a file), asserting there is exactly one. */
function findingOf(report: FsckReport, kind: string, where: string) {
  const matches = report.findings.filter(
    (finding) => finding.kind === kind && (finding.object?.key === where || finding.uploadId === where || finding.file === where),
  );
  assert.equal(matches.length, 1, `one ${kind} finding for ${where} in ${JSON.stringify(report.findings, null, 2)}`);
  return matches[0] as (typeof matches)[number];
}

async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((entry) => !entry.startsWith('index.sqlite') && !entry.startsWith('lock.')).sort();
}

describe('fsck on a damaged data directory', { skip: embeddedOnly }, () => {
  let damaged: DamagedDir;
  before(async () => {
    damaged = await buildDamagedDataDir();
  });
  after(() => rm(damaged.dataDir, { recursive: true, force: true }));

  test('reports every problem where it is, and changes nothing', async () => {
    const before = await listTree(damaged.dataDir);
    const report = await fsck({ dataDir: damaged.dataDir });
    const { blobOf, urls } = damaged;
    const blobPath = (id: string) => path.join('blobs', id.slice(0, 2), id);
    assert.equal(findingOf(report, 'missing-blob', 'deleted').file, blobPath(blobOf.deleted));
    assert.match(findingOf(report, 'size-mismatch', 'truncated').message, /holds 60000 bytes, the index says 100000/);
    assert.match(findingOf(report, 'sha256-mismatch', 'flipped').message, new RegExp(`the index says ${sha256(VALUES.flipped)}`));
    assert.match(findingOf(report, 'sha256-mismatch', 'inline-changed').message, /inline value/);
    findingOf(report, 'orphan-blob', damaged.orphan);
    findingOf(report, 'temp-file', damaged.temp);
    findingOf(report, 'stale-part', damaged.sessionlessPart);
    assert.match(findingOf(report, 'stale-part', uploadIdOf(urls.done)).message, /completed/);
    assert.match(findingOf(report, 'short-part', uploadIdOf(urls.short)).message, /holds 100000 bytes, the session reports 524288/);
    assert.match(findingOf(report, 'short-part', uploadIdOf(urls.lostPart)).message, /missing/);
    findingOf(report, 'expired-session', uploadIdOf(urls.expired));
    assert.equal(report.findings.length, 11, 'nothing healthy is reported');
    assert.deepEqual(report.summary, { damage: 4, leftovers: 7, repaired: 0, unresolved: 11 });
    assert.equal(report.exitCode, 3);
    assert.equal(report.serverRunning, false);
    assert.deepEqual(await listTree(damaged.dataDir), before, 'a check alone changes no file');
  });

  test('--quick checks sizes but not hashes', async () => {
    const report = await fsck({ dataDir: damaged.dataDir, quick: true });
    assert.equal(report.checked.bytesHashed, 0);
    findingOf(report, 'size-mismatch', 'truncated');
    assert.equal(report.findings.filter((finding) => finding.kind === 'sha256-mismatch').length, 0, 'a flipped byte needs the full check');
  });

  test('--repair fixes the leftovers and keeps every damaged object row', async () => {
    const report = await fsck({ dataDir: damaged.dataDir, repair: true });
    for (const finding of report.findings) {
      if (finding.severity === 'leftover') assert.ok(finding.repaired, `${finding.kind} ${finding.file ?? finding.uploadId} repaired`);
      else assert.equal(finding.repaired, undefined, `${finding.kind} ${finding.object?.key} left as it is`);
    }
    assert.equal(report.exitCode, 3, 'the damage remains');
    for (const file of [damaged.orphan, damaged.temp, damaged.sessionlessPart, path.join('uploads', uploadIdOf(damaged.urls.done))]) {
      await assert.rejects(stat(path.join(damaged.dataDir, file)), { code: 'ENOENT' }, `${file} removed`);
    }
    const db = new Sqlite(path.join(damaged.dataDir, 'index.sqlite'), { readonly: true });
    const received = (url: URL) => db.prepare('SELECT received FROM uploads WHERE upload_id = ?').pluck().get(uploadIdOf(url));
    assert.equal(received(damaged.urls.short), 100_000, 'the offset is what the part file holds');
    assert.equal(received(damaged.urls.lostPart), 0);
    assert.equal(received(damaged.urls.expired), undefined, 'the expired session is gone');
    assert.equal(db.prepare('SELECT count(*) FROM objects').pluck().get(), 7, 'no object row was dropped');
    db.close();

    const again = await fsck({ dataDir: damaged.dataDir });
    assert.deepEqual(
      again.findings.map((finding) => finding.kind).sort(),
      ['missing-blob', 'sha256-mismatch', 'sha256-mismatch', 'size-mismatch'],
      'only the damage is left',
    );
  });

  test('--drop-missing and --drop-damaged drop those rows, keeping damaged bytes in lost+found', async () => {
    const report = await fsck({ dataDir: damaged.dataDir, repair: true, dropMissing: true, dropDamaged: true });
    assert.equal(report.exitCode, 0);
    assert.match(findingOf(report, 'missing-blob', 'deleted').repaired ?? '', /dropped the index row/);
    const truncated = findingOf(report, 'size-mismatch', 'truncated');
    assert.match(truncated.repaired ?? '', /lost\+found/);
    const kept = await readFile(path.join(damaged.dataDir, 'lost+found', damaged.blobOf.truncated));
    assert.deepEqual(kept, VALUES.truncated.subarray(0, 60_000), 'the damaged bytes are kept');
    const description = JSON.parse(await readFile(path.join(damaged.dataDir, 'lost+found', `${damaged.blobOf.truncated}.json`), 'utf8'));
    assert.deepEqual([description.tenant, description.type, description.key], ['alice', 'data', 'truncated']);
    const clean = await fsck({ dataDir: damaged.dataDir });
    assert.deepEqual(clean.findings, []);
    assert.equal(clean.exitCode, 0);
  });

  test('after repair the server serves the healthy objects, 404s the dropped ones and resumes the uploads', async () => {
    const ts = await startTestServer({}, { dataDir: damaged.dataDir });
    try {
      const py = pythonLikeClient(ts.origin, await ts.token('alice'));
      assert.deepEqual((await py.get('/data/get/healthy-blob')).body, VALUES.healthyBlob);
      assert.deepEqual((await py.get('/data/get/healthy-inline')).body, VALUES.healthyInline);
      assert.equal(sha256((await py.get('/data/get/done.bin')).body), sha256(VALUES.upload));
      for (const key of ['deleted', 'truncated', 'flipped', 'inline-changed']) {
        assert.equal((await py.get(`/data/get/${key}`)).status, 404, `${key} answers 404`);
      }
      const uploads = uploadClient(() => ts.origin);
      const data = VALUES.upload;
      const { short, lostPart } = damaged.urls;
      assert.equal((await uploads.status(short)).headers.range, 'bytes=0-99999');
      assert.equal((await uploads.chunk(short, data.subarray(100_000), 100_000, data.length)).status, 200);
      const fresh = await uploads.status(lostPart);
      assert.equal(fresh.status, 308);
      assert.equal(fresh.headers.range, undefined, 'the session starts over');
      assert.equal((await uploads.chunk(lostPart, data, 0, data.length)).status, 200);
      assert.equal(sha256((await py.get('/data/get/short.bin')).body), sha256(data));
      assert.equal(sha256((await py.get('/data/get/lost-part.bin')).body), sha256(data));
    } finally {
      await ts.close();
    }
  });
});

describe('fsck beside a live server', { skip: embeddedOnly }, () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(() => ts.close());

  test('a write in flight is not a finding, and --repair is refused', async () => {
    const token = await ts.token('alice');
    const body = new PassThrough();
    const value = bytes(200_000, 17);
    const response = rawRequest(ts.origin, 'PUT', '/storage/v1/data/set/in-flight', {
      headers: { authorization: `Bearer ${token}`, 'content-length': String(value.length) },
      body,
    });
    body.write(value.subarray(0, 100_000));
    const tmpDir = path.join(ts.dataDir, 'tmp');
    while ((await readdir(tmpDir)).length === 0) await new Promise((resolve) => setTimeout(resolve, 10));

    const report = await fsck({ dataDir: ts.dataDir });
    assert.equal(report.serverRunning, true);
    assert.equal(report.checked.tempFiles, 1, 'the temp file of the write was seen');
    assert.deepEqual(report.findings, [], 'and not counted');
    assert.equal(report.exitCode, 0);
    await assert.rejects(fsck({ dataDir: ts.dataDir, repair: true }), DataDirInUseError);

    body.end(value.subarray(100_000));
    assert.equal((await response).status, 200, 'the write completes undisturbed');
  });
});

describe('stowage fsck (CLI)', { skip: embeddedOnly }, () => {
  let damaged: DamagedDir;
  before(async () => {
    damaged = await buildDamagedDataDir();
  });
  after(() => rm(damaged.dataDir, { recursive: true, force: true }));

  test('exit codes: 3 for damage, 1 for leftovers only, 0 when clean; one line per finding, --json parses', async () => {
    const text = await runCli(['fsck', '--data-dir', damaged.dataDir]);
    assert.equal(text.code, 3, text.stderr);
    assert.match(text.stdout, /^missing-blob alice\/data\/"deleted" \(blobs\/.+\): the blob file does not exist$/m);
    assert.match(text.stdout, /^temp-file tmp\/[0-9a-f]{32}: a temp file of a write that never completed$/m);
    assert.match(text.stdout, /4 damaged, 7 leftovers; 0 repaired, 11 left/);

    const dropped = await runCli(['fsck', '--repair', '--drop-missing', '--drop-damaged', '--json', '--data-dir', damaged.dataDir]);
    assert.equal(dropped.code, 0, dropped.stderr);
    const report = JSON.parse(dropped.stdout) as FsckReport;
    assert.equal(report.findings.length, 11);
    assert.ok(report.findings.every((finding) => finding.repaired));
    assert.equal(report.exitCode, 0);

    await writeFile(path.join(damaged.dataDir, 'tmp', 'left-behind'), 'x');
    assert.equal((await runCli(['fsck', '--data-dir', damaged.dataDir])).code, 1, 'a temp file alone is a leftover');
    const clean = await runCli(['fsck', '--repair', '--data-dir', damaged.dataDir]);
    assert.equal(clean.code, 0);
    const final = await runCli(['fsck', '--data-dir', damaged.dataDir]);
    assert.equal(final.code, 0);
    assert.match(final.stdout, /^clean$/m);
  });

  test('exit code 2 for --drop-missing without --repair, 4 when there is no data directory', async () => {
    const usage = await runCli(['fsck', '--drop-missing', '--data-dir', damaged.dataDir]);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /need --repair/);
    const missing = await runCli(['fsck', '--data-dir', path.join(damaged.dataDir, 'nowhere')]);
    assert.equal(missing.code, 4);
    assert.match(missing.stderr, /not a Stowage data directory/);
  });
});

describe('fsck on a corrupt index', { skip: embeddedOnly }, () => {
  let dataDir: string;
  before(async () => {
    const ts = await startTestServer({}, { dataDir: await mkdtemp(path.join(tmpdir(), 'stowage-fsck-corrupt-')) });
    dataDir = ts.dataDir;
    const py = pythonLikeClient(ts.origin, await ts.token('alice'));
    for (const key of ['a', 'b', 'c']) assert.equal((await py.put(`/data/set/${key}`, bytes(20_000, 3))).status, 200);
    await ts.close();
    const db = new Sqlite(path.join(dataDir, 'index.sqlite'));
    db.pragma('wal_checkpoint(TRUNCATE)');
    const root = db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'objects'").pluck().get() as number;
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    db.close();
    // A bad sector in the objects table's root page.
    const index = await readFile(path.join(dataDir, 'index.sqlite'));
    index.fill(7, (root - 1) * pageSize + 8, (root - 1) * pageSize + 208);
    await writeFile(path.join(dataDir, 'index.sqlite'), index);
    await writeFile(path.join(dataDir, 'tmp', 'left-behind'), 'x');
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  test('is reported as damage, and --repair then removes no file: the index cannot say what is data', async () => {
    const before = await listTree(dataDir);
    const report = await fsck({ dataDir, repair: true });
    assert.ok(report.findings.length > 0);
    assert.ok(report.findings.every((finding) => finding.kind === 'index-corrupt' && !finding.repaired));
    assert.match(report.notes.join('\n'), /the index is corrupt/);
    assert.equal(report.exitCode, 3);
    assert.deepEqual(await listTree(dataDir), before, 'no blob, temp or part file was touched');
  });
});

describe('leftovers are what start-up cleanup removes', { skip: embeddedOnly }, () => {
  let dataDir: string;
  after(() => rm(dataDir, { recursive: true, force: true }));

  test('after a server start and stop, fsck finds none of them (stray files and directories once kept the server from starting)', async () => {
    let ts = await startTestServer({}, { dataDir: await mkdtemp(path.join(tmpdir(), 'stowage-fsck-startup-')) });
    dataDir = ts.dataDir;
    let py = pythonLikeClient(ts.origin, await ts.token('alice'));
    assert.equal((await py.put('/data/set/kept', VALUES.healthyBlob)).status, 200);
    const url = new URL((await py.get('/data/new_resumable_url/done.bin')).text);
    assert.equal((await uploadClient(() => ts.origin).chunk(url, VALUES.upload, 0, VALUES.upload.length)).status, 200);
    await ts.close();

    const orphanId = randomBytes(16).toString('hex');
    await mkdir(path.join(dataDir, 'blobs', orphanId.slice(0, 2)), { recursive: true });
    await writeFile(path.join(dataDir, 'blobs', orphanId.slice(0, 2), orphanId), 'orphan');
    await writeFile(path.join(dataDir, 'blobs', 'stray.txt'), 'not a shard directory');
    await writeFile(path.join(dataDir, 'tmp', randomBytes(16).toString('hex')), 'temp');
    await writeFile(path.join(dataDir, 'uploads', randomBytes(16).toString('hex')), 'no session');
    await writeFile(path.join(dataDir, 'uploads', uploadIdOf(url)), VALUES.upload);
    await mkdir(path.join(dataDir, 'uploads', 'stray-directory'));
    await mkdir(path.join(dataDir, 'tmp', 'stray-directory'));
    const before = await fsck({ dataDir });
    assert.deepEqual(before.findings.map((finding) => finding.kind).sort(), [
      'orphan-blob',
      'orphan-blob',
      'stale-part',
      'stale-part',
      'stale-part',
      'temp-file',
      'temp-file',
    ]);
    assert.equal(before.exitCode, 1, 'leftovers only');

    ts = await startTestServer({}, { dataDir });
    try {
      py = pythonLikeClient(ts.origin, await ts.token('alice'));
      assert.deepEqual((await py.get('/data/get/kept')).body, VALUES.healthyBlob);
      assert.equal(sha256((await py.get('/data/get/done.bin')).body), sha256(VALUES.upload));
    } finally {
      await ts.close();
    }
    const afterRestart = await fsck({ dataDir });
    assert.deepEqual(afterRestart.findings, []);
    assert.equal(afterRestart.exitCode, 0);
  });
});

describe('fsck of copies that share a blob', { skip: embeddedOnly }, () => {
  test('a shared blob is hashed once; when damaged, every row naming it is reported and dropped', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'stowage-fsck-copies-'));
    try {
      const ts = await startTestServer({}, { dataDir });
      const token = await ts.token('alice');
      const value = bytes(100_000, 17);
      const copy = (key: string) =>
        rawRequest(ts.origin, 'POST', '/storage/v1/copy', {
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ source: { key: 'original' }, destination: { key } }),
        });
      assert.equal((await pythonLikeClient(ts.origin, token).put('/data/set/original', value)).status, 200);
      for (const key of ['copy-1', 'copy-2']) assert.equal((await copy(key)).status, 200);
      await ts.close();
      const healthy = await fsck({ dataDir });
      assert.deepEqual(healthy.findings, []);
      assert.equal(healthy.checked.bytesHashed, value.length, 'three rows, one blob hashed once');

      const [shard] = await readdir(path.join(dataDir, 'blobs'));
      const [blobId] = await readdir(path.join(dataDir, 'blobs', shard as string));
      await truncate(path.join(dataDir, 'blobs', shard as string, blobId as string), 1_000);
      const damaged = await fsck({ dataDir, repair: true, dropDamaged: true });
      assert.deepEqual(damaged.findings.map((finding) => [finding.kind, finding.object?.key]).sort(), [
        ['size-mismatch', 'copy-1'],
        ['size-mismatch', 'copy-2'],
        ['size-mismatch', 'original'],
      ]);
      assert.deepEqual((await fsck({ dataDir })).findings, []);
      assert.equal((await readFile(path.join(dataDir, 'lost+found', blobId as string))).length, 1_000);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
