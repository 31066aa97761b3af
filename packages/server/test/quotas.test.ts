// Guards per-tenant byte quotas: a write that would take a tenant past its quota is a 403
// QuotaExceeded that stores nothing and leaves no blob (whole bodies, chunked bodies, resumable
// uploads); a declared Content-Length over it is refused before the body is read; overwrites
// count the difference; concurrent writers cannot both take the last bytes; deletes and the
// sweeper give bytes back; `stowage quota set` applies to a running server; GET /usage tells a
// tenant its own numbers; data directories made before usage was tracked get it from their
// objects; fsck finds and repairs usage that drifted, a named bucket's too.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import Sqlite from 'better-sqlite3';
import { Auth, Storage } from 'stowage-client';
import { fsck, setTenantQuota, showTenantQuota } from '../src/admin.js';
import { SqliteIndex } from '../src/backends/fs/sqlite-index.js';
import { ATTRIBUTE_LAYOUT } from '../src/storage/object-attributes.js';
import { embeddedOnly } from './helpers/deployment.js';
import { pythonLikeClient, rawRequest } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const QUOTA = 100_000;

async function blobCount(ts: TestServer): Promise<number> {
  return (await ts.files()).blobs.length;
}

describe('per-tenant byte quotas', () => {
  let ts: TestServer;
  let alice: ReturnType<typeof pythonLikeClient>;
  let aliceToken: string;
  const usage = (tenant = 'alice') => ts.server.context.objects.usage(tenant);

  before(async () => {
    ts = await startTestServer({ quotaBytes: QUOTA });
    aliceToken = await ts.token('alice');
    alice = pythonLikeClient(ts.origin, aliceToken);
  });
  after(() => ts.close());

  test('writes up to the quota succeed; the one past it is 403 QuotaExceeded and stores nothing', async () => {
    assert.equal((await alice.put('/data/set/a', Buffer.alloc(60_000))).status, 200);
    assert.deepEqual(await usage(), { tenant: 'alice', bytes: 60_000, objects: 1, pendingUploadBytes: 0, quotaBytes: QUOTA });
    const blobsBefore = await blobCount(ts);

    const refused = await alice.put('/data/set/b', Buffer.alloc(50_000));
    assert.equal(refused.status, 403);
    assert.equal(refused.json<{ code: string }>().code, 'QuotaExceeded');
    assert.equal((await alice.get('/data/get/b')).status, 404);
    assert.equal((await usage()).bytes, 60_000);
    assert.equal(await blobCount(ts), blobsBefore, 'no blob of the refused write remains');

    // A chunked body has no Content-Length: it is refused when it commits, and its blob removed.
    const chunked = await rawRequest(ts.origin, 'PUT', '/storage/v1/data/set/b', {
      headers: { authorization: `Bearer ${aliceToken}`, 'transfer-encoding': 'chunked' },
      body: Buffer.alloc(50_000),
    });
    assert.equal(chunked.status, 403);
    assert.equal(chunked.json<{ code: string }>().code, 'QuotaExceeded');
    assert.equal(await blobCount(ts), blobsBefore);
    assert.equal((await usage()).objects, 1);
  });

  test('an overwrite counts the difference; a delete gives the bytes back', async () => {
    // 60 000 stored: growing `a` to 90 000 adds 30 000, which fits; a new 90 000 would not.
    assert.equal((await alice.put('/data/set/a', Buffer.alloc(90_000))).status, 200);
    assert.deepEqual(await usage(), { tenant: 'alice', bytes: 90_000, objects: 1, pendingUploadBytes: 0, quotaBytes: QUOTA });
    assert.equal((await alice.put('/data/set/c', Buffer.alloc(20_000))).status, 403);
    assert.equal((await alice.put('/data/set/a', Buffer.alloc(10))).status, 200);
    assert.equal((await usage()).bytes, 10);
    assert.equal((await alice.put('/data/set/c', Buffer.alloc(20_000))).status, 200);
    assert.equal((await alice.delete('/data/c')).status, 204);
    assert.deepEqual(await usage(), { tenant: 'alice', bytes: 10, objects: 1, pendingUploadBytes: 0, quotaBytes: QUOTA });
  });

  test('a declared Content-Length over the quota is refused before any of the body is sent', async () => {
    const { hostname, port } = new URL(ts.origin);
    const response = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const request = http.request(
        {
          hostname,
          port,
          method: 'PUT',
          path: '/storage/v1/data/set/huge',
          headers: { authorization: `Bearer ${aliceToken}`, 'content-length': 10 * QUOTA },
          agent: false,
        },
        (res) => {
          let body = '';
          res.on('data', (chunk) => {
            body += chunk;
          });
          res.on('end', () => {
            resolve({ status: res.statusCode ?? 0, body });
            request.destroy();
          });
        },
      );
      request.on('error', reject);
      // Headers only: the answer can come only from the declared length.
      request.flushHeaders();
    });
    assert.equal(response.status, 403);
    assert.equal(JSON.parse(response.body).code, 'QuotaExceeded');
    assert.equal((await alice.get('/data/get/huge')).status, 404);
  });

  test('concurrent writers cannot both take the last bytes of the quota', async () => {
    const racer = pythonLikeClient(ts.origin, await ts.token('racer'));
    const results = await Promise.all(Array.from({ length: 6 }, (_, i) => racer.put(`/data/set/race-${i}`, Buffer.alloc(30_000, i))));
    const stored = results.filter((response) => response.status === 200).length;
    assert.equal(stored, 3, 'three of 30 000 bytes fit in 100 000');
    assert.ok(results.every((response) => response.status === 200 || response.json<{ code: string }>().code === 'QuotaExceeded'));
    assert.deepEqual(await usage('racer'), { tenant: 'racer', bytes: 90_000, objects: 3, pendingUploadBytes: 0, quotaBytes: QUOTA });
  });

  test('upload URLs: a declared total over the quota is refused before its bytes; a chunked whole body at its commit', async () => {
    const bob = pythonLikeClient(ts.origin, await ts.token('bob'));
    assert.equal((await bob.put('/data/set/filler', Buffer.alloc(50_000))).status, 200);
    const url = new URL((await bob.get('/data/new_resumable_url/big.bin')).text);
    const put = (body: Buffer | undefined, headers: http.OutgoingHttpHeaders) =>
      rawRequest(ts.origin, 'PUT', url.pathname + url.search, { headers, body });
    assert.equal((await put(Buffer.alloc(40_000, 1), { 'content-range': 'bytes 0-39999/*' })).status, 308);
    const blobsBefore = await blobCount(ts);
    const last = await put(Buffer.alloc(20_000, 2), { 'content-range': 'bytes 40000-59999/60000' });
    assert.equal(last.status, 403);
    assert.equal(last.json<{ code: string }>().code, 'QuotaExceeded');
    assert.equal(await blobCount(ts), blobsBefore, 'nothing was stored');
    assert.equal((await bob.get('/data/get/big.bin')).status, 404);

    // Room made, the same upload goes on where it stood.
    assert.equal((await bob.delete('/data/filler')).status, 204);
    assert.equal((await put(Buffer.alloc(20_000, 2), { 'content-range': 'bytes 40000-59999/60000' })).status, 200);
    assert.deepEqual(await usage('bob'), { tenant: 'bob', bytes: 60_000, objects: 1, pendingUploadBytes: 0, quotaBytes: QUOTA });

    const other = new URL((await bob.get('/data/new_resumable_url/other.bin')).text);
    const chunked = await rawRequest(ts.origin, 'PUT', other.pathname + other.search, {
      headers: { 'transfer-encoding': 'chunked' },
      body: Buffer.alloc(50_000),
    });
    assert.equal(chunked.status, 403);
    assert.equal(chunked.json<{ code: string }>().code, 'QuotaExceeded');
    assert.equal((await bob.get('/data/get/other.bin')).status, 404);
    assert.equal((await usage('bob')).bytes, 60_000);
  });

  test('bytes held by unfinished resumable uploads count against the quota as their chunks arrive', async () => {
    const ts = await startTestServer({ quotaBytes: 20_000 });
    try {
      const heidi = pythonLikeClient(ts.origin, await ts.token('heidi'));
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const url = new URL((await heidi.get(`/data/new_resumable_url/open-${i}`)).text);
        const chunk = await rawRequest(ts.origin, 'PUT', url.pathname + url.search, {
          headers: { 'content-range': 'bytes 0-8999/*' },
          body: Buffer.alloc(9000),
        });
        statuses.push(chunk.status);
        if (chunk.status !== 308) assert.equal(chunk.json<{ code: string }>().code, 'QuotaExceeded');
      }
      assert.deepEqual(statuses, [308, 308, 403, 403], 'two open uploads fit, the third would pass the quota');
      const report = (await heidi.get('/usage')).json<{ bytes: number; pendingUploadBytes: number }>();
      assert.deepEqual([report.bytes, report.pendingUploadBytes], [0, 18_000]);
      assert.equal((await heidi.put('/data/set/small', Buffer.alloc(1000))).status, 200, 'room left is still usable');
    } finally {
      await ts.close();
    }
  });

  test('stowage quota set applies to the running server at once; default follows STOWAGE_QUOTA again', async () => {
    const carol = pythonLikeClient(ts.origin, await ts.token('carol'));
    const config = ts.server.context.config;
    assert.equal((await setTenantQuota(config, 'carol', 1000)).quotaBytes, 1000);
    assert.equal((await carol.put('/data/set/x', Buffer.alloc(2000))).status, 403);
    await setTenantQuota(config, 'carol', null);
    assert.equal((await carol.put('/data/set/x', Buffer.alloc(QUOTA + 1))).status, 200, 'unlimited');
    const lowered = await setTenantQuota(config, 'carol', 'default');
    assert.deepEqual(lowered, {
      tenant: 'carol',
      bytes: QUOTA + 1,
      objects: 1,
      pendingUploadBytes: 0,
      quotaBytes: QUOTA,
      quotaSource: 'default',
    });
    // Over a lowered quota a tenant can still shrink and delete, not grow.
    assert.equal((await carol.put('/data/set/y', Buffer.alloc(1))).status, 403);
    assert.equal((await carol.put('/data/set/x', Buffer.alloc(5))).status, 200);
    assert.equal((await showTenantQuota(config, 'carol')).bytes, 5);
  });

  test('expired objects count until the sweeper removes them', async () => {
    const dave = pythonLikeClient(ts.origin, await ts.token('dave'));
    assert.equal((await dave.put('/tmp/set/scratch', Buffer.alloc(70_000))).status, 200);
    ts.clock.advance(25 * 3_600_000);
    assert.equal((await usage('dave')).bytes, 70_000);
    await ts.server.context.objects.sweep();
    assert.deepEqual(await usage('dave'), { tenant: 'dave', bytes: 0, objects: 0, pendingUploadBytes: 0, quotaBytes: QUOTA });
  });
});

