// Defects found reviewing named buckets and sharing, each shown over real HTTP: what one caller may
// not do one way (a Deny, a private key, a revoked public grant) must not be done another way.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type ApiClient, apiClient } from './helpers/api-client.js';
import { deployment } from './helpers/deployment.js';
import { freshPgSchema, type PgSchema } from './helpers/postgres.js';
import { rawRequest } from './helpers/raw-http.js';
import { s3ClientOf } from './helpers/s3-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('operations on a prefix and the Deny statements under it', () => {
  let ts: TestServer;
  let alice: ApiClient;
  let bob: ApiClient;
  let s3Alice: S3Client;
  const bucket = `deny-${randomBytes(4).toString('hex')}`;

  before(async () => {
    ts = await startTestServer();
    alice = apiClient(ts.origin, await ts.token('alice'));
    bob = apiClient(ts.origin, await ts.token('bob'));
    s3Alice = await s3ClientOf(ts, 'alice');
    const grants = [
      { grantee: { user: 'bob' }, permission: 'READ', prefix: '' },
      { grantee: { user: 'bob' }, permission: 'WRITE', prefix: '' },
    ];
    assert.equal((await alice.call('POST', '/buckets', { body: { name: bucket, grants } })).status, 201);
  });
  after(async () => {
    s3Alice.destroy();
    await ts.close();
  });

  const policy = (statements: object[]) =>
    s3Alice.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify({ Version: '2012-10-17', Statement: statements }) }));

  test('a copy of a prefix does not read the objects a Deny of s3:GetObject keeps from the caller', async () => {
    assert.equal((await alice.put(bucket, 'secret/plan.txt', 'the plan')).status, 200);
    await policy([{ Effect: 'Deny', Principal: { AWS: 'bob' }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/secret/*` }]);
    assert.equal((await bob.get(bucket, 'secret/plan.txt')).status, 403);
    const copy = await bob.copy({ source: { type: bucket, prefix: 'secret/' }, destination: { type: bucket, prefix: 'leak/' } });
    assert.equal(copy.status, 403, copy.text);
    assert.deepEqual(await alice.keys(bucket, 'leak/'), []);
    assert.notEqual((await bob.get(bucket, 'leak/plan.txt')).text, 'the plan');
    // Nor a copy of a wider prefix that holds the denied one.
    const wider = await bob.copy({ source: { type: bucket, prefix: 'secret' }, destination: { type: bucket, prefix: 'out/' } });
    assert.equal(wider.status, 403, wider.text);
    assert.deepEqual(await alice.keys(bucket, 'out/'), []);
  });

  test('delete_prefix and a move of a prefix do not delete the keys a Deny of s3:DeleteObject protects', async () => {
    assert.equal((await alice.put(bucket, 'keep/contract.pdf', 'signed')).status, 200);
    await policy([{ Effect: 'Deny', Principal: '*', Action: 's3:DeleteObject', Resource: `arn:aws:s3:::${bucket}/keep/*` }]);
    assert.equal((await bob.call('DELETE', `/${bucket}/keep/contract.pdf`)).status, 403);
    assert.equal((await alice.call('DELETE', `/${bucket}/keep/contract.pdf`)).status, 403);
    // The grantee's and the owner's deletes of a prefix holding keep/ are denied as theirs of the key are.
    assert.equal((await bob.deletePrefix(bucket, '', '&all=true')).status, 403);
    assert.equal((await alice.deletePrefix(bucket, 'k')).status, 403);
    const move = await bob.move({ source: { type: bucket, prefix: 'keep' }, destination: { type: bucket, prefix: 'moved/' } });
    assert.equal(move.status, 403, move.text);
    assert.equal((await alice.get(bucket, 'keep/contract.pdf')).text, 'signed');
  });

  test('a detailed listing does not show the metadata of objects a Deny of s3:GetObject keeps from the caller', async () => {
    assert.equal((await alice.put(bucket, 'hr/salary.txt', 'x', { 'x-stowage-meta-salary': '250000' })).status, 200);
    await policy([{ Effect: 'Deny', Principal: { AWS: 'bob' }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/hr/*` }]);
    assert.equal((await bob.head(bucket, 'hr/salary.txt')).status, 403);
    // The keys are bob's to list (s3:ListBucket is not denied); what only a read gives is not.
    assert.deepEqual(await bob.keys(bucket, 'hr/'), ['hr/salary.txt']);
    const detailed = await bob.call('GET', `/${bucket}/list?prefix=hr/&details=true`);
    assert.doesNotMatch(detailed.text, /250000/);
    assert.equal(detailed.status, 403, detailed.text);
  });
});

describe('bucket policies grant what their text says', () => {
  let ts: TestServer;
  let alice: ApiClient;
  let bob: ApiClient;
  let s3Alice: S3Client;
  const bucket = `policy-${randomBytes(4).toString('hex')}`;

  before(async () => {
    ts = await startTestServer();
    alice = apiClient(ts.origin, await ts.token('alice'));
    bob = apiClient(ts.origin, await ts.token('bob'));
    s3Alice = await s3ClientOf(ts, 'alice');
    assert.equal((await alice.call('POST', '/buckets', { body: { name: bucket } })).status, 201);
    await alice.put(bucket, 'report.pdf', 'final');
    await alice.put(bucket, 'report.pdf.draft', 'draft');
    await alice.put(bucket, 'report.pdf/notes.txt', 'notes');
  });
  after(async () => {
    s3Alice.destroy();
    await ts.close();
  });

  test('an Allow of one key (arn:aws:s3:::BUCKET/KEY) opens that key, not every key that starts with it', async () => {
    const statement = { Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/report.pdf` };
    await s3Alice.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify({ Statement: [statement] }) }));
    const anonymous = (key: string) => rawRequest(ts.origin, 'GET', `/storage/v1/${bucket}/get/${encodeURIComponent(key)}`);
    assert.equal((await anonymous('report.pdf')).text, 'final');
    assert.equal((await anonymous('report.pdf.draft')).status, 401);
    assert.equal((await anonymous('report.pdf/notes.txt')).status, 401);
    assert.equal((await rawRequest(ts.origin, 'GET', `/s3/${bucket}/report.pdf.draft`)).status, 403);
  });

  test('an Allow of arn:aws:s3:::BUCKET/ (the empty key) opens no object', async () => {
    const statement = { Effect: 'Allow', Principal: { AWS: 'bob' }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/` };
    await s3Alice.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: JSON.stringify({ Statement: [statement] }) }));
    assert.equal((await bob.get(bucket, 'report.pdf')).status, 403);
    assert.equal((await bob.get(bucket, 'report.pdf.draft')).status, 403);
  });
});

describe('anonymous callers and signed URLs', () => {
  let ts: TestServer;
  let alice: ApiClient;
  const bucket = `site-${randomBytes(4).toString('hex')}`;

  before(async () => {
    ts = await startTestServer();
    alice = apiClient(ts.origin, await ts.token('alice'));
    const grants = [{ grantee: { group: 'everyone' }, permission: 'READ', prefix: 'site/' }];
    assert.equal((await alice.call('POST', '/buckets', { body: { name: bucket, grants } })).status, 201);
    await alice.put(bucket, 'site/index.html', 'welcome');
  });
  after(() => ts.close());

  test('an anonymous caller cannot mint a signed URL that keeps reading a key once it is no longer public', async () => {
    const minted = await rawRequest(ts.origin, 'GET', `/storage/v1/${bucket}/get_signed_url/site/index.html?expires_in=604800`);
    const block = { blockPublicAcls: false, ignorePublicAcls: true, blockPublicPolicy: false, restrictPublicBuckets: false };
    assert.equal((await alice.call('PATCH', `/buckets/${bucket}`, { body: { publicAccessBlock: block } })).status, 200);
    assert.equal((await rawRequest(ts.origin, 'GET', `/storage/v1/${bucket}/get/site/index.html`)).status, 401);
    if (minted.status === 200) {
      const url = new URL(minted.text);
      const read = await rawRequest(ts.origin, 'GET', `${url.pathname}${url.search}`);
      assert.notEqual(read.text, 'welcome', 'a URL minted anonymously still reads the key the owner made private');
    }
    assert.equal(minted.status, 401);
    assert.equal(minted.json<{ code: string }>().code, 'MissingToken');
  });
});

describe('a bucket deleted and created again by another user', () => {
  let ts: TestServer;
  let alice: ApiClient;
  let bob: ApiClient;
  let s3Bob: S3Client;

  before(async () => {
    ts = await startTestServer();
    alice = apiClient(ts.origin, await ts.token('alice'));
    bob = apiClient(ts.origin, await ts.token('bob'));
    s3Bob = await s3ClientOf(ts, 'bob');
  });
  after(async () => {
    s3Bob.destroy();
    await ts.close();
  });

  test("an object ACL made in the old bucket gives nothing in the new owner's bucket of that name", async () => {
    const name = `reborn-${randomBytes(4).toString('hex')}`;
    // bob owns the name first, makes k public there, keeps a copy (its attributes travel along),
    // and gives the name up.
    assert.equal((await bob.call('POST', '/buckets', { body: { name } })).status, 201);
    await s3Bob.send(new PutObjectCommand({ Bucket: name, Key: 'k', Body: 'from bob', ACL: 'public-read' }));
    assert.equal((await bob.copy({ source: { type: name, key: 'k' }, destination: { type: 'data', key: 'saved' } })).status, 200);
    assert.equal((await bob.call('DELETE', `/${name}/k`)).status, 204);
    assert.equal((await bob.call('DELETE', `/buckets/${name}`)).status, 204);
    // alice creates the name, lets bob write (not change ACLs), and blocks public ACLs.
    const grants = [{ grantee: { user: 'bob' }, permission: 'WRITE', prefix: '' }];
    assert.equal((await alice.call('POST', '/buckets', { body: { name, grants } })).status, 201);
    const block = { blockPublicAcls: true, ignorePublicAcls: false, blockPublicPolicy: true, restrictPublicBuckets: false };
    assert.equal((await alice.call('PATCH', `/buckets/${name}`, { body: { publicAccessBlock: block } })).status, 200);
    assert.equal((await bob.copy({ source: { type: 'data', key: 'saved' }, destination: { type: name, key: 'k' } })).status, 200);
    // What bob wrote is alice's object, private as every key of her bucket.
    assert.equal((await rawRequest(ts.origin, 'GET', `/storage/v1/${name}/get/k`)).status, 401);
    assert.equal((await rawRequest(ts.origin, 'GET', `/s3/${name}/k`)).status, 403);
  });
});

describe('lifecycle rules of a bucket a prefix is copied into', () => {
  let ts: TestServer;
  let alice: ApiClient;
  let s3Alice: S3Client;

  before(async () => {
    ts = await startTestServer();
    alice = apiClient(ts.origin, await ts.token('alice'));
    s3Alice = await s3ClientOf(ts, 'alice');
  });
  after(async () => {
    s3Alice.destroy();
    await ts.close();
  });

  test('each key copied by a prefix copy expires as the rules covering that key say, as a copy of the key alone does', async () => {
    const bucket = `life-${randomBytes(4).toString('hex')}`;
    assert.equal((await alice.call('POST', '/buckets', { body: { name: bucket } })).status, 201);
    const Rules = [{ ID: 'logs', Status: 'Enabled' as const, Filter: { Prefix: 'logs/' }, Expiration: { Days: 1 } }];
    await s3Alice.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules } }));
    await alice.put('data', 'logs/a', 'a');
    await alice.put('data', 'other/b', 'b');
    const expires = async (key: string) => (await alice.head(bucket, key)).headers['x-stowage-expires-at'];
    assert.equal(
      (await alice.copy({ source: { type: 'data', key: 'logs/a' }, destination: { type: bucket, key: 'logs/one' } })).status,
      200,
    );
    assert.notEqual(await expires('logs/one'), undefined);
    assert.equal((await alice.copy({ source: { type: 'data', prefix: '' }, destination: { type: bucket, prefix: '' } })).status, 200);
    assert.notEqual(await expires('logs/a'), undefined, 'logs/a, copied with its prefix, never expires');
    assert.equal(await expires('other/b'), undefined);
  });
});

describe("an object's ACL changed", () => {
  let ts: TestServer;
  let alice: ApiClient;
  let s3Erin: S3Client;

  before(async () => {
    ts = await startTestServer();
    alice = apiClient(ts.origin, await ts.token('alice'));
    s3Erin = await s3ClientOf(ts, 'erin');
  });
  after(async () => {
    s3Erin.destroy();
    await ts.close();
  });

  test('PutObjectAcl leaves the object as it was: a key that never expired does not start to expire', async () => {
    const bucket = `acl-${randomBytes(4).toString('hex')}`;
    const grants = [{ grantee: { user: 'erin' }, permission: 'WRITE_ACP', prefix: '' }];
    assert.equal((await alice.call('POST', '/buckets', { body: { name: bucket, grants } })).status, 201);
    assert.equal((await alice.put(bucket, 'archive/2019.csv', 'kept for good')).status, 200);
    // A default expiry for what is written from now on.
    assert.equal((await alice.call('PATCH', `/buckets/${bucket}`, { body: { expiryDays: 1 } })).status, 200);
    // erin may change ACLs only: not write, nor delete, yet the change would delete the key tomorrow.
    await s3Erin.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'archive/2019.csv', GrantRead: 'id="bob"' }));
    assert.equal((await alice.head(bucket, 'archive/2019.csv')).headers['x-stowage-expires-at'], undefined);
    ts.clock.advance(2 * 86_400_000);
    const later = apiClient(ts.origin, await ts.token('alice'));
    assert.equal((await later.get(bucket, 'archive/2019.csv')).text, 'kept for good');
  });
});

// The scale-out deployment's index, or (embedded) a server of a PostgreSQL index of its own when
// STOWAGE_TEST_PG_URL names a database: PostgreSQL refuses NUL in text, SQLite takes it.
const pgServer = deployment === 'postgres-s3' || process.env.STOWAGE_TEST_PG_URL !== undefined;

describe('hostile bucket names and page starts reach no index lookup', { skip: pgServer ? false : 'needs PostgreSQL' }, () => {
  let ts: TestServer;
  let schema: PgSchema | undefined;
  let alice: ApiClient;
  const bucket = `nul-${randomBytes(4).toString('hex')}`;

  before(async () => {
    if (deployment === 'postgres-s3') ts = await startTestServer();
    else {
      schema = await freshPgSchema();
      if (!schema) throw new Error('STOWAGE_TEST_PG_URL is unset');
      const index = { kind: 'postgres', url: schema.url, schema: schema.schema, poolSize: 4 } as const;
      ts = await startTestServer({ index, jwtSecret: randomBytes(32).toString('hex') });
    }
    alice = apiClient(ts.origin, await ts.token('alice'));
    assert.equal((await alice.call('POST', '/buckets', { body: { name: bucket } })).status, 201);
  });
  after(async () => {
    await ts.close();
    await schema?.drop();
  });

  test('a bucket name with a NUL byte is NoSuchBucket or InvalidStorageType on every bucket route, never a 500', async () => {
    const name = encodeURIComponent(`${bucket}\u0000x`);
    const share = { grantee: { user: 'bob' }, permission: 'READ' };
    const answers = [
      await alice.call('GET', `/buckets/${name}`),
      await alice.call('PATCH', `/buckets/${name}`, { body: { quotaBytes: 1 } }),
      await alice.call('POST', `/buckets/${name}/share`, { body: share }),
      await alice.call('POST', `/buckets/${name}/unshare`, { body: { grantee: { user: 'bob' } } }),
      await alice.call('DELETE', `/buckets/${name}`),
    ];
    assert.deepEqual(
      answers.map((answer) => answer.status),
      [404, 404, 404, 404, 404],
      answers.map((answer) => answer.text).join('\n'),
    );
    assert.equal((await alice.call('GET', `/buckets/${bucket}`)).json<{ quotaBytes: unknown }>().quotaBytes, null);
  });

  test('GET /buckets?after= with a NUL byte is a 400 or a page, never a 500', async () => {
    const answer = await alice.call('GET', `/buckets?after=${encodeURIComponent('a\u0000')}`);
    assert.ok(answer.status === 200 || answer.status === 400, `${answer.status} ${answer.text}`);
  });
});
