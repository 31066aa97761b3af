// Authorization over HTTP, on whichever deployment the suite runs: every role × every operation
// of both APIs on one named bucket (owner, a prefix reader, a bucket writer, a full-control
// grantee, a stranger, an anonymous caller), written out as the table of docs/concepts.md says,
// then public grants and what the public access block does to them, a Deny statement, object
// ACLs, and hostile input. A refusal must leave everything as it was.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  DeleteBucketCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  GetBucketAclCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  PutBucketPolicyCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type ApiClient, apiClient } from './helpers/api-client.js';
import { rawRequest } from './helpers/raw-http.js';
import { s3ClientOf } from './helpers/s3-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const ROLES = ['alice', 'bob', 'carol', 'erin', 'dave', 'anonymous'] as const;
type Role = (typeof ROLES)[number];
/** alice owns the bucket; bob: READ on shared/; carol: WRITE on the bucket; erin: FULL_CONTROL; dave: nothing. */
const GRANTS = [
  { grantee: { user: 'bob' }, permission: 'READ', prefix: 'shared/' },
  { grantee: { user: 'carol' }, permission: 'WRITE', prefix: '' },
  { grantee: { user: 'erin' }, permission: 'FULL_CONTROL', prefix: '' },
];

describe('authorization of a shared bucket', () => {
  let ts: TestServer;
  const bucket = `team-${randomBytes(4).toString('hex')}`;
  const v1 = {} as Record<Role, ApiClient>;
  const s3 = {} as Record<Exclude<Role, 'anonymous'>, S3Client>;

  before(async () => {
    ts = await startTestServer();
    for (const role of ROLES) {
      if (role === 'anonymous') continue;
      v1[role] = apiClient(ts.origin, await ts.token(role));
      s3[role] = await s3ClientOf(ts, role);
    }
    v1.anonymous = anonymousClient(ts.origin);
    assert.equal((await v1.alice.call('POST', '/buckets', { body: { name: bucket, grants: GRANTS } })).status, 201);
    assert.equal((await v1.alice.put(bucket, 'shared/a.txt', 'shared')).status, 200);
    assert.equal((await v1.alice.put(bucket, 'private/b.txt', 'private')).status, 200);
  });
  after(async () => {
    for (const client of Object.values(s3)) client.destroy();
    await ts.close();
  });

  // Expected status per role, in ROLES order: alice, bob, carol, erin, dave, anonymous.
  const V1_TABLE: [string, (c: ApiClient) => Promise<{ status: number }>, number[]][] = [
    ['GET shared/a.txt', (c) => c.get(bucket, 'shared/a.txt'), [200, 200, 403, 200, 403, 401]],
    ['GET private/b.txt', (c) => c.get(bucket, 'private/b.txt'), [200, 403, 403, 200, 403, 401]],
    ['GET a missing key', (c) => c.get(bucket, 'private/none'), [404, 403, 403, 404, 403, 401]],
    ['HEAD shared/a.txt', (c) => c.head(bucket, 'shared/a.txt'), [200, 200, 403, 200, 403, 401]],
    ['list shared/', (c) => c.call('GET', `/${bucket}/list?prefix=shared/`), [200, 200, 403, 200, 403, 401]],
    ['list everything', (c) => c.call('GET', `/${bucket}/list`), [200, 403, 403, 200, 403, 401]],
    ['usage of shared/', (c) => c.usage(bucket, 'shared/'), [200, 200, 403, 200, 403, 401]],
    ['PUT shared/new.txt', (c) => c.put(bucket, 'shared/new.txt', 'new'), [200, 403, 200, 200, 403, 401]],
    ['DELETE a missing key', (c) => c.call('DELETE', `/${bucket}/shared/none`), [404, 403, 404, 404, 403, 401]],
    ['signed URL of shared/a.txt', (c) => c.call('GET', `/${bucket}/get_signed_url/shared/a.txt`), [200, 200, 403, 200, 403, 401]],
    ['upload URL of shared/up.txt', (c) => c.call('GET', `/${bucket}/new_resumable_url/shared/up.txt`), [200, 403, 200, 200, 403, 401]],
    [
      'copy shared/a.txt to data',
      (c) => c.copy({ source: { type: bucket, key: 'shared/a.txt' }, destination: { type: 'data', key: 'copied' }, overwrite: true }),
      [200, 200, 403, 200, 403, 401],
    ],
    [
      'copy data into shared/',
      (c) =>
        c.copy({ source: { type: bucket, key: 'shared/a.txt' }, destination: { type: bucket, key: 'shared/copy.txt' }, overwrite: true }),
      [200, 403, 403, 200, 403, 401],
    ],
    ['bucket info', (c) => c.call('GET', `/buckets/${bucket}`), [200, 403, 403, 200, 403, 401]],
    [
      'share',
      (c) => c.call('POST', `/buckets/${bucket}/share`, { body: { grantee: { user: 'dave' }, permission: 'READ', prefix: 'zz/' } }),
      [200, 403, 403, 200, 403, 401],
    ],
    ['change settings', (c) => c.call('PATCH', `/buckets/${bucket}`, { body: { quotaBytes: null } }), [200, 403, 403, 403, 403, 401]],
    ['delete the bucket', (c) => c.call('DELETE', `/buckets/${bucket}`), [409, 403, 403, 403, 403, 401]],
  ];

  test('storage API v1: every role × every operation', async () => {
    const wrong: string[] = [];
    for (const [name, operation, expected] of V1_TABLE)
      for (const [i, role] of ROLES.entries()) {
        const { status } = await operation(v1[role]);
        if (status !== expected[i]) wrong.push(`${name} as ${role}: ${status}, expected ${expected[i]}`);
      }
    assert.deepEqual(wrong, []);
    // What was refused changed nothing; what was allowed did what it said.
    assert.equal((await v1.alice.get(bucket, 'private/b.txt')).text, 'private');
    // A copy out of the shared bucket lands in the copier's own data, not in the owner's.
    for (const role of ['bob', 'erin'] as const) assert.equal((await v1[role].get('data', 'copied')).text, 'shared', role);
    assert.equal((await v1.dave.get('data', 'copied')).status, 404);
    assert.deepEqual((await v1.alice.keys(bucket, '')).sort(), ['private/b.txt', 'shared/a.txt', 'shared/copy.txt', 'shared/new.txt']);
  });

  const S3_TABLE: [string, (c: S3Client) => Promise<unknown>, string, number[]][] = [
    [
      'GetObject shared/a.txt',
      (c) => c.send(new GetObjectCommand({ Bucket: bucket, Key: 'shared/a.txt' })),
      `GET /s3/${bucket}/shared/a.txt`,
      [200, 200, 403, 200, 403, 403],
    ],
    [
      'GetObject private/b.txt',
      (c) => c.send(new GetObjectCommand({ Bucket: bucket, Key: 'private/b.txt' })),
      `GET /s3/${bucket}/private/b.txt`,
      [200, 403, 403, 200, 403, 403],
    ],
    [
      'ListObjectsV2 shared/',
      (c) => c.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'shared/' })),
      `GET /s3/${bucket}?list-type=2&prefix=shared%2F`,
      [200, 200, 403, 200, 403, 403],
    ],
    [
      'ListObjectsV2',
      (c) => c.send(new ListObjectsV2Command({ Bucket: bucket })),
      `GET /s3/${bucket}?list-type=2`,
      [200, 403, 403, 200, 403, 403],
    ],
    [
      'PutObject shared/s3.txt',
      (c) => c.send(new PutObjectCommand({ Bucket: bucket, Key: 'shared/s3.txt', Body: 'x' })),
      `PUT /s3/${bucket}/shared/s3.txt`,
      [200, 403, 200, 200, 403, 403],
    ],
    [
      'DeleteObject shared/none',
      (c) => c.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'shared/none' })),
      `DELETE /s3/${bucket}/shared/none`,
      [204, 403, 204, 204, 403, 403],
    ],
    ['GetBucketAcl', (c) => c.send(new GetBucketAclCommand({ Bucket: bucket })), `GET /s3/${bucket}?acl`, [200, 403, 403, 200, 403, 403]],
    ['HeadBucket', (c) => c.send(new HeadBucketCommand({ Bucket: bucket })), `HEAD /s3/${bucket}`, [200, 403, 403, 200, 403, 403]],
    [
      'DeleteBucketPolicy',
      (c) => c.send(new DeleteBucketPolicyCommand({ Bucket: bucket })),
      `DELETE /s3/${bucket}?policy`,
      [204, 403, 403, 403, 403, 403],
    ],
    ['DeleteBucket', (c) => c.send(new DeleteBucketCommand({ Bucket: bucket })), `DELETE /s3/${bucket}`, [409, 403, 403, 403, 403, 403]],
  ];

  test('S3: every role × every operation (the AWS SDK, and unsigned requests)', async () => {
    const wrong: string[] = [];
    for (const [name, operation, anonymous, expected] of S3_TABLE)
      for (const [i, role] of ROLES.entries()) {
        const status = role === 'anonymous' ? await unsignedStatus(ts, anonymous) : await sdkStatus(operation(s3[role]));
        if (status !== expected[i]) wrong.push(`${name} as ${role}: ${status}, expected ${expected[i]}`);
      }
    assert.deepEqual(wrong, []);
    assert.equal((await v1.alice.get(bucket, 'shared/s3.txt')).text, 'x');
  });

  test('buckets shared with a user are listed for them, with the owner; a stranger sees none', async () => {
    const listed = (await v1.bob.call('GET', '/buckets')).json<{ buckets: { name: string; owner: string; access: string }[] }>();
    assert.deepEqual(
      listed.buckets.filter((entry) => entry.name === bucket),
      [{ name: bucket, owner: 'alice', createdAt: listed.buckets.find((entry) => entry.name === bucket)?.createdAt, access: 'shared' }],
    );
    const frank = apiClient(ts.origin, await ts.token('frank'));
    const strangers = (await frank.call('GET', '/buckets')).json<{ buckets: { name: string }[] }>();
    assert.equal(
      strangers.buckets.some((entry) => entry.name === bucket),
      false,
    );
  });
});

