// Guards Auth: where credentials come from, refresh before expiry through the real
// POST /auth/token, the token file rewritten atomically with mode 0600, an AuthError that
// names every way to fix missing credentials, and a refresh that goes through the storage
// call's transport: retried by its Retry policy, bounded by its timeouts.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { decodeClaims } from '../src/auth.js';
import { Auth, AuthError, Retry, Storage, TimeoutError } from '../src/node/index.js';
import { sendError, startFaultServer } from './fault-server.js';

/** An unsigned JWT that lasts an hour: enough for the client, which never verifies tokens. */
function fakeJwt(sub: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  return `${part({ alg: 'HS256' })}.${part({ sub, exp: Math.floor(Date.now() / 1000) + 3600 })}.sig`;
}

describe('Auth', () => {
  let ts: TestServer;
  let dir: string;
  let key: { clientId: string; secret: string };
  before(async () => {
    ts = await startTestServer({ issuedTokenTtlMs: 3_600_000 });
    key = await ts.server.createApiKey('carol');
    dir = await mkdtemp(path.join(tmpdir(), 'stowage-auth-'));
  });
  after(async () => {
    await ts.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('no credentials anywhere: AuthError naming every way to provide them', async () => {
    const auth = new Auth({ env: {}, tokenInfoPath: path.join(dir, 'absent.json') });
    await assert.rejects(auth.getToken(), (error: unknown) => {
      assert.ok(error instanceof AuthError);
      for (const hint of ['STOWAGE_TOKEN', 'STOWAGE_CLIENT_ID', 'STOWAGE_CLIENT_SECRET', 'absent.json'])
        assert.match(error.message, new RegExp(hint));
      return true;
    });
  });

  test('environment variables, including the DESCARTESLABS_* names', async () => {
    assert.equal(await new Auth({ env: { STOWAGE_TOKEN: 'a.b.c' }, tokenInfoPath: path.join(dir, 'x') }).getToken(), 'a.b.c');
    assert.equal(await new Auth({ env: { DESCARTESLABS_TOKEN: 'd.e.f' }, tokenInfoPath: path.join(dir, 'x') }).getToken(), 'd.e.f');
    const fromKey = new Auth({
      env: { DESCARTESLABS_CLIENT_ID: key.clientId, DESCARTESLABS_CLIENT_SECRET: key.secret },
      tokenInfoPath: path.join(dir, 'x'),
    });
    fromKey.useDefaultDomain(ts.url);
    assert.equal(decodeClaims(await fromKey.getToken())?.sub, 'carol');
  });

  test('a token about to expire is refreshed before use, and the token file is rewritten atomically with mode 0600', async () => {
    const file = path.join(dir, 'token_info.json');
    const expiring = await ts.token('carol', 30_000);
    await writeFile(file, JSON.stringify({ client_id: key.clientId, client_secret: key.secret, JWT_TOKEN: expiring }), { mode: 0o644 });
    const auth = new Auth({ env: {}, tokenInfoPath: file, refreshLeewaySeconds: 60 });
    const storage = new Storage({ url: ts.url, auth, retries: Retry.none() });
    await storage.set('refreshed', 'yes');
    const saved = JSON.parse(await readFile(file, 'utf8'));
    assert.notEqual(saved.JWT_TOKEN, expiring);
    assert.equal(decodeClaims(saved.JWT_TOKEN)?.sub, 'carol');
    assert.ok((decodeClaims(saved.JWT_TOKEN)?.exp ?? 0) * 1000 > Date.now() + 30 * 60_000);
    assert.equal(saved.client_secret, key.secret, 'other fields are kept');
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    assert.deepEqual(
      (await readdir(dir)).filter((name) => name.endsWith('.tmp')),
      [],
    );
    await storage.close();
  });

  test('concurrent calls share one refresh', async () => {
    const auth = new Auth({ env: {}, clientId: key.clientId, clientSecret: key.secret, tokenInfoPath: path.join(dir, 'none.json') });
    auth.useDefaultDomain(ts.url);
    const tokens = await Promise.all(Array.from({ length: 10 }, () => auth.getToken()));
    assert.equal(new Set(tokens).size, 1);
  });

  test('a 401 with a refreshable key gets a new token and the call succeeds', async () => {
    const revoked = await ts.token('carol', 60_000);
    ts.clock.advance(120_000);
    const auth = new Auth({
      env: {},
      token: revoked,
      clientId: key.clientId,
      clientSecret: key.secret,
      refreshLeewaySeconds: 0,
      tokenInfoPath: path.join(dir, 'n.json'),
    });
    const storage = new Storage({ url: ts.url, auth, retries: Retry.none() });
    await storage.set('after-401', 'ok');
    assert.equal(await storage.get('after-401'), 'ok');
    await storage.close();
  });

  test('a wrong secret is an AuthError from the refresh', async () => {
    const auth = new Auth({ env: {}, clientId: key.clientId, clientSecret: 'wrong', tokenInfoPath: path.join(dir, 'w.json') });
    auth.useDefaultDomain(ts.url);
    await assert.rejects(auth.getToken(), (error: unknown) => error instanceof AuthError && error.code === 'InvalidCredentials');
  });
});

describe('token refresh through the transport', () => {
  const cleanups: Array<() => unknown> = [];
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'stowage-refresh-'));
  });
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
    await rm(dir, { recursive: true, force: true });
  });
  let files = 0;
  /** An API-key Auth with a token file of its own, so no test sees another's token. */
  const keyAuth = (options: Partial<ConstructorParameters<typeof Auth>[0]> = {}) =>
    new Auth({ env: {}, clientId: 'stw_test', clientSecret: 'secret', tokenInfoPath: path.join(dir, `token-${++files}.json`), ...options });
  /** Answers POST /auth/token as `answerToken` decides (given how many came so far), anything else with 'stored'. */
  const serve = async (answerToken: Parameters<typeof startFaultServer>[0]) => {
    let tokenRequests = 0;
    const server = await startFaultServer((request, response) => {
      if (request.url !== '/auth/token') return response.end('stored');
      tokenRequests++;
      request.resume();
      request.on('end', () => answerToken(request, response, tokenRequests));
    });
    cleanups.push(() => server.close());
    return server;
  };

  test('a refresh answered 503 is retried by the storage Retry policy, then the call succeeds with the new token', async () => {
    const token = fakeJwt('eve');
    const server = await serve((_request, response, tokenRequest) => {
      if (tokenRequest === 1) return sendError(response, 503, 'ServiceUnavailable');
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600 }));
    });
    const storage = new Storage({ url: server.url, auth: keyAuth(), retries: new Retry({ backoffFactor: 0.01, backoffJitter: 0 }) });
    cleanups.push(() => storage.close());
    assert.equal(await storage.get('k'), 'stored');
    assert.deepEqual(
      server.seen.map((s) => `${s.method} ${s.url}`),
      ['POST /auth/token', 'POST /auth/token', 'GET /storage/v1/data/get/k'],
    );
    assert.deepEqual(
      server.seen.slice(0, 2).map((s) => s.headers['x-stowage-attempt']),
      ['1', '2'],
    );
    assert.equal(server.seen[0]?.headers.authorization, undefined, 'the token request carries no bearer token');
    assert.equal(server.seen[2]?.headers.authorization, `Bearer ${token}`);
  });

  test('with Retry.none() the same 503 fails the refresh as an AuthError carrying the status', async () => {
    const server = await serve((_request, response) => sendError(response, 503, 'Overloaded', { 'retry-after': '0' }));
    const storage = new Storage({ url: server.url, auth: keyAuth(), retries: Retry.none() });
    cleanups.push(() => storage.close());
    await assert.rejects(
      storage.get('k'),
      (error: unknown) => error instanceof AuthError && error.status === 503 && error.code === 'Overloaded',
    );
    assert.equal(server.seen.length, 1);
  });

  test("a token endpoint that never answers is a TimeoutError after the storage's read timeout", async () => {
    const server = await serve(() => {});
    const storage = new Storage({ url: server.url, auth: keyAuth(), retries: Retry.none(), timeout: [2, 0.3] });
    cleanups.push(() => storage.close());
    await assert.rejects(storage.get('k'), TimeoutError);
    assert.deepEqual(
      server.seen.map((s) => s.url),
      ['/auth/token'],
    );
  });

  test('auth.refresh() on its own uses the Auth retries and timeout', async () => {
    const silent = await serve(() => {});
    const auth = keyAuth({ timeout: [2, 0.3], retries: new Retry({ read: 1, backoffFactor: 0.01, backoffJitter: 0 }) });
    cleanups.push(() => auth.close());
    auth.useDefaultDomain(silent.url);
    await assert.rejects(auth.refresh(), TimeoutError);
    assert.equal(silent.seen.length, 2, 'one retry after the read timeout, as the policy allows');
  });
});
