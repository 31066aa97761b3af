// Retention and undo through storage API v1, on whichever deployment the suite runs: versions of
// one key restored (the newest earlier one, or one by id), the versions listing and its pages,
// who may list and restore, a bucket's own window, tmp expiry that keeps nothing, and fsck of a
// data directory whose versions name blobs.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Sqlite from 'better-sqlite3';
import type { BucketInfo, RestoreKeyResult, VersionEntry, VersionsPage } from 'stowage-client/protocol';
import { fsck } from '../src/backends/fs/fsck.js';
import { type ApiClient, apiClient } from './helpers/api-client.js';
import { embeddedOnly } from './helpers/deployment.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const DAY = 86_400_000;

async function versions(api: ApiClient, type: string, prefix: string): Promise<VersionEntry[]> {
  const res = await api.call('GET', `/${type}/versions?prefix=${encodeURIComponent(prefix)}`);
  assert.equal(res.status, 200, res.text);
  return res.json<VersionsPage>().versions;
}

describe('retention and undo (storage API v1)', () => {
  let ts: TestServer;
  let alice: ApiClient;
  before(async () => {
    ts = await startTestServer({ retentionMs: 7 * DAY });
    alice = apiClient(ts.origin, await ts.token('alice', 30 * DAY));
  });
  after(() => ts.close());

  test('restore of a key: the newest earlier version, or one by id; a delete marker is no version', async () => {
    await alice.put('data', 'k/one', 'v1');
    ts.clock.advance(10);
    await alice.put('data', 'k/one', 'v2');
    ts.clock.advance(10);
    assert.equal((await alice.call('DELETE', '/data/k/one')).status, 204);
    const listed = await versions(alice, 'data', 'k/one');
    assert.deepEqual(
      listed.map((v) => [v.current, v.isDeleteMarker, v.size]),
      [
        [false, true, 0],
        [false, false, 2],
        [false, false, 2],
      ],
    );
    assert.ok(listed.every((v) => v.purgeAfter !== null && v.deletedAt !== null));
    assert.equal((await alice.get('data', 'k/one')).status, 404, 'versions are invisible to reads');
    assert.deepEqual(await alice.keys('data', 'k/'), [], 'and to listings');

    const restored = await alice.call('POST', '/data/restore', { body: { key: 'k/one' } });
    assert.equal(restored.status, 200, restored.text);
    assert.equal((await alice.get('data', 'k/one')).text, 'v2');
    const v1 = listed[2] as VersionEntry;
    const byId = await alice.call('POST', '/data/restore', { body: { key: 'k/one', versionId: v1.versionId } });
    assert.equal(byId.status, 200, byId.text);
    assert.equal(byId.json<RestoreKeyResult>().sha256, v1.sha256);
    assert.equal((await alice.get('data', 'k/one')).text, 'v1');
    // Again with the same id: already current, nothing changes.
    const count = (await versions(alice, 'data', 'k/one')).length;
    await alice.call('POST', '/data/restore', { body: { key: 'k/one', versionId: v1.versionId } });
    assert.equal((await versions(alice, 'data', 'k/one')).length, count);

    const marker = listed[0] as VersionEntry;
    const refused = await alice.call('POST', '/data/restore', { body: { key: 'k/one', versionId: marker.versionId } });
    assert.equal(refused.status, 404);
    assert.equal(refused.json<{ code: string }>().code, 'NoSuchVersion');
    assert.equal((await alice.call('POST', '/data/restore', { body: { key: 'k/never' } })).json<{ code: string }>().code, 'NoSuchVersion');
    for (const body of [{}, { key: 'k/one', prefix: 'k/' }, { prefix: 'k/', at: 'yesterday' }, { key: 'k/one', versionId: 3 }])
      assert.equal((await alice.call('POST', '/data/restore', { body })).status, 400, JSON.stringify(body));
    const future = new Date(ts.clock.nowMs + DAY).toISOString();
    assert.equal((await alice.call('POST', '/data/restore', { body: { prefix: 'k/', at: future } })).status, 400);
  });

  test('the versions listing pages with X-NEXT, by key and newest first', async () => {
    for (const key of ['pg/a', 'pg/b']) for (const value of ['1', '22', '333']) await alice.put('data', key, value);
    const all = await versions(alice, 'data', 'pg/');
    assert.deepEqual(
      all.map((v) => [v.key, v.size, v.current]),
      [
        ['pg/a', 3, true],
        ['pg/a', 2, false],
        ['pg/a', 1, false],
        ['pg/b', 3, true],
        ['pg/b', 2, false],
        ['pg/b', 1, false],
      ],
    );
    const paged: VersionEntry[] = [];
    let next: string | undefined;
    do {
      const res = await alice.call('GET', '/data/versions?prefix=pg/&limit=4', { headers: next ? { 'x-next': next } : {} });
      assert.equal(res.status, 200, res.text);
      paged.push(...res.json<VersionsPage>().versions);
      next = res.headers['x-next'] as string | undefined;
    } while (next);
    assert.deepEqual(paged, all);
    assert.equal((await alice.call('GET', '/data/versions?prefix=pg/', { headers: { 'x-next': 'garbage' } })).status, 400);
  });

  test('who may list versions and restore: READ lists, only WRITE restores, others are refused', async () => {
    assert.equal((await alice.call('POST', '/buckets', { body: { name: 'team-undo' } })).status, 201);
    await alice.put('team-undo', 'doc', 'first');
    await alice.put('team-undo', 'doc', 'second');
    const bob = apiClient(ts.origin, await ts.token('bob', 30 * DAY));
    const carol = apiClient(ts.origin, await ts.token('carol', 30 * DAY));
    const share = await alice.call('POST', '/buckets/team-undo/share', { body: { grantee: { user: 'bob' }, permission: 'READ' } });
    assert.equal(share.status, 200, share.text);
    assert.equal((await versions(bob, 'team-undo', '')).length, 2);
    assert.equal((await bob.call('POST', '/team-undo/restore', { body: { key: 'doc' } })).status, 403);
    assert.equal((await bob.call('POST', '/team-undo/restore', { body: { prefix: '', at: new Date().toISOString() } })).status, 403);
    assert.equal((await carol.call('GET', '/team-undo/versions?prefix=')).status, 403);
    assert.equal((await carol.call('POST', '/team-undo/restore', { body: { key: 'doc' } })).status, 403);
    assert.equal((await alice.call('POST', '/team-undo/restore', { body: { key: 'doc' } })).status, 200);
    assert.equal((await alice.get('team-undo', 'doc')).text, 'first');
  });

  test("a bucket's retentionDays: its own window, 0 keeps nothing; retainedBytes in its info", async () => {
    const created = await alice.call('POST', '/buckets', { body: { name: 'no-undo', retentionDays: 0 } });
    assert.equal(created.status, 201, created.text);
    assert.equal(created.json<BucketInfo>().retentionDays, 0);
    await alice.put('no-undo', 'x', Buffer.alloc(100));
    await alice.put('no-undo', 'x', Buffer.alloc(50));
    assert.equal((await versions(alice, 'no-undo', '')).length, 1, 'nothing kept');
    const patched = await alice.call('PATCH', '/buckets/no-undo', { body: { retentionDays: 2 } });
    assert.equal(patched.json<BucketInfo>().retentionDays, 2);
    await alice.put('no-undo', 'x', Buffer.alloc(10));
    const kept = (await versions(alice, 'no-undo', '')).find((v) => !v.current) as VersionEntry;
    assert.equal(kept.size, 50);
    assert.equal(Date.parse(kept.purgeAfter as string) - Date.parse(kept.deletedAt as string), 2 * DAY);
    const info = (await alice.call('GET', '/buckets/no-undo')).json<BucketInfo>();
    assert.deepEqual([info.bytes, info.retainedBytes], [10, 50]);
    assert.equal((await alice.call('PATCH', '/buckets/no-undo', { body: { retentionDays: -1 } })).status, 400);
  });

  test('removing a bucket removes its versions: a bucket made again under the name has none', async () => {
    assert.equal((await alice.call('POST', '/buckets', { body: { name: 'short-lived' } })).status, 201);
    await alice.put('short-lived', 'x', Buffer.alloc(30_000, 5));
    assert.equal((await alice.call('DELETE', '/short-lived/x')).status, 204);
    assert.equal((await versions(alice, 'short-lived', '')).length, 2);
    assert.equal((await alice.call('DELETE', '/buckets/short-lived')).status, 204, 'versions do not keep a bucket from being removed');
    assert.equal((await alice.call('POST', '/buckets', { body: { name: 'short-lived' } })).status, 201);
    assert.deepEqual(await versions(alice, 'short-lived', ''), []);
    assert.equal((await alice.call('GET', '/buckets/short-lived')).json<BucketInfo>().retainedBytes, 0);
  });

  test('a deleted value reads the same as a version before and after the sweeper files it away', async () => {
    const usage = async () => (await alice.call('GET', '/usage')).json<{ bytes: number; objects: number; retainedBytes: number }>();
    const before = await usage();
    for (const key of ['del/a', 'del/b', 'del/c/d']) await alice.put('data', key, `${key} one`);
    ts.clock.advance(10);
    await alice.put('data', 'del/a', 'del/a two');
    await alice.put('data', 'del/big', Buffer.alloc(40_000, 7));
    ts.clock.advance(10);
    assert.equal((await alice.call('DELETE', '/data/del/b')).status, 204);
    assert.equal((await alice.deletePrefix('data', 'del/')).json<{ deleted: number }>().deleted, 3);
    ts.clock.advance(10);
    // Deleting again finds nothing: what the first delete kept are versions now, not objects.
    assert.equal((await alice.call('DELETE', '/data/del/a')).status, 404);
    assert.equal((await alice.deletePrefix('data', 'del/')).json<{ deleted: number }>().deleted, 0);
    const kept = await versions(alice, 'data', 'del/');
    assert.deepEqual(
      kept.map((v) => [v.key, v.isDeleteMarker, v.size]),
      [
        ['del/a', true, 0],
        ['del/a', false, 9],
        ['del/a', false, 9],
        ['del/b', true, 0],
        ['del/b', false, 9],
        ['del/big', true, 0],
        ['del/big', false, 40_000],
        ['del/c/d', true, 0],
        ['del/c/d', false, 11],
      ],
    );
    const counted = await usage();
    assert.deepEqual([counted.bytes, counted.objects], [before.bytes, before.objects], 'a delete gives its bytes back at once');
    assert.equal(counted.retainedBytes - before.retainedBytes, 9 + 9 + 9 + 40_000 + 11);

    await ts.server.context.objects.sweep();
    assert.deepEqual(await versions(alice, 'data', 'del/'), kept, 'the same versions, ids and times');
    assert.deepEqual(await usage(), counted);
    const big = kept[6] as VersionEntry;
    const restored = await alice.call('POST', '/data/restore', { body: { key: 'del/big', versionId: big.versionId } });
    assert.equal(restored.status, 200, restored.text);
    assert.deepEqual((await alice.get('data', 'del/big')).body, Buffer.alloc(40_000, 7));
  });

  test('a versions page that ends on a deleted key goes on where it stopped after the sweeper files that key', async () => {
    for (const key of ['turn/a', 'turn/b']) {
      await alice.put('data', key, `${key} 1`);
      ts.clock.advance(10);
      await alice.put('data', key, `${key} 2`);
    }
    ts.clock.advance(10);
    assert.equal((await alice.deletePrefix('data', 'turn/')).json<{ deleted: number }>().deleted, 2);
    const all = await versions(alice, 'data', 'turn/');
    assert.equal(all.length, 6);
    for (const cut of [1, 2, 3, 4]) {
      const first = await alice.call('GET', `/data/versions?prefix=turn/&limit=${cut}`);
      const next = first.headers['x-next'] as string;
      // The sweeper files the deleted keys into the versions table between the two pages.
      await ts.server.context.objects.sweep();
      const rest: VersionEntry[] = [];
      for (let token: string | undefined = next; token; ) {
        const page = await alice.call('GET', '/data/versions?prefix=turn/', { headers: { 'x-next': token } });
        assert.equal(page.status, 200, page.text);
        rest.push(...page.json<VersionsPage>().versions);
        token = page.headers['x-next'] as string | undefined;
      }
      assert.deepEqual([...first.json<VersionsPage>().versions, ...rest], all, `a first page of ${cut}`);
      // Put the two keys back in the state of a delete not yet filed, for the next cut.
      for (const key of ['turn/a', 'turn/b']) await alice.put('data', key, 'again');
      ts.clock.advance(10);
      await alice.deletePrefix('data', 'turn/');
      all.splice(0, all.length, ...(await versions(alice, 'data', 'turn/')));
    }
  });

  test('a write over a deleted key keeps what the delete kept, and restores before the sweeper runs', async () => {
    await alice.put('data', 'again/k', 'first');
    ts.clock.advance(10);
    assert.equal((await alice.deletePrefix('data', 'again/')).json<{ deleted: number }>().deleted, 1);
    ts.clock.advance(10);
    await alice.put('data', 'again/k', 'second');
    assert.deepEqual(
      (await versions(alice, 'data', 'again/')).map((v) => [v.current, v.isDeleteMarker, v.size]),
      [
        [true, false, 6],
        [false, true, 0],
        [false, false, 5],
      ],
    );
    await alice.put('data', 'again/m', 'kept');
    ts.clock.advance(10);
    const at = new Date(ts.clock.nowMs).toISOString();
    ts.clock.advance(10);
    assert.equal((await alice.deletePrefix('data', 'again/')).json<{ deleted: number }>().deleted, 2);
    const undo = await alice.call('POST', '/data/restore', { body: { prefix: 'again/', at } });
    assert.equal(undo.status, 200, undo.text);
    assert.equal((await alice.get('data', 'again/k')).text, 'second');
    assert.equal((await alice.get('data', 'again/m')).text, 'kept');
  });

  test('tmp expiry is not a delete: an expired object goes for good, no version', async () => {
    await alice.put('tmp', 'gone', 'short-lived');
    ts.clock.advance(2 * DAY);
    await ts.server.context.objects.sweep();
    assert.deepEqual(await versions(alice, 'tmp', 'gone'), []);
  });
});