describe('GET /storage/v1/usage', () => {
  test('answers the caller its own usage, quota and rate limit; without a token it is 401', async () => {
    const ts = await startTestServer({ quotaBytes: 5000, rateLimitPerSecond: 50, rateLimitBurst: 100 });
    try {
      const frank = pythonLikeClient(ts.origin, await ts.token('frank'));
      await frank.put('/data/set/a', Buffer.alloc(1000));
      await frank.put('/tmp/set/b', Buffer.alloc(24));
      await pythonLikeClient(ts.origin, await ts.token('grace')).put('/data/set/a', Buffer.alloc(4000));
      const response = await frank.get('/usage');
      assert.equal(response.status, 200);
      assert.deepEqual(response.json(), {
        tenant: 'frank',
        bytes: 1024,
        objects: 2,
        pendingUploadBytes: 0,
        quotaBytes: 5000,
        retainedBytes: 0,
        rateLimit: { requestsPerSecond: 50, burst: 100 },
      });
      const storage = new Storage({ url: ts.url, auth: new Auth({ token: await ts.token('grace') }) });
      try {
        assert.deepEqual(await storage.usage(), {
          tenant: 'grace',
          bytes: 4000,
          objects: 1,
          pendingUploadBytes: 0,
          quotaBytes: 5000,
          retainedBytes: 0,
          rateLimit: { requestsPerSecond: 50, burst: 100 },
        });
      } finally {
        await storage.close();
      }
      assert.equal((await rawRequest(ts.origin, 'GET', '/storage/v1/usage')).status, 401);
    } finally {
      await ts.close();
    }
  });

  test('unlimited quota and no rate limit are null', async () => {
    const ts = await startTestServer();
    try {
      const response = await pythonLikeClient(ts.origin, await ts.token('henry')).get('/usage');
      assert.deepEqual(response.json(), {
        tenant: 'henry',
        bytes: 0,
        objects: 0,
        pendingUploadBytes: 0,
        quotaBytes: null,
        retainedBytes: 0,
        rateLimit: null,
      });
    } finally {
      await ts.close();
    }
  });

  test('with retention, replaced and deleted values are retainedBytes, not usage: the quota does not count them', async () => {
    const ts = await startTestServer({ quotaBytes: 50_000, retentionMs: 7 * 86_400_000 });
    try {
      const ivy = pythonLikeClient(ts.origin, await ts.token('ivy', 30 * 86_400_000));
      assert.equal((await ivy.put('/data/set/a', Buffer.alloc(40_000, 1))).status, 200);
      assert.equal((await ivy.put('/data/set/a', Buffer.alloc(40_000, 2))).status, 200, 'the kept version is not charged');
      assert.equal((await ivy.delete('/data/a')).status, 204);
      assert.equal((await ivy.put('/data/set/b', Buffer.alloc(45_000, 3))).status, 200);
      const report = (await ivy.get('/usage')).json() as { bytes: number; retainedBytes: number };
      assert.deepEqual([report.bytes, report.retainedBytes], [45_000, 80_000]);
      ts.clock.advance(8 * 86_400_000);
      await ts.server.context.objects.sweep();
      assert.equal(((await ivy.get('/usage')).json() as { retainedBytes: number }).retainedBytes, 0, 'purged after the window');
    } finally {
      await ts.close();
    }
  });
});

