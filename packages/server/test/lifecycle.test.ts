// Guards operations: health, readiness and metrics endpoints, the admin CLI, and graceful
// shutdown (SIGTERM lets an in-flight upload finish, then the process exits 0).
import assert from 'node:assert/strict';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { embeddedOnly } from './helpers/deployment.js';
import { pythonLikeClient, rawRequest } from './helpers/raw-http.js';
import { runCli, startServerProcess } from './helpers/server-process.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('health, readiness, metrics', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(() => ts.close());

  test('healthz and readyz answer 200 without auth', async () => {
    assert.equal((await rawRequest(ts.origin, 'GET', '/healthz')).status, 200);
    const ready = await rawRequest(ts.origin, 'GET', '/readyz');
    assert.equal(ready.status, 200);
    assert.equal(ready.json<{ status: string }>().status, 'ready');
  });

  test('metrics count requests by route and status, and bytes written', async () => {
    const py = pythonLikeClient(ts.origin, await ts.token());
    await py.put('/data/set/m', 'twelve bytes');
    await py.get('/data/get/missing');
    const metrics = await rawRequest(ts.origin, 'GET', '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(String(metrics.headers['content-type']), /^text\/plain/);
    assert.match(metrics.text, /stowage_http_requests_total\{method="PUT",route="\/storage\/v1\/:type\/set\/\*",status="200"\} 1/);
    assert.match(metrics.text, /stowage_http_requests_total\{method="GET",route="\/storage\/v1\/:type\/get\/\*",status="404"\} 1/);
    assert.match(metrics.text, /stowage_object_bytes_written_total 12/);
    assert.match(metrics.text, /stowage_process_resident_memory_bytes/);
  });

  test('unknown routes are a JSON 404 RouteNotFound', async () => {
    const response = await rawRequest(ts.origin, 'GET', '/nope');
    assert.equal(response.status, 404);
    assert.equal(response.json<{ code: string }>().code, 'RouteNotFound');
  });

  test('readiness fails with 503 once shutdown begins', async () => {
    const other = await startTestServer();
    other.server.context.lifecycle.draining = true;
    const response = await rawRequest(other.origin, 'GET', '/readyz');
    assert.equal(response.status, 503);
    assert.equal(response.json<{ code: string }>().code, 'ServiceUnavailable');
    await other.close();
  });
});

describe('process lifecycle and admin CLI', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(path.join(tmpdir(), 'stowage-proc-'));
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  test('stowage token prints only a JWT for the user, signed with the data dir secret', { skip: embeddedOnly }, async () => {
    const result = await runCli(['token', '--user', 'dave', '--ttl', '2h', '--data-dir', dataDir]);
    assert.equal(result.code, 0);
    assert.match(result.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const claims = JSON.parse(Buffer.from(result.stdout.split('.')[1] ?? '', 'base64url').toString());
    assert.equal(claims.sub, 'dave');
    assert.equal(claims.exp - claims.iat, 7200);
    assert.equal((await stat(path.join(dataDir, 'secret.key'))).mode & 0o777, 0o600);
  });

  test('stowage keys create prints a client_id and secret that /auth/token accepts', async () => {
    const created = await runCli(['keys', 'create', '--user', 'erin', '--data-dir', dataDir, '--json']);
    assert.equal(created.code, 0);
    const { client_id, client_secret } = JSON.parse(created.stdout);
    const server = await startServerProcess(dataDir);
    try {
      const response = await rawRequest(server.origin, 'POST', '/auth/token', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id, refresh_token: client_secret, grant_type: 'refresh_token' }),
      });
      assert.equal(response.status, 200);
      const claims = JSON.parse(
        Buffer.from(response.json<{ access_token: string }>().access_token.split('.')[1] ?? '', 'base64url').toString(),
      );
      assert.equal(claims.sub, 'erin');
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  test('bad flags exit 2 with a message; a bad config value is reported', async () => {
    const usage = await runCli(['token']);
    assert.equal(usage.code, 2);
    assert.match(usage.stderr, /--user/);
    const badPort = await runCli(['serve', '--port', 'eighty', '--data-dir', dataDir]);
    assert.notEqual(badPort.code, 0);
    assert.match(badPort.stderr, /port/);
  });

  test('serve --s3-port opens the S3 API at the root of a second port, and SIGTERM closes it too', async () => {
    const server = await startServerProcess(dataDir, { STOWAGE_S3_PORT: '0' });
    try {
      assert.equal(server.s3Endpoints.length, 2, server.s3Endpoints.join(' and '));
      const [base, root] = server.s3Endpoints as [string, string];
      assert.equal(base, `${server.origin}/s3`);
      assert.notEqual(new URL(root).port, new URL(server.origin).port);
      // An unsigned request there is S3's (XML AccessDenied), not the storage API's JSON.
      const anonymous = await request(`${root}/data?list-type=2`);
      assert.equal(anonymous.statusCode, 403);
      assert.match(await anonymous.body.text(), /<Code>AccessDenied<\/Code>/);
      // A keep-alive connection left open to that port does not hold the shutdown up.
      const idle = await request(`${root}/`, { headers: { connection: 'keep-alive' } });
      await idle.body.dump();
    } finally {
      server.child.kill('SIGTERM');
    }
    const started = Date.now();
    assert.equal(await server.exited, 0);
    assert.ok(Date.now() - started < 5_000, `shutdown took ${Date.now() - started} ms`);
  });

  test('SIGTERM lets an in-flight upload finish, then exits 0', async () => {
    const server = await startServerProcess(dataDir);
    const token = (await runCli(['token', '--user', 'frank', '--data-dir', dataDir])).stdout.trim();
    let chunks = 0;
    const body = new Readable({
      read() {
        setTimeout(() => this.push(chunks++ < 20 ? Buffer.alloc(64 * 1024, 1) : null), 20);
      },
    });
    const upload = request(`${server.url}/data/set/in-flight`, { method: 'PUT', body, headers: { authorization: `Bearer ${token}` } });
    await new Promise((resolve) => setTimeout(resolve, 100));
    server.child.kill('SIGTERM');
    const response = await upload;
    assert.equal(response.statusCode, 200);
    assert.equal(((await response.body.json()) as { size: number }).size, 20 * 64 * 1024);
    assert.equal(await server.exited, 0);

    const restarted = await startServerProcess(dataDir);
    try {
      const head = await request(`${restarted.url}/data/get/in-flight`, { method: 'HEAD', headers: { authorization: `Bearer ${token}` } });
      assert.equal(head.headers['content-length'], String(20 * 64 * 1024));
    } finally {
      restarted.child.kill('SIGTERM');
      await restarted.exited;
    }
  });
});
