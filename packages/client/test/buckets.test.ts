// Guards named buckets and sharing through the client, against a real server with two users:
// bucket creation and its conflicts, prefix grants (what READ and WRITE allow and what they do not),
// unsharing, the listing of owned and shared buckets, deletion of a non-empty bucket, every object
// call with a bucket's name as the storage type, and an anonymous client of a public bucket.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import {
  Auth,
  AuthError,
  BadRequestError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  QuotaExceededError,
  Retry,
  Storage,
  type StorageError,
} from '../src/node/index.js';

/** Asserts that `promise` fails with an error of `ErrorClass` and `code`. */
async function refused(promise: Promise<unknown>, ErrorClass: typeof StorageError, code: string | undefined): Promise<void> {
  await assert.rejects(promise, (error: StorageError) => {
    assert.ok(error instanceof ErrorClass, `${error.name} (${error.code}: ${error.message}) is not a ${ErrorClass.name}`);
    if (code !== undefined) assert.equal(error.code, code);
    return true;
  });
}

describe('named buckets and sharing', () => {
  let ts: TestServer;
  let alice: Storage;
  let bob: Storage;
  let anonymous: Storage;
  before(async () => {
    ts = await startTestServer();
    const client = async (user: string) =>
      new Storage({ url: ts.url, auth: new Auth({ token: await ts.token(user), env: {} }), retries: Retry.none() });
    alice = await client('alice');
    bob = await client('bob');
    anonymous = new Storage({ url: ts.url, anonymous: true, retries: Retry.none() });
  });
  after(async () => {
    await Promise.all([alice.close(), bob.close(), anonymous.close()]);
    await ts.close();
  });

  test('create, and the conflicts and names it refuses', async () => {
    const info = await alice.buckets.create('names-test');
    assert.equal(info.name, 'names-test');
    assert.equal(info.owner, 'alice');
    assert.ok(!Number.isNaN(Date.parse(info.createdAt)));
    assert.deepEqual([info.bytes, info.objects, info.quotaBytes, info.public, info.grants], [0, 0, null, false, []]);
    await refused(alice.buckets.create('names-test'), ConflictError, 'BucketAlreadyOwnedByYou');
    await refused(bob.buckets.create('names-test'), ConflictError, 'BucketAlreadyExists');
    await refused(alice.buckets.create('Not_A_Bucket'), BadRequestError, 'InvalidBucketName');
    await refused(alice.buckets.create('usage'), BadRequestError, 'InvalidBucketName');
    await refused(alice.buckets.create('data'), BadRequestError, 'InvalidBucketName');
    await refused(alice.buckets.info('no-such-bucket-here'), NotFoundError, 'NoSuchBucket');
    await refused(alice.get('k', 'no-such-bucket-here'), NotFoundError, 'NoSuchBucket');
    await refused(alice.set('k', 'v', 'no-such-bucket-here'), NotFoundError, 'NoSuchBucket');
    // A HEAD answer has no body: exists cannot tell a missing bucket from a missing key.
    assert.equal(await alice.exists('k', 'no-such-bucket-here'), false);
    // Refused before any request: not a name a path segment can carry.
    await refused(alice.get('k', { storageType: '..' }), BadRequestError, 'InvalidStorageType');
    await refused(alice.list('', ''), BadRequestError, 'InvalidStorageType');
    // Of the wrong form: the server says so without looking it up.
    await refused(alice.get('k', 'Not_A_Bucket'), BadRequestError, 'InvalidStorageType');
    await alice.buckets.delete('names-test');
  });

  test('a prefix grant: bob reads and lists under it, nothing outside it, and writes only once given WRITE', async () => {
    await alice.buckets.create('team-results');
    await alice.set('q1/summary.csv', 'a,b\n1,2\n', 'team-results');
    await alice.set('q1/detail/part-1.csv', 'x', { storageType: 'team-results' });
    await alice.set('q2/secret.csv', 'not for bob', 'team-results');

    // Before any grant, bob sees nothing and learns nothing.
    await refused(bob.get('q1/summary.csv', 'team-results'), ForbiddenError, 'AccessDenied');
    assert.equal(
      (await bob.buckets.list()).some((bucket) => bucket.name === 'team-results'),
      false,
    );

    const shared = await alice.buckets.share('team-results', { user: 'bob', prefix: 'q1/' });
    assert.deepEqual(shared.grants, [{ grantee: { user: 'bob' }, permission: 'READ', prefix: 'q1/' }]);
    assert.equal(shared.public, false);

    assert.equal(await bob.get('q1/summary.csv', 'team-results'), 'a,b\n1,2\n');
    assert.equal(await bob.exists('q1/summary.csv', 'team-results'), true);
    assert.equal((await bob.info('q1/summary.csv', 'team-results')).size, 8);
    assert.deepEqual(await bob.list('q1/', 'team-results'), ['q1/detail/part-1.csv', 'q1/summary.csv']);
    assert.deepEqual(await bob.list('q1/', { storageType: 'team-results', delimiter: '/' }), {
      objects: ['q1/summary.csv'],
      folders: ['q1/detail/'],
    });
    const iterated: string[] = [];
    for await (const key of bob.iterList('q1/', 'team-results')) iterated.push(key);
    assert.deepEqual(iterated, ['q1/detail/part-1.csv', 'q1/summary.csv']);
    const signed = await bob.getSignedUrl('q1/summary.csv', { storageType: 'team-results' });
    assert.equal(await (await fetch(signed)).text(), 'a,b\n1,2\n');

    // Outside the prefix: refused, whether the key exists or not, and no listing of the whole bucket.
    await refused(bob.get('q2/secret.csv', 'team-results'), ForbiddenError, 'AccessDenied');
    await refused(bob.get('q2/never-was.csv', 'team-results'), ForbiddenError, 'AccessDenied');
    await refused(bob.list('', 'team-results'), ForbiddenError, 'AccessDenied');
    await refused(bob.list('q2/', 'team-results'), ForbiddenError, 'AccessDenied');
    // READ is not WRITE.
    await refused(bob.set('q1/by-bob.csv', 'mine', 'team-results'), ForbiddenError, 'AccessDenied');
    await refused(bob.delete('q1/summary.csv', 'team-results'), ForbiddenError, 'AccessDenied');
    // Nor READ_ACP, nor the owner's settings.
    await refused(bob.buckets.info('team-results'), ForbiddenError, 'AccessDenied');
    await refused(bob.buckets.update('team-results', { quotaBytes: 1 }), ForbiddenError, 'AccessDenied');
    await refused(bob.buckets.share('team-results', { user: 'bob', permission: 'WRITE' }), ForbiddenError, 'AccessDenied');
    await refused(bob.buckets.delete('team-results'), ForbiddenError, 'AccessDenied');
    assert.equal(await alice.get('q1/summary.csv', 'team-results'), 'a,b\n1,2\n');

    // The bucket is listed for bob as shared, with its owner.
    const listed = (await bob.buckets.list()).find((bucket) => bucket.name === 'team-results');
    assert.equal(listed?.owner, 'alice');
    assert.equal(listed?.access, 'shared');
    assert.equal((await alice.buckets.list()).find((bucket) => bucket.name === 'team-results')?.access, 'owner');

    // WRITE under q1/: bob writes there, and what he writes is alice's (her bucket), but not under q2/.
    const withWrite = await alice.buckets.share('team-results', { user: 'bob', permission: 'WRITE', prefix: 'q1/' });
    assert.equal(withWrite.grants.length, 2);
    await bob.set('q1/by-bob.csv', 'written by bob', 'team-results');
    assert.equal(await alice.get('q1/by-bob.csv', 'team-results'), 'written by bob');
    await refused(bob.set('q2/by-bob.csv', 'no', 'team-results'), ForbiddenError, 'AccessDenied');
    await bob.copy({ type: 'team-results', key: 'q1/summary.csv' }, { type: 'team-results', key: 'q1/summary-copy.csv' });
    await bob.copy({ type: 'team-results', key: 'q1/summary.csv' }, 'summary-in-bobs-data.csv');
    assert.equal(await bob.get('summary-in-bobs-data.csv'), 'a,b\n1,2\n');
    await bob.delete('q1/summary-copy.csv', 'team-results');
    // Sharing the same grant again keeps one.
    assert.equal((await alice.buckets.share('team-results', { user: 'bob', permission: 'WRITE', prefix: 'q1/' })).grants.length, 2);

    // Unsharing WRITE leaves READ; unsharing the rest revokes everything.
    const readOnly = await alice.buckets.unshare('team-results', { user: 'bob', permission: 'WRITE' });
    assert.deepEqual(readOnly.grants, [{ grantee: { user: 'bob' }, permission: 'READ', prefix: 'q1/' }]);
    await refused(bob.set('q1/again.csv', 'no', 'team-results'), ForbiddenError, 'AccessDenied');
    assert.equal(await bob.get('q1/by-bob.csv', 'team-results'), 'written by bob');
    assert.deepEqual((await alice.buckets.unshare('team-results', { user: 'bob' })).grants, []);
    await refused(bob.get('q1/summary.csv', 'team-results'), ForbiddenError, 'AccessDenied');
    await refused(bob.list('q1/', 'team-results'), ForbiddenError, 'AccessDenied');
    assert.equal(
      (await bob.buckets.list()).some((bucket) => bucket.name === 'team-results'),
      false,
    );
  });

  test('a non-empty bucket is not deleted; an empty one is, and its name is free again', async () => {
    await alice.buckets.create('short-lived');
    await alice.set('a', '1', 'short-lived');
    await alice.set('b/c', '22', 'short-lived');
    const info = await alice.buckets.info('short-lived');
    assert.deepEqual([info.objects, info.bytes], [2, 3]);
    assert.deepEqual(await alice.usage({ storageType: 'short-lived', prefix: 'b/' }), {
      type: 'short-lived',
      prefix: 'b/',
      objects: 1,
      bytes: 2,
    });
    await refused(alice.buckets.delete('short-lived'), ConflictError, 'BucketNotEmpty');
    await refused(alice.deletePrefix('', { storageType: 'short-lived' }), BadRequestError, 'ConfirmationRequired');
    const removed = await alice.deleteMany(['a', 'never-was'], { storageType: 'short-lived' });
    assert.deepEqual(
      removed.results.map((r) => r.deleted),
      [true, false],
    );
    await refused(alice.buckets.delete('short-lived'), ConflictError, 'BucketNotEmpty');
    assert.deepEqual(await alice.deletePrefix('', { storageType: 'short-lived', all: true }), { deleted: 1, bytes: 2 });
    await alice.buckets.delete('short-lived');
    await refused(alice.buckets.info('short-lived'), NotFoundError, 'NoSuchBucket');
    await refused(alice.buckets.delete('short-lived'), NotFoundError, 'NoSuchBucket');
    await refused(alice.list('', 'short-lived'), NotFoundError, 'NoSuchBucket');
    assert.equal(
      (await alice.buckets.list()).some((bucket) => bucket.name === 'short-lived'),
      false,
    );
    // The name is free: bob takes it.
    assert.equal((await bob.buckets.create('short-lived')).owner, 'bob');
    await bob.buckets.delete('short-lived');
  });

  test('an anonymous client reads a bucket shared with everyone, and is refused elsewhere', async () => {
    await alice.buckets.create('open-data');
    await alice.set('maps/index.json', '{"maps":1}', { storageType: 'open-data', contentType: 'application/json' });
    await alice.buckets.create('closed-data');
    await alice.set('maps/index.json', 'private', 'closed-data');

    await refused(anonymous.get('maps/index.json', 'open-data'), AuthError, 'MissingToken');
    const opened = await alice.buckets.share('open-data', { group: 'everyone' });
    assert.equal(opened.public, true);
    assert.deepEqual(opened.grants, [{ grantee: { group: 'everyone' }, permission: 'READ', prefix: '' }]);

    assert.equal(await anonymous.get('maps/index.json', 'open-data'), '{"maps":1}');
    assert.equal((await anonymous.info('maps/index.json', 'open-data')).contentType, 'application/json');
    assert.deepEqual(await anonymous.list('', 'open-data'), ['maps/index.json']);
    // Read only, and only there.
    await refused(anonymous.set('maps/new.json', '{}', 'open-data'), AuthError, 'MissingToken');
    await refused(anonymous.get('maps/index.json', 'closed-data'), AuthError, 'MissingToken');
    await refused(anonymous.list('', 'closed-data'), AuthError, 'MissingToken');
    await refused(anonymous.get('maps/index.json'), AuthError, 'MissingToken');
    // bob, with credentials, reads the public bucket as well (everyone includes him), not the closed one.
    assert.equal(await bob.get('maps/index.json', 'open-data'), '{"maps":1}');
    await refused(bob.get('maps/index.json', 'closed-data'), ForbiddenError, 'AccessDenied');

    // Unsharing makes it private again.
    assert.equal((await alice.buckets.unshare('open-data', { group: 'everyone' })).public, false);
    await refused(anonymous.get('maps/index.json', 'open-data'), AuthError, 'MissingToken');

    // 'authenticated' is every user with credentials, and not anonymous callers.
    await alice.buckets.share('open-data', { group: 'authenticated', prefix: 'maps/' });
    assert.equal(await bob.get('maps/index.json', 'open-data'), '{"maps":1}');
    await refused(anonymous.get('maps/index.json', 'open-data'), AuthError, 'MissingToken');
  });

  test('an anonymous Storage has no credentials, and takes none', () => {
    assert.equal(anonymous.anonymous, true);
    assert.equal(alice.anonymous, false);
    assert.throws(() => anonymous.auth, TypeError);
    assert.throws(() => new Storage({ url: ts.url, anonymous: true, auth: new Auth({ token: 'x', env: {} }) }), TypeError);
  });

  test('create with a quota, an expiry and grants; update changes them; list pages through every bucket', async () => {
    const created = await alice.buckets.create('with-settings', {
      quotaBytes: 10,
      expiryDays: 30,
      grants: [
        { user: 'bob', prefix: 'in/' },
        { group: 'authenticated', permission: 'READ', prefix: 'pub/' },
      ],
    });
    assert.equal(created.quotaBytes, 10);
    assert.deepEqual(
      created.expiry.map((rule) => [rule.prefix, rule.days, rule.enabled]),
      [['', 30, true]],
    );
    assert.deepEqual(created.grants, [
      { grantee: { user: 'bob' }, permission: 'READ', prefix: 'in/' },
      { grantee: { group: 'authenticated' }, permission: 'READ', prefix: 'pub/' },
    ]);
    assert.equal(created.public, true, 'a grant to every authenticated user is public');

    const before = Date.now();
    await alice.set('in/a', '12345', 'with-settings');
    const expiresAt = (await alice.info('in/a', 'with-settings')).expiresAt;
    assert.ok(expiresAt, 'a key written under the default expiry expires');
    const days = (expiresAt.getTime() - before) / 86_400_000;
    assert.ok(days > 29.9 && days < 30.1, `expires in ${days} days`);
    await refused(alice.set('in/b', '123456', 'with-settings'), QuotaExceededError, 'QuotaExceeded');

    const updated = await alice.buckets.update('with-settings', { quotaBytes: null, expiryDays: null });
    assert.equal(updated.quotaBytes, null);
    assert.deepEqual(updated.expiry, []);
    assert.deepEqual(updated.grants, created.grants, 'what update leaves out stays');
    await alice.set('in/b', '123456', 'with-settings');
    assert.equal((await alice.info('in/b', 'with-settings')).expiresAt, undefined);

    // Paging: one bucket per request, every bucket once, in name order.
    for (const name of ['page-a', 'page-b', 'page-c']) await alice.buckets.create(name);
    const all = (await alice.buckets.list()).map((bucket) => bucket.name);
    const paged: string[] = [];
    for await (const bucket of alice.buckets.iterList({ pageSize: 1 })) paged.push(bucket.name);
    assert.deepEqual(paged, all);
    assert.deepEqual(
      all.filter((name) => name.startsWith('page-')),
      ['page-a', 'page-b', 'page-c'],
    );
    assert.deepEqual([...all].sort(), all);
    const first = await alice.buckets.listPage({ limit: 2 });
    assert.equal(first.buckets.length, 2);
    assert.equal(first.next, first.buckets[1]?.name);
    for (const name of ['page-a', 'page-b', 'page-c']) await alice.buckets.delete(name);
  });

  test('copy and move between a storage type and a bucket, and upload URLs into a bucket', async () => {
    await alice.buckets.create('archive-bucket');
    await alice.set('reports/q1.csv', 'q1', 'data');
    await alice.copy('reports/q1.csv', { type: 'archive-bucket', key: 'reports/q1.csv' });
    await alice.move({ type: 'archive-bucket', prefix: 'reports/' }, { type: 'archive-bucket', prefix: 'old/' });
    assert.deepEqual(await alice.list('', 'archive-bucket'), ['old/q1.csv']);
    const uploadUrl = await alice.getUploadUrl('uploaded.txt', 'archive-bucket');
    assert.equal((await fetch(uploadUrl, { method: 'PUT', body: 'via an upload URL' })).status, 200);
    assert.equal(await alice.get('uploaded.txt', 'archive-bucket'), 'via an upload URL');
    await alice.deletePrefix('', { storageType: 'archive-bucket', all: true });
    await alice.buckets.delete('archive-bucket');
  });
});
