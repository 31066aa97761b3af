// A named bucket's rules under concurrent writes, on whichever deployment the suite runs: its
// byte quota (checked in each write's transaction, whoever writes), its default expiry and its
// lifecycle rules by prefix, and writes racing with the bucket's deletion.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  GetBucketLifecycleConfigurationCommand,
  PutBucketLifecycleConfigurationCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { type ApiClient, apiClient } from './helpers/api-client.js';
import { s3ClientOf } from './helpers/s3-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const DAY = 86_400_000;

describe('per-bucket rules', () => {
  let ts: TestServer;
  let alice: ApiClient;
  let bob: ApiClient;
  let s3: S3Client;
  const unique = (name: string) => `${name}-${randomBytes(4).toString('hex')}`;

  before(async () => {
    ts = await startTestServer();
    alice = apiClient(ts.origin, await ts.token('alice', 30 * DAY)); // the clock moves days ahead
    bob = apiClient(ts.origin, await ts.token('bob', 30 * DAY));
    s3 = await s3ClientOf(ts, 'alice');
  });
  after(async () => {
    s3.destroy();
    await ts.close();
  });

  test('the byte quota holds under concurrent writes by the owner and a grantee; nothing refused is stored', async () => {
    const bucket = unique('quota');
    const grants = [{ grantee: { user: 'bob' }, permission: 'WRITE', prefix: '' }];
    assert.equal((await alice.call('POST', '/buckets', { body: { name: bucket, quotaBytes: 10_000, grants } })).status, 201);
    const body = Buffer.alloc(1000, 1);
    const answers = await Promise.all(Array.from({ length: 30 }, (_, i) => (i % 2 === 0 ? alice : bob).put(bucket, `k/${i}`, body)));
    const stored = answers.filter((answer) => answer.status === 200).length;
    const refused = answers.filter((answer) => answer.status === 403);
    assert.equal(stored, 10);
    assert.equal(refused.length, 20);
    for (const answer of refused) assert.equal(answer.json<{ code: string }>().code, 'QuotaExceeded');
    const info = (await alice.call('GET', `/buckets/${bucket}`)).json<{ bytes: number; objects: number }>();
    assert.deepEqual({ bytes: info.bytes, objects: info.objects }, { bytes: 10_000, objects: 10 });
    assert.equal((await alice.keys(bucket, 'k/')).length, 10);
    // Shrinking is always allowed, and makes room again: a key that was stored (which ten won the race varies).
    const storedKey = `k/${answers.findIndex((answer) => answer.status === 200)}`;
    assert.equal((await alice.put(bucket, storedKey, 'small')).status, 200);
    assert.equal((await bob.put(bucket, 'k/new', Buffer.alloc(995))).status, 200);
    assert.equal((await bob.put(bucket, 'k/over', 'x')).status, 403);
    // The owner's own quota counts the bucket's bytes as hers.
    const usage = (await alice.call('GET', '/usage')).json<{ bytes: number }>();
    assert.ok(usage.bytes >= 10_000, `alice's usage ${usage.bytes}`);
  });

  test('a default expiry gives every key written its lifetime; expired keys are gone', async () => {
    const bucket = unique('expiry');
    assert.equal((await alice.call('POST', '/buckets', { body: { name: bucket, expiryDays: 2 } })).status, 201);
    const written = ts.clock.now();
    await Promise.all(Array.from({ length: 8 }, (_, i) => alice.put(bucket, `e/${i}`, `v${i}`)));
    const head = await alice.head(bucket, 'e/3');
    assert.equal(Date.parse(String(head.headers['x-stowage-expires-at'])), Math.floor((written + 2 * DAY) / 1000) * 1000);
    // Through an upload URL too, whose PUT no lookup of the bucket authorizes (the URL is the credential).
    const uploadUrl = (await alice.call('GET', `/${bucket}/new_resumable_url/e/uploaded`)).text;
    assert.equal((await fetch(uploadUrl, { method: 'PUT', body: 'by url' })).status, 200);
    const uploaded = await alice.head(bucket, 'e/uploaded');
    assert.equal(Date.parse(String(uploaded.headers['x-stowage-expires-at'])), Math.floor((written + 2 * DAY) / 1000) * 1000);
    // Turned off, the rule no longer applies to what is written next; what was written keeps its expiry.
    assert.equal((await alice.call('PATCH', `/buckets/${bucket}`, { body: { expiryDays: null } })).status, 200);
    await alice.put(bucket, 'kept', 'forever');
    assert.equal((await alice.head(bucket, 'kept')).headers['x-stowage-expires-at'], undefined);
    ts.clock.advance(2 * DAY + 1000);
    assert.equal((await alice.get(bucket, 'e/3')).status, 404);
    assert.equal((await alice.get(bucket, 'e/uploaded')).status, 404);
    assert.deepEqual(await alice.keys(bucket, ''), ['kept']);
  });

  test('S3 lifecycle rules by prefix: the earliest expiry of the rules covering a key wins; Disabled rules do nothing', async () => {
    const bucket = unique('lifecycle');
    assert.equal((await alice.call('POST', '/buckets', { body: { name: bucket } })).status, 201);
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: {
          Rules: [
            { ID: 'logs', Status: 'Enabled', Filter: { Prefix: 'logs/' }, Expiration: { Days: 7 } },
            { ID: 'debug', Status: 'Enabled', Filter: { Prefix: 'logs/debug/' }, Expiration: { Days: 1 } },
            { ID: 'off', Status: 'Disabled', Filter: { Prefix: 'keep/' }, Expiration: { Days: 1 } },
          ],
        },
      }),
    );
    const now = ts.clock.now();
    for (const key of ['logs/a', 'logs/debug/b', 'keep/c', 'other/d'])
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
    const expiry = async (key: string) => {
      const value = (await alice.head(bucket, key)).headers['x-stowage-expires-at'];
      return value === undefined ? undefined : Date.parse(String(value));
    };
    const second = (ms: number) => Math.floor(ms / 1000) * 1000;
    assert.equal(await expiry('logs/a'), second(now + 7 * DAY));
    assert.equal(await expiry('logs/debug/b'), second(now + DAY));
    assert.equal(await expiry('keep/c'), undefined);
    assert.equal(await expiry('other/d'), undefined);
  });

  test('storage API v1’s expiryDays changes its own rule’s days and keeps the actions an S3 client gave that rule', async () => {
    const bucket = unique('v1-rule');
    assert.equal((await alice.call('POST', '/buckets', { body: { name: bucket, expiryDays: 5 } })).status, 201);
    const rules = async () => (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }))).Rules ?? [];
    const [own] = await rules();
    assert.ok(own?.ID);
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: bucket,
        LifecycleConfiguration: {
          Rules: [
            {
              ID: own.ID,
              Status: 'Enabled',
              Filter: { Prefix: '' },
              Expiration: { Days: 5 },
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
            },
          ],
        },
      }),
    );
    assert.equal((await alice.call('PATCH', `/buckets/${bucket}`, { body: { expiryDays: 9 } })).status, 200);
    assert.deepEqual(
      (await rules()).map((rule) => [rule.ID, rule.Expiration?.Days, rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation]),
      [[own.ID, 9, 2]],
    );
    assert.equal((await alice.call('PATCH', `/buckets/${bucket}`, { body: { expiryDays: null } })).status, 200);
    assert.deepEqual(
      (await rules()).map((rule) => [rule.ID, rule.Expiration, rule.AbortIncompleteMultipartUpload?.DaysAfterInitiation]),
      [[own.ID, undefined, 2]],
      'no expiry any more; the upload rule stays',
    );
  });

  test('writes racing with the deletion of their bucket: each lands (and the deletion is refused) or fails NoSuchBucket', async () => {
    for (let round = 0; round < 5; round++) {
      const bucket = unique('race');
      assert.equal((await alice.call('POST', '/buckets', { body: { name: bucket } })).status, 201);
      const [removal, ...writes] = await Promise.all([
        alice.call('DELETE', `/buckets/${bucket}`),
        ...Array.from({ length: 6 }, (_, i) => alice.put(bucket, `w/${i}`, 'x')),
      ]);
      const landed = writes.filter((write) => write.status === 200).length;
      for (const write of writes)
        if (write.status !== 200) assert.equal(write.json<{ code: string }>().code, 'NoSuchBucket', `round ${round}`);
      if (removal?.status === 204) {
        assert.equal(landed, 0, `round ${round}: the bucket was deleted, yet ${landed} writes landed`);
        assert.equal((await alice.call('GET', `/buckets/${bucket}`)).status, 404);
      } else {
        assert.equal(removal?.status, 409, `round ${round}`);
        assert.ok(landed > 0);
        assert.equal((await alice.keys(bucket, '')).length, landed);
      }
    }
  });
});
