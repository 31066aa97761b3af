// A user's own API keys (list, create, revoke) and scoped keys: read-only, one bucket, one
// prefix, each enforced by the one authorization decision on both APIs and on both deployments,
// including the paths that used to need no decision (a user's built-in buckets, delete_many, the
// fast read). A revoked key signs nothing at once, gets no token, and its tokens end within the
// recheck interval.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { KEY_RECHECK_MS } from '../src/auth/token-service.js';
import { assertS3Fails } from './helpers/s3-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

interface CreatedKey {
  clientId: string;
  clientSecret: string;
  name: string | null;
  scope: { readOnly: boolean; bucket?: string; prefix?: string } | null;
}

describe('API keys of a user: list, create, revoke; scoped keys', () => {
  let ts: TestServer;
  let alice: string;
  before(async () => {
    ts = await startTestServer();
    alice = await ts.token('alice');
    for (const key of ['reports/q1.csv', 'reports/q2.csv', 'private/diary.txt']) await put(alice, 'data', key, `content of ${key}`);
    const created = await call(alice, 'POST', '/buckets', { name: 'alice-team' });
    assert.equal(created.status, 201);
    await put(alice, 'alice-team', 'shared.txt', 'team notes');
  });
  after(() => ts.close());

  async function call(token: string | undefined, method: string, path: string, body?: unknown) {
    const response = await fetch(`${ts.url}${path}`, {
      method,
      headers: {
        ...(token && { authorization: `Bearer ${token}` }),
        ...(body !== undefined && { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, json: (text ? JSON.parse(text) : {}) as Record<string, unknown> };
  }
  async function put(token: string, type: string, key: string, value: string) {
    const response = await fetch(`${ts.url}/${type}/set/${key}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}` },
      body: value,
    });
    await response.arrayBuffer();
    return response.status;
  }
  async function get(token: string, type: string, key: string) {
    const response = await fetch(`${ts.url}/${type}/get/${key}`, { headers: { authorization: `Bearer ${token}` } });
    return { status: response.status, text: await response.text() };
  }
  async function createKey(body: Record<string, unknown>): Promise<CreatedKey> {
    const created = await call(alice, 'POST', '/keys', body);
    assert.equal(created.status, 201, JSON.stringify(created.json));
    return created.json as unknown as CreatedKey;
  }
  async function tokenOf(key: CreatedKey): Promise<string> {
    const response = await fetch(`${ts.origin}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: key.clientId, client_secret: key.clientSecret, grant_type: 'client_credentials' }),
    });
    const body = (await response.json()) as { access_token?: string };
    assert.equal(response.status, 200, JSON.stringify(body));
    return body.access_token as string;
  }
  const s3Of = (key: CreatedKey) =>
    new S3Client({
      endpoint: `${ts.origin}/s3`,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: key.clientId, secretAccessKey: key.clientSecret },
      maxAttempts: 1,
    });

  test('a read-only key reads and lists, and may write, delete, share or make keys nowhere', async () => {
    const key = await createKey({ name: 'dashboard', readOnly: true });
    assert.deepEqual([key.name, key.scope], ['dashboard', { readOnly: true }]);
    const token = await tokenOf(key);
    // Twice: the second GET comes after the token was verified once (the fast read's path).
    for (let i = 0; i < 2; i++)
      assert.deepEqual(await get(token, 'data', 'reports/q1.csv'), { status: 200, text: 'content of reports/q1.csv' });
    assert.equal((await call(token, 'GET', '/data/list?prefix=reports/')).status, 200);
    assert.equal((await get(token, 'alice-team', 'shared.txt')).status, 200);
    assert.equal(await put(token, 'data', 'reports/q3.csv', 'x'), 403);
    assert.equal((await call(token, 'DELETE', '/data/reports/q1.csv')).status, 403);
    assert.equal((await call(token, 'POST', '/data/delete_prefix?prefix=reports/')).status, 403);
    const many = await call(token, 'POST', '/data/delete_many', { keys: ['reports/q1.csv'] });
    assert.equal((many.json.results as Array<{ code?: string }>)[0]?.code, 'AccessDenied');
    assert.equal((await call(token, 'GET', '/data/new_resumable_url/reports/up.csv')).status, 403);
    assert.equal((await call(token, 'POST', '/buckets', { name: 'from-a-scoped-key' })).status, 403);
    assert.equal((await call(token, 'POST', '/buckets/alice-team/share', { grantee: { user: 'bob' }, permission: 'READ' })).status, 403);
    assert.equal((await call(token, 'GET', '/keys')).status, 403);
    assert.equal((await call(token, 'POST', '/keys', {})).status, 403, 'a scoped key makes no keys');
    assert.equal((await get(alice, 'data', 'reports/q1.csv')).status, 200, 'nothing was deleted');

    const s3 = s3Of(key);
    try {
      const object = await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'reports/q2.csv' }));
      assert.equal(await object.Body?.transformToString(), 'content of reports/q2.csv');
      await assertS3Fails(s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'reports/s3.csv', Body: 'x' })), 'AccessDenied', 403);
    } finally {
      s3.destroy();
    }
  });

  test('a key of one prefix reaches keys and listings under it only, on both APIs', async () => {
    const key = await createKey({ prefix: 'reports/' });
    assert.deepEqual(key.scope, { readOnly: false, prefix: 'reports/' });
    const token = await tokenOf(key);
    assert.equal((await get(token, 'data', 'reports/q1.csv')).status, 200);
    assert.equal((await get(token, 'data', 'private/diary.txt')).status, 403);
    assert.equal((await get(token, 'data', 'private/never-was')).status, 403, 'outside the scope, a missing key is refused alike');
    assert.equal(await put(token, 'data', 'reports/q3.csv', 'written by the key'), 200);
    assert.equal(await put(token, 'data', 'private/planted.txt', 'x'), 403);
    assert.equal((await call(token, 'GET', '/data/list?prefix=reports/')).status, 200);
    assert.equal((await call(token, 'GET', '/data/list?prefix=')).status, 403);
    const many = await call(token, 'POST', '/data/delete_many', { keys: ['reports/q3.csv', 'private/diary.txt'] });
    assert.deepEqual(
      (many.json.results as Array<{ key: string; deleted: boolean; code?: string }>).map((r) => [r.key, r.deleted, r.code]),
      [
        ['reports/q3.csv', true, undefined],
        ['private/diary.txt', false, 'AccessDenied'],
      ],
    );
    assert.equal((await get(alice, 'data', 'private/diary.txt')).status, 200);
    const copy = await call(token, 'POST', '/copy', {
      source: { type: 'data', key: 'private/diary.txt' },
      destination: { type: 'data', key: 'reports/stolen.txt' },
    });
    assert.equal(copy.status, 403, 'the source of a copy is read through the same decision');
    assert.equal((await get(token, 'alice-team', 'shared.txt')).status, 403, 'other buckets lie outside the prefix too');
    // Grants do not widen a scope: alice's team bucket made public is still outside it.
    const shared = await call(alice, 'POST', '/buckets/alice-team/share', { grantee: { group: 'everyone' }, permission: 'READ' });
    assert.equal(shared.status, 200);
    assert.equal((await fetch(`${ts.url}/alice-team/get/shared.txt`)).status, 200, 'anyone reads it now');
    const refused = await get(token, 'alice-team', 'shared.txt');
    assert.equal(refused.status, 403, 'but not through a key scoped elsewhere');
    assert.match(refused.text, /scope/);
    await call(alice, 'POST', '/buckets/alice-team/unshare', { grantee: { group: 'everyone' } });

    const s3 = s3Of(key);
    try {
      await assertS3Fails(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'private/diary.txt' })), 'AccessDenied', 403);
      const listed = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'reports/' }));
      assert.deepEqual(
        listed.Contents?.map((object) => object.Key),
        ['reports/q1.csv', 'reports/q2.csv'],
      );
      await assertS3Fails(s3.send(new ListObjectsV2Command({ Bucket: 'data' })), 'AccessDenied', 403);
    } finally {
      s3.destroy();
    }
  });

  test('a key of one bucket reaches that bucket only', async () => {
    const key = await createKey({ bucket: 'alice-team' });
    const token = await tokenOf(key);
    assert.equal((await get(token, 'alice-team', 'shared.txt')).status, 200);
    assert.equal(await put(token, 'alice-team', 'from-key.txt', 'x'), 200);
    assert.equal((await get(token, 'data', 'reports/q1.csv')).status, 403);
    assert.equal((await call(token, 'DELETE', '/buckets/alice-team')).status, 403, 'no scoped key manages a bucket');
  });

  test('bad scopes are refused with InvalidArgument; nothing is created', async () => {
    const before = ((await call(alice, 'GET', '/keys')).json.keys as unknown[]).length;
    for (const body of [
      { prefix: 'no-slash' },
      { readOnly: 'yes' },
      { bucket: 'Not_A_Bucket' },
      { scope: 'everything' },
      { name: '' },
      { prefix: 'a\u0000/' },
    ]) {
      const refused = await call(alice, 'POST', '/keys', body);
      assert.deepEqual([refused.status, refused.json.code], [400, 'InvalidArgument'], JSON.stringify(body));
    }
    assert.equal(((await call(alice, 'GET', '/keys')).json.keys as unknown[]).length, before);
  });

  test('the list shows every key without its secret; a revoked key stops at once on S3 and for new tokens, its tokens within the recheck', async () => {
    const key = await createKey({ name: 'ci job' });
    const token = await tokenOf(key);
    const bob = await ts.token('bob');
    assert.equal((await call(bob, 'DELETE', `/keys/${key.clientId}`)).json.code, 'NoSuchApiKey', "bob cannot revoke alice's key");
    const listed = (await call(alice, 'GET', '/keys')).json.keys as Array<Record<string, unknown>>;
    const mine = listed.find((entry) => entry.clientId === key.clientId);
    assert.deepEqual(Object.keys(mine ?? {}).sort(), ['clientId', 'createdAt', 'name', 'revokedAt', 'scope']);
    assert.equal(JSON.stringify(listed).includes(key.clientSecret), false);
    assert.equal((await get(token, 'data', 'reports/q1.csv')).status, 200);

    assert.equal((await call(alice, 'DELETE', `/keys/${key.clientId}`)).status, 204);
    const revoked = ((await call(alice, 'GET', '/keys')).json.keys as Array<Record<string, unknown>>).find(
      (entry) => entry.clientId === key.clientId,
    );
    assert.equal(typeof revoked?.revokedAt, 'number');
    const exchange = await fetch(`${ts.origin}/auth/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: key.clientId, client_secret: key.clientSecret }),
    });
    assert.equal(exchange.status, 401);
    const s3 = s3Of(key);
    try {
      await assertS3Fails(s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'reports/q1.csv' })), 'InvalidAccessKeyId', 403);
    } finally {
      s3.destroy();
    }
    ts.clock.advance(KEY_RECHECK_MS + 1);
    const late = await call(token, 'GET', '/data/list');
    assert.deepEqual([late.status, late.json.code], [401, 'InvalidToken']);
    assert.equal((await call(alice, 'DELETE', '/keys/stw_never')).status, 404);
  });
});