describe('fsck with versions', { skip: embeddedOnly }, () => {
  test('a delete under retention marks rows in place, the sweeper files them as versions; fsck is clean throughout', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'stowage-retention-settle-'));
    try {
      const ts = await startTestServer({ retentionMs: 7 * DAY }, { dataDir });
      const api = apiClient(ts.origin, await ts.token('erin'));
      for (let i = 0; i < 5; i++) await api.put('data', `p/${i}`, Buffer.alloc(i === 0 ? 30_000 : 100, i));
      assert.equal((await api.deletePrefix('data', 'p/')).json<{ deleted: number }>().deleted, 5);
      const db = new Sqlite(path.join(dataDir, 'index.sqlite'), { readonly: true });
      const count = (sql: string) => db.prepare(sql).pluck().get() as number;
      try {
        assert.equal(count('SELECT COUNT(*) FROM objects WHERE deleted_purge IS NOT NULL'), 5, 'kept where they were');
        assert.equal(count('SELECT COUNT(*) FROM object_versions'), 0);
        assert.deepEqual((await fsck({ dataDir })).findings, []);
        await ts.server.context.objects.sweep();
        assert.equal(count('SELECT COUNT(*) FROM objects'), 0);
        assert.equal(count('SELECT COUNT(*) FROM object_versions WHERE delete_marker = 0'), 5);
        assert.equal(count('SELECT COUNT(*) FROM object_versions WHERE delete_marker = 1'), 5);
      } finally {
        db.close();
      }
      assert.equal((await ts.files()).blobs.length, 1, 'the blob a version names stays');
      await ts.server.close();
      assert.deepEqual((await fsck({ dataDir })).findings, []);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  test('blobs that only versions name are not orphans', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'stowage-retention-fsck-'));
    try {
      const ts = await startTestServer({ retentionMs: 7 * DAY }, { dataDir });
      const api = apiClient(ts.origin, await ts.token('dave'));
      await api.put('data', 'big', Buffer.alloc(50_000, 1));
      await api.put('data', 'big', Buffer.alloc(50_000, 2));
      await api.put('data', 'gone', Buffer.alloc(40_000, 3));
      assert.equal((await api.call('DELETE', '/data/gone')).status, 204);
      assert.equal((await ts.files()).blobs.length, 3);
      await ts.server.close();
      const report = await fsck({ dataDir });
      assert.deepEqual(report.findings, []);
      assert.equal(report.exitCode, 0);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
