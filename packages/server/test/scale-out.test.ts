// Two `stowage serve` processes over one PostgreSQL schema and one bucket prefix behave as one
// service: what one writes the other reads, lists and deletes at once; a resumable upload moves
// between them chunk by chunk; conditional writes split across both have exactly one winner; and
// the sweeper and the garbage collector running on both lose nothing and leave no orphan blob.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import pg from 'pg';
import { freshNamespace, type StorageNamespace } from './helpers/deployment.js';
import { rawRequest } from './helpers/raw-http.js';
import { runCli, type ServerProcess, startServerProcess } from './helpers/server-process.js';

const MIB = 1024 * 1024;
const skip = process.env.STOWAGE_TEST_PG_URL && process.env.STOWAGE_TEST_S3_ENDPOINT ? false : 'needs PostgreSQL and S3 (scripts/test.sh)';

describe('two servers over one PostgreSQL index and one bucket', { skip }, () => {
  let namespace: StorageNamespace;
  let dirs: string[];
  let servers: ServerProcess[];
  let auth: Record<string, string>;

  before(async () => {
    namespace = await freshNamespace('postgres-s3');
    dirs = [await mkdtemp(path.join(tmpdir(), 'stowage-a-')), await mkdtemp(path.join(tmpdir(), 'stowage-b-'))];
    // Short tmp lifetime and sweep interval, and no grace for replaced or orphan blobs, so the
    // background work of both servers runs many times within the test.
    const env = {
      ...namespace.env,
      STOWAGE_TMP_TTL: '2s',
      STOWAGE_SWEEP_INTERVAL: '300ms',
      STOWAGE_REPLACED_BLOB_GRACE: '0s',
      STOWAGE_ORPHAN_GRACE: '5s',
      // 1000 requests of one user at once: this suite is about what they do, not admission.
      STOWAGE_MAX_IN_FLIGHT: '2000',
      STOWAGE_MAX_IN_FLIGHT_PER_USER: '2000',
    };
    servers = await Promise.all(dirs.map((dir) => startServerProcess(dir, env)));
    const token = await runCli(['token', '--user', 'alice', '--data-dir', dirs[0] as string], namespace.env);
    assert.equal(token.code, 0, token.stderr);
    auth = { authorization: `Bearer ${token.stdout.trim()}` };
  });
  after(async () => {
    for (const server of servers ?? []) {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    await namespace?.drop();
    for (const dir of dirs ?? []) await rm(dir, { recursive: true, force: true });
  });

  const [a, b] = [() => servers[0] as ServerProcess, () => servers[1] as ServerProcess];
  const call = (server: ServerProcess, method: string, route: string, body?: Buffer | string, headers: Record<string, string> = {}) =>
    rawRequest(server.origin, method, `/storage/v1${route}`, { headers: { ...auth, ...headers }, body });

  test('a write through one server is read, listed and deleted through the other at once', async () => {
    const big = randomBytes(3 * MIB);
    assert.equal((await call(a(), 'PUT', '/data/set/shared/small', 'hello')).status, 200);
    assert.equal((await call(a(), 'PUT', '/data/set/shared/big', big)).status, 200);
    assert.equal((await call(b(), 'GET', '/data/get/shared/small')).text, 'hello');
    assert.deepEqual((await call(b(), 'GET', '/data/get/shared/big')).body, big);
    const ranged = await call(b(), 'GET', '/data/get/shared/big', undefined, { range: 'bytes=1000-1999' });
    assert.equal(ranged.status, 206);
    assert.deepEqual(ranged.body, big.subarray(1000, 2000));
    assert.deepEqual((await call(b(), 'GET', '/data/list?prefix=shared/')).json(), ['shared/big', 'shared/small']);
    assert.equal((await call(b(), 'DELETE', '/data/shared/big')).status, 204);
    assert.equal((await call(a(), 'GET', '/data/get/shared/big')).status, 404);
    assert.deepEqual((await call(a(), 'GET', '/data/list?prefix=shared/')).json(), ['shared/small']);
  });

  test('a resumable upload started on one server finishes on the other, chunk by chunk', async () => {
    // Every chunk size the GCS protocol allows is a multiple of 256 KiB: small ones are staged,
    // large ones become multipart parts, and the chunks alternate between the servers.
    const sizes = [256 * 1024, 512 * 1024, 5 * MIB, 256 * 1024, 9 * MIB, 768 * 1024, 12_345];
    const data = randomBytes(sizes.reduce((sum, size) => sum + size, 0));
    const created = await call(a(), 'GET', '/data/new_resumable_url/moving.bin');
    const url = new URL(created.text);
    let offset = 0;
    for (const [i, size] of sizes.entries()) {
      const server = i % 2 === 0 ? a() : b();
      const last = i === sizes.length - 1;
      const response = await rawRequest(server.origin, 'PUT', url.pathname + url.search, {
        headers: { 'content-range': `bytes ${offset}-${offset + size - 1}/${last ? data.length : '*'}` },
        body: data.subarray(offset, offset + size),
      });
      offset += size;
      if (!last) {
        assert.equal(response.status, 308, response.text);
        assert.equal(response.headers.range, `bytes=0-${offset - 1}`);
        // The other server reports the same offset.
        const other = server === a() ? b() : a();
        const status = await rawRequest(other.origin, 'PUT', url.pathname + url.search, {
          headers: { 'content-range': 'bytes */*' },
          body: '',
        });
        assert.equal(status.headers.range, `bytes=0-${offset - 1}`);
      } else {
        assert.equal(response.status, 200, response.text);
        assert.equal(response.json<{ sha256: string }>().sha256, createHash('sha256').update(data).digest('hex'));
      }
    }
    assert.deepEqual((await call(a(), 'GET', '/data/get/moving.bin')).body, data);
  });

  test('1000 concurrent conditional writes split across both servers give exactly one winner per condition', async () => {
    const keys = Array.from({ length: 100 }, (_, i) => `race/${i}`);
    const attempts = keys.flatMap((key) =>
      Array.from({ length: 10 }, (_, j) =>
        call(j % 2 === 0 ? a() : b(), 'PUT', `/data/set/${key}`, `${key} by writer ${j}`, { 'if-none-match': '*' }).then((response) => ({
          key,
          status: response.status,
          body: `${key} by writer ${j}`,
        })),
      ),
    );
    const results = await Promise.all(attempts);
    for (const key of keys) {
      const mine = results.filter((result) => result.key === key);
      const winners = mine.filter((result) => result.status === 200);
      assert.equal(winners.length, 1, `${key}: ${mine.map((result) => result.status).join(',')}`);
      assert.ok(mine.every((result) => result.status === 200 || result.status === 412));
      assert.equal((await call(b(), 'GET', `/data/get/${key}`)).text, winners[0]?.body);
    }
    // If-Match on the winner's ETag: again one winner per key among writers on both servers.
    const etag = (await call(a(), 'GET', '/data/get/race/0')).headers.etag as string;
    const updates = await Promise.all(
      Array.from({ length: 20 }, (_, j) => call(j % 2 === 0 ? a() : b(), 'PUT', '/data/set/race/0', `update ${j}`, { 'if-match': etag })),
    );
    assert.equal(updates.filter((response) => response.status === 200).length, 1);
  });

  test('the sweeper and the garbage collector on both servers lose nothing and leave no orphan blob', async () => {
    const kept = new Map<string, Buffer>();
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        Array.from({ length: 12 }, async (_, i) => {
          const server = (round + i) % 2 === 0 ? a() : b();
          const value = randomBytes(20_000 + i * 1000); // past the inline limit: each is a blob
          assert.equal((await call(server, 'PUT', `/data/set/gc/${i}`, value)).status, 200);
          kept.set(`gc/${i}`, value);
          assert.equal((await call(server, 'PUT', `/tmp/set/gc/${round}-${i}`, randomBytes(30_000))).status, 200);
        }),
      );
    }
    // tmp objects live 2 s; both sweepers run every 300 ms; replaced blobs have no grace.
    await waitFor(async () => (await call(a(), 'GET', '/tmp/list?prefix=gc/')).json<string[]>().length === 0, 10_000);
    for (const [key, value] of kept) assert.deepEqual((await call(b(), 'GET', `/data/get/${key}`)).body, value, key);
    // Every blob left in the bucket is one a row references, once the collectors have run.
    await waitFor(async () => {
      const { inBucket, referenced } = await blobCensus(namespace);
      return inBucket.every((id) => referenced.has(id));
    }, 15_000);
    const { inBucket, referenced } = await blobCensus(namespace);
    for (const id of referenced) assert.ok(inBucket.includes(id), `referenced blob ${id} is missing from the bucket`);
  });
});