describe('public access, the public access block, Deny and object ACLs', () => {
  let ts: TestServer;
  let alice: ApiClient;
  let erin: ApiClient;
  let s3Alice: S3Client;
  const anonymous = () => anonymousClient(ts.origin);
  const bucket = `pub-${randomBytes(4).toString('hex')}`;

  before(async () => {
    ts = await startTestServer();
    alice = apiClient(ts.origin, await ts.token('alice'));
    erin = apiClient(ts.origin, await ts.token('erin'));
    s3Alice = await s3ClientOf(ts, 'alice');
    const grants = [
      { grantee: { group: 'everyone' }, permission: 'READ', prefix: 'site/' },
      { grantee: { user: 'erin' }, permission: 'FULL_CONTROL', prefix: '' },
    ];
    assert.equal((await alice.call('POST', '/buckets', { body: { name: bucket, grants } })).status, 201);
    await alice.put(bucket, 'site/index.html', '<h1>hi</h1>', { 'content-type': 'text/html', 'cache-control': 'public, max-age=60' });
    await alice.put(bucket, 'secret/key.txt', 'secret');
  });
  after(async () => {
    s3Alice.destroy();
    await ts.close();
  });

  test('anonymous reads of a public prefix work on both APIs, with Cache-Control; nothing else does', async () => {
    const page = await anonymous().get(bucket, 'site/index.html');
    assert.equal(page.status, 200);
    assert.equal(page.text, '<h1>hi</h1>');
    assert.equal(page.headers['cache-control'], 'public, max-age=60');
    assert.deepEqual((await anonymous().call('GET', `/${bucket}/list?prefix=site/`)).json(), ['site/index.html']);
    const viaS3 = await rawRequest(ts.origin, 'GET', `/s3/${bucket}/site/index.html`);
    assert.equal(viaS3.status, 200);
    assert.equal(viaS3.text, '<h1>hi</h1>');
    assert.equal((await anonymous().get(bucket, 'secret/key.txt')).status, 401);
    assert.equal((await rawRequest(ts.origin, 'GET', `/s3/${bucket}/secret/key.txt`)).status, 403);
    assert.equal((await anonymous().put(bucket, 'site/evil.html', 'x')).status, 401);
    assert.equal((await anonymous().call('GET', '/buckets')).status, 401);
    const info = (await alice.call('GET', `/buckets/${bucket}`)).json<{ public: boolean }>();
    assert.equal(info.public, true);
  });

  test('IgnorePublicAcls closes the public prefix at once; turning it off opens it again', async () => {
    const block = { blockPublicAcls: false, ignorePublicAcls: true, blockPublicPolicy: false, restrictPublicBuckets: false };
    assert.equal((await alice.call('PATCH', `/buckets/${bucket}`, { body: { publicAccessBlock: block } })).status, 200);
    assert.equal((await anonymous().get(bucket, 'site/index.html')).status, 401);
    assert.equal((await rawRequest(ts.origin, 'GET', `/s3/${bucket}/site/index.html`)).status, 403);
    assert.equal((await alice.call('GET', `/buckets/${bucket}`)).json<{ public: boolean }>().public, false);
    assert.equal((await alice.call('PATCH', `/buckets/${bucket}`, { body: { publicAccessBlock: null } })).status, 200);
    assert.equal((await anonymous().get(bucket, 'site/index.html')).status, 200);
  });

  test('BlockPublicAcls refuses a new public grant on v1 and S3, and keeps the grants as they were', async () => {
    const block = { blockPublicAcls: true, ignorePublicAcls: false, blockPublicPolicy: true, restrictPublicBuckets: false };
    await alice.call('PATCH', `/buckets/${bucket}`, { body: { publicAccessBlock: block } });
    const share = await alice.call('POST', `/buckets/${bucket}/share`, {
      body: { grantee: { group: 'everyone' }, permission: 'READ', prefix: 'secret/' },
    });
    assert.equal(share.status, 403);
    assert.equal(share.json<{ code: string }>().code, 'AccessDenied');
    const acl = await sdkStatus(
      s3Alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'secret/pub.txt', Body: 'x', ACL: 'public-read' })),
    );
    assert.equal(acl, 403);
    assert.equal((await alice.get(bucket, 'secret/pub.txt')).status, 404);
    assert.equal((await anonymous().get(bucket, 'secret/key.txt')).status, 401);
    await alice.call('PATCH', `/buckets/${bucket}`, { body: { publicAccessBlock: null } });
  });

  test('a Deny statement wins over FULL_CONTROL and over the owner, on both APIs', async () => {
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: `arn:aws:s3:::${bucket}/secret/*` }],
    });
    assert.equal(await sdkStatus(s3Alice.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }))), 204);
    assert.equal((await erin.call('DELETE', `/${bucket}/secret/key.txt`)).status, 403);
    // The policy is the owner's to read; a READ_ACP grantee sees the grants, not the policy.
    assert.equal((await alice.call('GET', `/buckets/${bucket}`)).json<{ policy: string }>().policy, policy);
    assert.equal((await erin.call('GET', `/buckets/${bucket}`)).json<{ policy: string | null }>().policy, null);
    assert.equal((await alice.call('DELETE', `/${bucket}/secret/key.txt`)).status, 403);
    assert.equal(await sdkStatus(s3Alice.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'secret/key.txt' }))), 403);
    assert.equal((await alice.get(bucket, 'secret/key.txt')).text, 'secret');
    assert.equal(await sdkStatus(s3Alice.send(new DeleteBucketPolicyCommand({ Bucket: bucket }))), 204);
    assert.equal((await erin.call('DELETE', `/${bucket}/secret/nothing`)).status, 404);
  });

  test("an object's public-read ACL opens that object at that key only; a copy of it is private", async () => {
    await s3Alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'secret/shown.txt', Body: 'shown', ACL: 'public-read' }));
    assert.equal((await anonymous().get(bucket, 'secret/shown.txt')).text, 'shown');
    assert.equal((await rawRequest(ts.origin, 'GET', `/s3/${bucket}/secret/shown.txt`)).status, 200);
    assert.equal(
      (await alice.copy({ source: { type: bucket, key: 'secret/shown.txt' }, destination: { type: bucket, key: 'secret/copy.txt' } }))
        .status,
      200,
    );
    assert.equal((await anonymous().get(bucket, 'secret/copy.txt')).status, 401);
    // Overwritten without an ACL, the key is private again (as S3: a PUT sets the ACL).
    await s3Alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'secret/shown.txt', Body: 'hidden' }));
    assert.equal((await anonymous().get(bucket, 'secret/shown.txt')).status, 401);
  });

  test('hostile names and grants get clear errors and change nothing', async () => {
    for (const name of ['UPPER', 'a', 'has_underscore', 'bad..dots', '192.168.1.1', 'data', 'buckets', 'x\u0000y', 'new\nline']) {
      const answer = await alice.call('POST', '/buckets', { body: { name } });
      assert.equal(answer.status, 400, JSON.stringify(name));
      assert.equal(answer.json<{ code: string }>().code, 'InvalidBucketName', JSON.stringify(name));
    }
    const nul = await alice.call('POST', `/buckets/${bucket}/share`, { body: { grantee: { user: 'bad\u0000id' }, permission: 'READ' } });
    assert.equal(nul.status, 400);
    const unknown = await alice.call('POST', `/buckets/${bucket}/share`, { body: { grantee: { user: 'bob' }, permission: 'ALL' } });
    assert.equal(unknown.status, 400);
    assert.equal((await alice.call('GET', '/buckets/no-such-bucket-here')).json<{ code: string }>().code, 'NoSuchBucket');
    assert.equal((await rawRequest(ts.origin, 'GET', '/storage/v1/Bad%00Name/get/x')).status, 400);
    const info = (await alice.call('GET', `/buckets/${bucket}`)).json<{ grants: unknown[] }>();
    assert.equal(info.grants.length, 2);
  });
});

