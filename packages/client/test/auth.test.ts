// Guards Auth: where credentials come from, refresh before expiry through the real
// POST /auth/token, the token file rewritten atomically with mode 0600, and an AuthError that
// names every way to fix missing credentials.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createApiKey } from '../../server/src/auth/api-keys.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { decodeClaims } from '../src/auth.js';
import { Auth, AuthError, Retry, Storage } from '../src/index.js';

describe('Auth', () => {
  let ts: TestServer;
  let dir: string;
  let key: { clientId: string; secret: string };
  before(async () => {
    ts = await startTestServer({ issuedTokenTtlMs: 3_600_000 });
    key = await createApiKey(ts.server.context.apiKeys, 'carol');
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