/** The blob ids under the prefix, and those the index references. */
async function blobCensus(namespace: StorageNamespace): Promise<{ inBucket: string[]; referenced: Set<string> }> {
  const env = namespace.env;
  const s3 = new S3Client({
    endpoint: env.STOWAGE_S3_ENDPOINT,
    region: env.STOWAGE_S3_REGION,
    forcePathStyle: true,
    credentials: { accessKeyId: env.STOWAGE_S3_ACCESS_KEY_ID ?? '', secretAccessKey: env.STOWAGE_S3_SECRET_ACCESS_KEY ?? '' },
  });
  const [bucket, ...prefixParts] = (env.STOWAGE_BLOBS ?? '').replace('s3://', '').split('/');
  const prefix = `${prefixParts.join('/')}/blobs/`;
  const inBucket: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const item of page.Contents ?? []) inBucket.push((item.Key ?? '').slice(prefix.length));
    token = page.NextContinuationToken;
  } while (token);
  s3.destroy();
  const client = new pg.Client({ connectionString: env.STOWAGE_INDEX });
  await client.connect();
  try {
    const rows = await client.query(`SELECT blob_id FROM "${env.STOWAGE_INDEX_SCHEMA}".objects WHERE blob_id IS NOT NULL`);
    return { inBucket, referenced: new Set(rows.rows.map((row) => row.blob_id as string)) };
  } finally {
    await client.end();
  }
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

