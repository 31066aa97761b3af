// Guards what the server answers when its S3 blob store is full or hangs (docs/deploy.md, "When
// PostgreSQL or S3 is down"). The blob store is a small loopback S3 endpoint that misbehaves on
// purpose, the index the deployment's own. A store that never answers costs a request
// STOWAGE_BLOB_TIMEOUT once, retries and clean-up included, then 503 StorageUnavailable; a store
// that says it is full (507, or 403 QuotaExceeded past its own quota) is 507 InsufficientStorage
// at once. Either way nothing is stored, no request is left open on the store, and the server
// keeps serving, and serves the store again as soon as it answers.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type ApiClient, apiClient } from './helpers/api-client.js';
import { type FakeS3Store, startFakeS3Store } from './helpers/fake-s3-store.js';
import type { RawResponse } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const MiB = 1024 * 1024;
const TIMEOUT_MS = 1500;

/** The answer and how long it took. */
async function timed(request: Promise<RawResponse>): Promise<{ answer: RawResponse; ms: number }> {
  const started = Date.now();
  const answer = await request;
  return { answer, ms: Date.now() - started };
}

/** Asserts an answer's status and stable code. */
function assertError(answer: RawResponse, status: number, code: string): void {
  assert.equal(answer.status, status, answer.text);
  assert.equal(answer.json<{ code: string }>().code, code, answer.text);
}

describe('a server whose S3 blob store is full or hangs', () => {
  let store: FakeS3Store;
  let ts: TestServer;
  let api: ApiClient;

  before(async () => {
    store = await startFakeS3Store();
    ts = await startTestServer({ blobs: store.blobs, blobTimeoutMs: TIMEOUT_MS });
    api = apiClient(ts.origin, await ts.token('alice'));
  });
  after(async () => {
    await ts.close();
    await store.close();
  });

  /** Small values live in the index: the server keeps storing and serving them whatever the store does. */
  const assertServing = async (key: string) => {
    assert.equal((await api.put('data', key, 'small, kept in the index')).status, 200);
    assert.equal((await api.get('data', key)).text, 'small, kept in the index');
    assert.equal((await fetch(`${ts.origin}/healthz`)).status, 200);
  };

  test('a store that never answers: 503 StorageUnavailable after STOWAGE_BLOB_TIMEOUT, once; nothing stored, nothing left open', async () => {
    const kept = randomBytes(MiB);
    store.mode = 'ok';
    assert.equal((await api.put('data', 'hang/kept', kept)).status, 200);
    const heldBefore = new Set(store.objects.keys());

    store.mode = 'hang';
    const attempts = {
      'PUT of 1 MiB (one PutObject)': () => api.put('data', 'hang/small', randomBytes(MiB)),
      'PUT of 20 MiB (a multipart upload)': () => api.put('data', 'hang/large', randomBytes(20 * MiB)),
      'GET of a stored object': () => api.get('data', 'hang/kept'),
    };
    for (const [what, attempt] of Object.entries(attempts)) {
      const { answer, ms } = await timed(attempt());
      assertError(answer, 503, 'StorageUnavailable');
      assert.equal(answer.headers['retry-after'], '2', what);
      // One timeout, not one per attempt of the SDK nor another for a clean-up request.
      assert.ok(ms >= TIMEOUT_MS - 100 && ms < 2 * TIMEOUT_MS - 100, `${what}: answered after ${ms} ms`);
    }
    await assertServing('hang/inline');
    assertError(await api.get('data', 'hang/small'), 404, 'NoSuchKey');
    assertError(await api.get('data', 'hang/large'), 404, 'NoSuchKey');

    // Every request the store left unanswered (clean-ups included) was given up within its timeout.
    const deadline = Date.now() + 3 * TIMEOUT_MS;
    while (store.unanswered() > 0) {
      assert.ok(Date.now() < deadline, `${store.unanswered()} requests still open on the store`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    store.mode = 'ok';
    assert.deepEqual(new Set(store.objects.keys()), heldBefore, 'nothing new was stored');
    const read = await api.get('data', 'hang/kept');
    assert.equal(read.status, 200);
    assert.ok(read.body.equals(kept));
    assert.equal((await api.put('data', 'hang/after', randomBytes(MiB))).status, 200);
  });

  for (const [mode, answered] of [
    ['full', '507 InsufficientStorage'],
    ['quota', '403 QuotaExceeded'],
  ] as const) {
    test(`a store that answers ${answered}: 507 InsufficientStorage at once, on both APIs; nothing stored`, async () => {
      store.mode = mode;
      const held = store.objects.size;
      const { answer, ms } = await timed(api.put('data', `${mode}/big`, randomBytes(MiB)));
      assertError(answer, 507, 'InsufficientStorage');
      assert.ok(ms < TIMEOUT_MS, `answered after ${ms} ms`);

      const key = await ts.server.createApiKey('alice');
      const s3 = new S3Client({
        endpoint: `${ts.origin}/s3`,
        region: 'us-east-1',
        forcePathStyle: true,
        credentials: { accessKeyId: key.clientId, secretAccessKey: key.secret },
        maxAttempts: 1,
      });
      try {
        await assert.rejects(s3.send(new PutObjectCommand({ Bucket: 'data', Key: `${mode}/s3`, Body: randomBytes(MiB) })), (error) => {
          const e = error as Error & { Code?: string; $metadata?: { httpStatusCode?: number } };
          assert.deepEqual([e.Code ?? e.name, e.$metadata?.httpStatusCode], ['InsufficientStorage', 507]);
          return true;
        });
      } finally {
        s3.destroy();
      }
      assertError(await api.get('data', `${mode}/big`), 404, 'NoSuchKey');
      assertError(await api.get('data', `${mode}/s3`), 404, 'NoSuchKey');
      assert.equal(store.objects.size, held);
      await assertServing(`${mode}/inline`);
      store.mode = 'ok';
      assert.equal((await api.put('data', `${mode}/after`, randomBytes(MiB))).status, 200);
    });
  }
});