describe('usage of a data directory', () => {
  test('made before usage was tracked: filled from its objects on start; fsck finds and repairs drift', {
    skip: embeddedOnly,
  }, async () => {
    const first = await startTestServer();
    const dataDir = first.dataDir;
    const eve = pythonLikeClient(first.origin, await first.token('eve'));
    await eve.put('/data/set/one', Buffer.alloc(1234));
    await eve.put('/result/set/two', Buffer.alloc(20_000));
    await first.server.close();

    const db = new Sqlite(path.join(dataDir, 'index.sqlite'));
    db.exec('DROP TABLE usage');
    db.close();
    const second = await startTestServer({}, { dataDir });
    try {
      assert.deepEqual(await second.server.context.objects.usage('eve'), {
        tenant: 'eve',
        bytes: 21_234,
        objects: 2,
        pendingUploadBytes: 0,
        quotaBytes: null,
      });
      assert.equal((await fsck({ dataDir })).findings.length, 0, 'usage agrees with the objects');
    } finally {
      await second.server.close();
    }

    const tamper = new Sqlite(path.join(dataDir, 'index.sqlite'));
    tamper.prepare("UPDATE usage SET bytes = 5 WHERE tenant = 'eve'").run();
    tamper.prepare("INSERT INTO usage (tenant, bytes, objects) VALUES ('ghost', 10, 1)").run();
    tamper.close();
    const report = await fsck({ dataDir });
    assert.deepEqual(report.findings.map((finding) => finding.kind).sort(), ['usage-drift', 'usage-drift']);
    assert.match(report.findings.find((finding) => finding.message.includes('"eve"'))?.message ?? '', /5 bytes.*21234 bytes/);

    const repaired = await fsck({ dataDir, repair: true });
    assert.equal(repaired.summary.unresolved, 0);
    const after = await fsck({ dataDir });
    assert.equal(after.findings.length, 0);
    const config = second.server.context.config;
    assert.deepEqual(await showTenantQuota(config, 'eve'), {
      tenant: 'eve',
      bytes: 21_234,
      objects: 2,
      pendingUploadBytes: 0,
      quotaBytes: null,
      quotaSource: 'default',
    });
    assert.equal((await showTenantQuota(config, 'ghost')).objects, 0);
    await rm(dataDir, { recursive: true, force: true });
  });

  test("a named bucket's bytes and objects: fsck finds drift and recomputes them; a dropped row is taken off its bucket", async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'stowage-bucket-usage-'));
    const open = () =>
      SqliteIndex.open({
        file: path.join(dataDir, 'index.sqlite'),
        durability: 'process',
        defaultQuotaBytes: null,
        attributeLayout: ATTRIBUTE_LAYOUT,
      });
    const row = (size: number, blobId: string | null) => ({
      size,
      sha256: createHash('sha256').update(Buffer.alloc(size)).digest('hex'),
      contentType: 'application/octet-stream',
      lastModified: 1,
      expiresAt: null,
      blobId,
      inline: blobId ? null : Buffer.alloc(size),
      attributes: null,
    });
    const write = async (key: string, value: ReturnType<typeof row>) => {
      const index = await open();
      try {
        await index.put({ ref: { tenant: 'eve', type: 'logs', key }, row: value, condition: undefined, now: 1, collectAfter: 1 });
      } finally {
        await index.close();
      }
    };
    const bucketUsage = async () => {
      const index = await open();
      try {
        const found = await index.buckets.find('logs');
        return [found?.bytes, found?.objects];
      } finally {
        await index.close();
      }
    };
    try {
      const index = await open();
      await index.buckets.create({ name: 'logs', owner: 'eve', createdAt: 1, quotaBytes: null, settings: '{}', grantees: [] });
      await index.close();
      await write('a', row(10, null));
      await write('b', row(20, null));
      assert.deepEqual(await bucketUsage(), [30, 2]);
      assert.equal((await fsck({ dataDir })).findings.length, 0);

      const tamper = new Sqlite(path.join(dataDir, 'index.sqlite'));
      tamper.prepare("UPDATE buckets SET bytes = 7, objects = 9 WHERE name = 'logs'").run();
      tamper.close();
      const report = await fsck({ dataDir });
      assert.deepEqual(
        report.findings.map((finding) => finding.kind),
        ['usage-drift'],
      );
      assert.match(report.findings[0]?.message ?? '', /bucket logs .*7 bytes in 9 objects.*30 bytes in 2/);
      assert.equal((await fsck({ dataDir, repair: true })).summary.unresolved, 0);
      assert.deepEqual(await bucketUsage(), [30, 2]);

      // A row whose blob is missing, dropped on request: its bucket stops counting it.
      await write('c', row(50, 'no-such-blob'));
      assert.deepEqual(await bucketUsage(), [80, 3]);
      await fsck({ dataDir, repair: true, dropMissing: true });
      assert.deepEqual(await bucketUsage(), [30, 2]);
      assert.equal((await fsck({ dataDir })).findings.length, 0);
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });
});