describe('bucket names are one namespace', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(() => ts.close());

  test('two users creating one name at once: exactly one gets it, each time', async () => {
    const alice = apiClient(ts.origin, await ts.token('alice'));
    const bob = apiClient(ts.origin, await ts.token('bob'));
    for (let round = 0; round < 10; round++) {
      const name = `race-${round}-${randomBytes(3).toString('hex')}`;
      const answers = await Promise.all([alice, bob].map((client) => client.call('POST', '/buckets', { body: { name } })));
      const statuses = answers.map((answer) => answer.status).sort();
      assert.deepEqual(statuses, [201, 409], name);
      const loser = answers.find((answer) => answer.status === 409);
      assert.equal(loser?.json<{ code: string }>().code, 'BucketAlreadyExists');
      const winner = answers[0]?.status === 201 ? 'alice' : 'bob';
      assert.equal((await alice.call('GET', `/buckets/${name}`)).status, winner === 'alice' ? 200 : 403);
    }
  });

  test('deleted, a name is free again, and the new owner finds nothing of the old bucket', async () => {
    const alice = apiClient(ts.origin, await ts.token('alice'));
    const bob = apiClient(ts.origin, await ts.token('bob'));
    const name = `reuse-${randomBytes(3).toString('hex')}`;
    await alice.call('POST', '/buckets', { body: { name } });
    await alice.put(name, 'k', 'alice');
    assert.equal((await alice.call('DELETE', `/buckets/${name}`)).status, 409);
    assert.equal((await alice.call('DELETE', `/${name}/k`)).status, 204);
    assert.equal((await alice.call('DELETE', `/buckets/${name}`)).status, 204);
    assert.equal((await alice.put(name, 'k', 'late')).status, 404);
    assert.equal((await bob.call('POST', '/buckets', { body: { name } })).status, 201);
    assert.deepEqual(await bob.keys(name, ''), []);
    assert.equal((await alice.get(name, 'k')).status, 403);
  });
});

