// Guards per-tenant rate limits: a tenant gets its burst, then 429 RateLimited with an integer
// Retry-After ≥ 1 (which the client surfaces as RateLimitError.retryAfter); tokens come back with
// time; one tenant's flood never limits another; signed and upload URLs spend the rate of the
// tenant they name; health routes are not limited; off by default. The
// server runs on a test clock, so time moves only when the test says.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Auth, RateLimitError, Retry, Storage } from 'stowage-client';
import { pythonLikeClient, rawRequest } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('per-tenant rate limits', () => {
  let ts: TestServer;
  let alice: ReturnType<typeof pythonLikeClient>;
  let bob: ReturnType<typeof pythonLikeClient>;
  before(async () => {
    ts = await startTestServer({ rateLimitPerSecond: 2, rateLimitBurst: 4 });
    alice = pythonLikeClient(ts.origin, await ts.token('alice'));
    bob = pythonLikeClient(ts.origin, await ts.token('bob'));
  });
  after(() => ts.close());

  /** Lets every bucket fill up again. */
  const refill = () => ts.clock.advance(60_000);

  test('the burst passes, the next request is 429 RateLimited with Retry-After, and time brings tokens back', async () => {
    refill();
    for (let i = 0; i < 4; i++) assert.equal((await alice.get('/data/list')).status, 200, `request ${i + 1} of the burst`);
    const limited = await alice.get('/data/list');
    assert.equal(limited.status, 429);
    assert.equal(limited.json<{ code: string }>().code, 'RateLimited');
    const retryAfter = Number(limited.headers['retry-after']);
    assert.ok(Number.isInteger(retryAfter) && retryAfter >= 1, `Retry-After ${limited.headers['retry-after']}`);

    assert.equal((await bob.get('/data/list')).status, 200, 'another tenant is not limited by alice');

    ts.clock.advance(retryAfter * 1000);
    assert.equal((await alice.get('/data/list')).status, 200, 'after Retry-After a request passes');
    assert.equal((await alice.get('/data/list')).status, 200, 'two per second: a second one too');
    assert.equal((await alice.get('/data/list')).status, 429);
  });

  test('a refused request stores nothing', async () => {
    refill();
    for (let i = 0; i < 4; i++) await alice.put(`/data/set/k${i}`, 'v');
    assert.equal((await alice.put('/data/set/refused', 'v')).status, 429);
    refill();
    assert.equal((await alice.get('/data/get/refused')).status, 404);
  });

  test('signed and upload URLs spend the rate of the tenant they name', async () => {
    refill();
    await alice.put('/data/set/shared', 'hello');
    const signed = (await alice.get('/data/get_signed_url/shared')).text;
    const upload = new URL((await alice.get('/data/new_resumable_url/uploaded')).text);
    refill();
    // Alice's four tokens: three downloads and the upload, then the URLs are refused.
    for (let i = 0; i < 3; i++) assert.equal((await fetch(signed)).status, 200);
    assert.equal((await rawRequest(ts.origin, 'PUT', upload.pathname + upload.search, { body: 'up' })).status, 200);
    const refused = await fetch(signed);
    assert.equal(refused.status, 429);
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.equal((await bob.get('/data/list')).status, 200, 'bob does not pay for alice’s URLs');
  });

  test('health routes are never limited', async () => {
    refill();
    for (let i = 0; i < 5; i++) await alice.get('/data/list');
    for (let i = 0; i < 10; i++) assert.equal((await fetch(`${ts.origin}/healthz`)).status, 200);
  });

  test('the client reports it as RateLimitError with retryAfter', async () => {
    refill();
    const storage = new Storage({ url: ts.url, auth: new Auth({ token: await ts.token('carol') }), retries: Retry.none() });
    try {
      for (let i = 0; i < 4; i++) await storage.list('', 'data');
      await assert.rejects(storage.list('', 'data'), (error: unknown) => {
        assert.ok(error instanceof RateLimitError);
        assert.ok((error.retryAfter ?? 0) >= 1);
        return true;
      });
    } finally {
      await storage.close();
    }
  });
});

describe('rate limits off (the default)', () => {
  test('many requests in no time are all served', async () => {
    const ts = await startTestServer();
    try {
      const client = pythonLikeClient(ts.origin, await ts.token('alice'));
      const statuses = await Promise.all(Array.from({ length: 50 }, () => client.get('/data/list')));
      assert.ok(statuses.every((response) => response.status === 200));
    } finally {
      await ts.close();
    }
  });
});