describe('a server killed mid-write on PostgreSQL + S3', { skip }, () => {
  test('every acknowledged write reads back exact after a restart, and no orphan blob outlives the grace', async () => {
    const namespace = await freshNamespace('postgres-s3');
    const dir = await mkdtemp(path.join(tmpdir(), 'stowage-kill-'));
    const env = { ...namespace.env, STOWAGE_SWEEP_INTERVAL: '300ms', STOWAGE_REPLACED_BLOB_GRACE: '0s', STOWAGE_ORPHAN_GRACE: '2s' };
    try {
      const token = await runCli(['token', '--user', 'crash', '--ttl', '1h', '--data-dir', dir], namespace.env);
      const headers = { authorization: `Bearer ${token.stdout.trim()}` };
      const acknowledged = new Map<string, Buffer>();
      for (let round = 0; round < 3; round++) {
        const server = await startServerProcess(dir, env);
        const writers = Array.from({ length: 6 }, async (_, writer) => {
          for (let n = 0; ; n++) {
            const key = `r${round}/w${writer}/${n}`;
            const value = randomBytes(n % 3 === 0 ? 5_000 : 300_000 + n * 50_000);
            try {
              const response = await rawRequest(server.origin, 'PUT', `/storage/v1/data/set/${key}`, { headers, body: value });
              if (response.status === 200) acknowledged.set(key, value);
            } catch {
              return; // the server is gone
            }
          }
        });
        await new Promise((resolve) => setTimeout(resolve, 700 + round * 300));
        server.child.kill('SIGKILL');
        await server.exited;
        await Promise.all(writers);
      }
      const server = await startServerProcess(dir, env);
      try {
        assert.ok(acknowledged.size > 0);
        for (const [key, value] of acknowledged) {
          const response = await rawRequest(server.origin, 'GET', `/storage/v1/data/get/${key}`, { headers });
          assert.equal(response.status, 200, key);
          assert.deepEqual(response.body, value, key);
        }
        // Blobs of writes that never committed are orphans: gone once older than the grace.
        await waitFor(async () => {
          const { inBucket, referenced } = await blobCensus(namespace);
          return inBucket.every((id) => referenced.has(id));
        }, 20_000);
      } finally {
        server.child.kill('SIGTERM');
        await server.exited;
      }
    } finally {
      await namespace.drop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('start-up against a misconfigured PostgreSQL or S3', { skip }, () => {
  const serveWith = async (env: Record<string, string>) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'stowage-badconf-'));
    try {
      return await runCli(['serve', '--port', '0', '--data-dir', dir], env);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  };

  test('an unreachable database, bad S3 credentials or a missing bucket stop it at once with a readable message', async () => {
    const namespace = await freshNamespace('postgres-s3');
    const good = namespace.env;
    try {
      const noDatabase = await serveWith({ ...good, STOWAGE_INDEX: 'postgres://stowage:secret-password@127.0.0.1:1/stowage' });
      assert.notEqual(noDatabase.code, 0);
      assert.match(noDatabase.stderr, /127\.0\.0\.1:1/);
      assert.doesNotMatch(noDatabase.stderr, /secret-password/, 'the password is never printed');

      const badKeys = await serveWith({ ...good, STOWAGE_S3_SECRET_ACCESS_KEY: 'not-the-secret' });
      assert.notEqual(badKeys.code, 0);
      assert.match(badKeys.stderr, /credentials/i);

      const noBucket = await serveWith({ ...good, STOWAGE_BLOBS: 's3://no-such-bucket-here/x' });
      assert.notEqual(noBucket.code, 0);
      assert.match(noBucket.stderr, /no-such-bucket-here/);

      const noSecret = await serveWith({ ...good, STOWAGE_JWT_SECRET: '' });
      assert.notEqual(noSecret.code, 0);
      assert.match(noSecret.stderr, /STOWAGE_JWT_SECRET: required with a shared index/);
    } finally {
      await namespace.drop();
    }
  });
});