/** The v1 calls of apiClient without an Authorization header: an anonymous caller. */
function anonymousClient(origin: string): ApiClient {
  const v1 = (method: string, path: string, options: { body?: string | Buffer; headers?: Record<string, string> } = {}) =>
    rawRequest(origin, method, `/storage/v1${path}`, options);
  const json = (body: unknown) => ({ headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return {
    ...apiClient(origin, 'unused'),
    call: (method, path, options = {}) =>
      v1(
        method,
        path,
        options.body === undefined
          ? { headers: options.headers }
          : { ...json(options.body), headers: { ...json(options.body).headers, ...options.headers } },
      ),
    get: (type, key, headers = {}) => v1('GET', `/${type}/get/${encodeURIComponent(key)}`, { headers }),
    head: (type, key) => v1('HEAD', `/${type}/get/${encodeURIComponent(key)}`),
    put: (type, key, body, headers = {}) => v1('PUT', `/${type}/set/${encodeURIComponent(key)}`, { headers, body }),
    usage: (type, prefix) => v1('GET', `/${type}/usage?prefix=${encodeURIComponent(prefix)}`),
    copy: (body) => v1('POST', '/copy', json(body)),
  };
}

/** The HTTP status of an SDK call: its answer's, or its error's. */
async function sdkStatus(call: Promise<unknown>): Promise<number | undefined> {
  try {
    const output = (await call) as { $metadata?: { httpStatusCode?: number } };
    return output.$metadata?.httpStatusCode;
  } catch (error) {
    return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  }
}

/** An unsigned S3 request ("GET /s3/bucket/key"): the anonymous caller. */
async function unsignedStatus(ts: TestServer, request: string): Promise<number> {
  const [method = 'GET', path = '/'] = request.split(' ');
  return (await rawRequest(ts.origin, method, path)).status;
}
