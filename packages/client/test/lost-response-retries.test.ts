// Guards what the client repeats after a response is lost (the request reached the server and
// did its work, the answer never came back): delete_prefix and delete_many are repeated, and a
// repeated delete_many does not report the keys its first attempt deleted as missing; a copy with
// overwrite is repeated; a copy without it, and a move, are not (their repeat would fail on their
// own first effect), so the caller gets a ConnectionError while the work is done. Creating and
// deleting a bucket, sharing and unsharing are repeated, and a repeat that meets its own first
// effect (BucketAlreadyOwnedByYou, NoSuchBucket) is a success.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { Auth, type ConflictError, ConnectionError, NotFoundError, Retry, Storage } from '../src/node/index.js';
import { firstOf, startFaultProxy } from './fault-proxy.js';

describe('batch operations, copy and move after a lost response', () => {
  let ts: TestServer;
  let direct: Storage;
  const cleanups: Array<() => unknown> = [];
  /** A client whose first POST (or `method`) reaches the server but never gets its answer back. */
  const clientLosingFirstPost = async (method = 'POST') => {
    const proxy = await startFaultProxy(ts.url, { dropAnswer: firstOf(method) });
    const storage = new Storage({
      url: proxy.url,
      auth: new Auth({ token: await ts.token('lost'), env: {} }),
      retries: new Retry({ backoffFactor: 0.01, backoffJitter: 0 }),
    });
    cleanups.push(
      () => storage.close(),
      () => proxy.close(),
    );
    return { storage, proxy };
  };
  before(async () => {
    ts = await startTestServer();
    direct = new Storage({ url: ts.url, auth: new Auth({ token: await ts.token('lost'), env: {} }), retries: Retry.none() });
  });
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
    await direct.close();
    await ts.close();
  });

  test('deleteMany is repeated, and the keys its lost attempt deleted count as deleted', async () => {
    for (const key of ['dm/a', 'dm/b']) await direct.set(key, 'x');
    const { storage, proxy } = await clientLosingFirstPost();
    const result = await storage.deleteMany(['dm/a', 'dm/b']);
    assert.equal(proxy.stats.dropped, 1);
    assert.equal(proxy.stats.forwarded, 2);
    assert.deepEqual(result.results, [
      { key: 'dm/a', deleted: true },
      { key: 'dm/b', deleted: true },
    ]);
    assert.equal(result.deleted, 2);
    assert.deepEqual(await direct.list('dm/'), []);
  });

  test('deletePrefix is repeated', async () => {
    for (const key of ['dp/a', 'dp/b/c']) await direct.set(key, 'x');
    const { storage, proxy } = await clientLosingFirstPost();
    assert.deepEqual(await storage.deletePrefix('dp/'), { deleted: 0, bytes: 0 }, 'the counts are those of the repeat');
    assert.equal(proxy.stats.forwarded, 2);
    assert.deepEqual(await direct.list('dp/'), []);
  });

  test('a copy with overwrite is repeated', async () => {
    await direct.set('cp/src', 'bytes');
    const { storage, proxy } = await clientLosingFirstPost();
    const result = await storage.copy('cp/src', 'cp/dst', { overwrite: true });
    assert.equal(result.key, 'cp/dst');
    assert.equal(proxy.stats.forwarded, 2);
    assert.equal(await direct.get('cp/dst'), 'bytes');
  });

  test('a copy without overwrite, and a move, are sent once', async () => {
    await direct.set('once/src', 'bytes');
    const copying = await clientLosingFirstPost();
    await assert.rejects(copying.storage.copy('once/src', 'once/copy'), ConnectionError);
    assert.equal(copying.proxy.stats.forwarded, 1);
    assert.equal(await direct.get('once/copy'), 'bytes', 'the copy was made');

    const moving = await clientLosingFirstPost();
    await assert.rejects(moving.storage.move('once/src', 'once/moved'), ConnectionError);
    assert.equal(moving.proxy.stats.forwarded, 1);
    assert.equal(await direct.exists('once/src'), false);
    assert.equal(await direct.get('once/moved'), 'bytes', 'the move was made');
  });

  test('creating a bucket is repeated, and the repeat that finds it made answers with it', async () => {
    const { storage, proxy } = await clientLosingFirstPost();
    const created = await storage.buckets.create('lost-create', { quotaBytes: 1000, grants: [{ user: 'bob', prefix: 'in/' }] });
    assert.equal(proxy.stats.dropped, 1);
    assert.equal(proxy.stats.forwarded >= 2, true);
    assert.equal(created.name, 'lost-create');
    assert.equal(created.quotaBytes, 1000);
    assert.deepEqual(created.grants, [{ grantee: { user: 'bob' }, permission: 'READ', prefix: 'in/' }]);
    // Without a lost response, the same conflict is the caller's to know about.
    await assert.rejects(direct.buckets.create('lost-create'), (error: ConflictError) => error.code === 'BucketAlreadyOwnedByYou');
  });

  test('sharing and unsharing are repeated', async () => {
    await direct.buckets.create('lost-share');
    const sharing = await clientLosingFirstPost();
    const shared = await sharing.storage.buckets.share('lost-share', { user: 'bob' });
    assert.equal(sharing.proxy.stats.dropped, 1);
    assert.deepEqual(shared.grants, [{ grantee: { user: 'bob' }, permission: 'READ', prefix: '' }], 'one grant, not two');
    const unsharing = await clientLosingFirstPost();
    assert.deepEqual((await unsharing.storage.buckets.unshare('lost-share', { user: 'bob' })).grants, []);
    assert.equal(unsharing.proxy.stats.dropped, 1);
  });

  test('deleting a bucket is repeated, and the repeat that finds it gone succeeds', async () => {
    await direct.buckets.create('lost-delete');
    const { storage, proxy } = await clientLosingFirstPost('DELETE');
    await storage.buckets.delete('lost-delete');
    assert.equal(proxy.stats.dropped, 1);
    await assert.rejects(direct.buckets.info('lost-delete'), NotFoundError);
    // Without a lost response, a missing bucket is an error.
    await assert.rejects(direct.buckets.delete('lost-delete'), (error: NotFoundError) => error.code === 'NoSuchBucket');
  });
});
