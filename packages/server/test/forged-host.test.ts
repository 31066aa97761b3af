// Guards the URLs the server hands out against a forged Host header: without a public URL, a
// signed or upload URL names the address the request arrived on, or a name the server accepts
// for it (the listening host, loopback names on loopback, STOWAGE_ALLOWED_HOSTS), never a host
// the client made up; and a server listening beyond loopback without a public URL says so at start.
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { ConfigError, loadConfig } from '../src/config.js';
import { pythonLikeClient } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** The origins of a signed download URL and of an upload URL made with these request headers. */
async function urlOrigins(ts: TestServer, headers: Record<string, string>): Promise<string[]> {
  const py = pythonLikeClient(ts.origin, await ts.token('alice'));
  const download = await py.get('/data/get_signed_url/k', headers);
  const upload = await py.get('/data/new_resumable_url/k', headers);
  assert.equal(download.status, 200, download.text);
  assert.equal(upload.status, 200, upload.text);
  return [new URL(download.text).origin, new URL(upload.text).origin];
}

/** A pino logger whose lines land in `lines`, parsed. */
function captureLogs() {
  const lines: Array<{ level: number; msg: string }> = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { logger: pino({ level: 'warn' }, stream), lines };
}

describe('URLs the server hands out, against a forged Host', () => {
  let ts: TestServer;
  let port: string;
  before(async () => {
    ts = await startTestServer({ s3Port: 0 });
    port = new URL(ts.origin).port;
    assert.equal((await pythonLikeClient(ts.origin, await ts.token('alice')).put('/data/set/k', 'v')).status, 200);
  });
  after(() => ts.close());

  test('a Host the client made up gets the address the request arrived on', async () => {
    for (const host of ['evil.example', `evil.example:${port}`, 'evil.example:1234', `127.0.0.1.evil.example:${port}`]) {
      assert.deepEqual(await urlOrigins(ts, { host }), [ts.origin, ts.origin], host);
    }
  });

  test('the right name on another port (the S3 port) is not this listener', async () => {
    const s3Port = new URL(ts.server.s3RootUrl() ?? assert.fail('no S3 port')).port;
    assert.deepEqual(await urlOrigins(ts, { host: `127.0.0.1:${s3Port}` }), [ts.origin, ts.origin]);
  });

  test('the listening address and, on loopback, the loopback names are kept as the client wrote them', async () => {
    assert.deepEqual(await urlOrigins(ts, { host: `127.0.0.1:${port}` }), [ts.origin, ts.origin]);
    const local = `http://localhost:${port}`;
    assert.deepEqual(await urlOrigins(ts, { host: `LocalHost:${port}` }), [local, local]);
  });

  test('X-Forwarded-Host is not honoured without a trusted proxy, with any Host', async () => {
    const forged = { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' };
    assert.deepEqual(await urlOrigins(ts, forged), [ts.origin, ts.origin]);
  });
});

describe('STOWAGE_ALLOWED_HOSTS', () => {
  test('a listed name is kept (on any port, or on the one it lists); others get the address', async () => {
    const { allowedHosts } = loadConfig({ STOWAGE_ALLOWED_HOSTS: 'Storage.lan, files.test:8080' });
    const ts = await startTestServer({ allowedHosts });
    try {
      assert.equal((await pythonLikeClient(ts.origin, await ts.token('alice')).put('/data/set/k', 'v')).status, 200);
      assert.deepEqual(await urlOrigins(ts, { host: 'Storage.LAN:9000' }), ['http://storage.lan:9000', 'http://storage.lan:9000']);
      assert.deepEqual(await urlOrigins(ts, { host: 'storage.lan' }), ['http://storage.lan', 'http://storage.lan']);
      assert.deepEqual(await urlOrigins(ts, { host: 'files.test:8080' }), ['http://files.test:8080', 'http://files.test:8080']);
      assert.deepEqual(await urlOrigins(ts, { host: 'files.test:8081' }), [ts.origin, ts.origin]);
      assert.deepEqual(await urlOrigins(ts, { host: 'sub.storage.lan' }), [ts.origin, ts.origin]);
    } finally {
      await ts.close();
    }
  });

  test('an entry that is not a host name or address is refused at start', () => {
    assert.throws(
      () => loadConfig({ STOWAGE_ALLOWED_HOSTS: 'good.example, http://bad.example/' }),
      (error: unknown) =>
        error instanceof ConfigError && /STOWAGE_ALLOWED_HOSTS: "http:\/\/bad\.example\/" is not a host name/.test(error.message),
    );
  });
});

describe('a server listening beyond loopback', () => {
  test('without a public URL: warns at start, and a forged Host gets the address the request arrived on', async () => {
    const { logger, lines } = captureLogs();
    const ts = await startTestServer({ host: '0.0.0.0' }, { logger });
    try {
      const warning = lines.find((line) => /STOWAGE_PUBLIC_URL/.test(line.msg));
      assert.ok(warning, `no warning among ${JSON.stringify(lines)}`);
      assert.equal(warning.level, 40, 'logged as a warning');
      const port = new URL(ts.origin).port;
      const client = pythonLikeClient(`http://127.0.0.1:${port}`, await ts.token('alice'));
      assert.equal((await client.put('/data/set/k', 'v')).status, 200);
      const arrived = `http://127.0.0.1:${port}`;
      assert.deepEqual(await urlOrigins(ts, { host: 'evil.example' }), [arrived, arrived]);
    } finally {
      await ts.close();
    }
  });

  test('with a public URL, or on loopback: no warning', async () => {
    for (const fields of [{ host: '0.0.0.0', publicUrl: 'https://storage.example.com' }, { host: '127.0.0.1' }]) {
      const { logger, lines } = captureLogs();
      const ts = await startTestServer(fields, { logger });
      await ts.close();
      assert.deepEqual(
        lines.filter((line) => /STOWAGE_PUBLIC_URL/.test(line.msg)),
        [],
        JSON.stringify(fields),
      );
    }
  });
});
