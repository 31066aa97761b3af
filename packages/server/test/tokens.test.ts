// Guards authentication: only valid HS256 JWTs signed with the server secret are accepted;
// API keys exchange for tokens at POST /auth/token the way the Python Auth refresh flow does.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { SecretSealer } from '../src/auth/secret-sealer.js';
import { embeddedOnly } from './helpers/deployment.js';
import { rawRequest } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('bearer tokens', () => {
  let ts: TestServer;
  const listWith = (authorization: string | undefined) =>
    rawRequest(ts.origin, 'GET', '/storage/v1/data/list', { headers: authorization ? { authorization } : {} });
  const codeOf = async (authorization: string | undefined) => {
    const response = await listWith(authorization);
    return `${response.status} ${response.json<{ code: string }>().code}`;
  };
  before(async () => {
    ts = await startTestServer();
  });
  after(() => ts.close());

  test('a valid token is accepted', async () => {
    assert.equal((await listWith(`Bearer ${await ts.token('alice')}`)).status, 200);
  });

  test('missing, malformed and foreign tokens are 401 with a precise code', async () => {
    const now = Math.floor(Date.now() / 1000);
    const foreign = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(now + 60)
      .sign(Buffer.from('another secret that is long enough!!'));
    const unsignedNone = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'alice', exp: now + 60 })}.`;
    assert.equal(await codeOf(undefined), '401 MissingToken');
    assert.equal(await codeOf('Basic abc'), '401 InvalidToken');
    assert.equal(await codeOf('Bearer not.a.jwt'), '401 InvalidToken');
    assert.equal(await codeOf(`Bearer ${foreign}`), '401 InvalidToken');
    assert.equal(await codeOf(`Bearer ${unsignedNone}`), '401 InvalidToken');
  });

  test('a token with a changed payload, or without sub or exp, is refused', async () => {
    const [header, , signature] = (await ts.token('alice')).split('.');
    const forged = `${header}.${b64({ sub: 'bob', exp: Math.floor(Date.now() / 1000) + 60 })}.${signature}`;
    assert.equal(await codeOf(`Bearer ${forged}`), '401 InvalidToken');
    // The shared secret of a scale-out deployment, or the one kept in the data directory.
    const secret =
      ts.server.context.config.jwtSecret ??
      (await import('node:fs/promises').then((fs) => fs.readFile(`${ts.dataDir}/secret.key`, 'utf8')));
    const sign = (payload: object) => {
      const body = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}`;
      return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
    };
    assert.equal(
      await codeOf(`Bearer ${sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) + 60 })}`).then((s) => s.split(' ')[0]),
      '200',
    );
    assert.equal(await codeOf(`Bearer ${sign({ exp: Math.floor(Date.now() / 1000) + 60 })}`), '401 InvalidToken');
    assert.equal(await codeOf(`Bearer ${sign({ sub: 'alice' })}`), '401 InvalidToken');
  });

  test('an expired token is 401 TokenExpired, also after it was cached as valid', async () => {
    const token = await ts.token('alice', 60_000);
    assert.equal((await listWith(`Bearer ${token}`)).status, 200);
    ts.clock.advance(61_000);
    assert.equal(await codeOf(`Bearer ${token}`), '401 TokenExpired');
  });

  test('the secret file is created with mode 0600', { skip: embeddedOnly }, async () => {
    const { stat } = await import('node:fs/promises');
    assert.equal((await stat(`${ts.dataDir}/secret.key`)).mode & 0o777, 0o600);
  });
});

describe('POST /auth/token', () => {
  let ts: TestServer;
  let key: { clientId: string; secret: string };
  const post = (body: string, contentType = 'application/json') =>
    rawRequest(ts.origin, 'POST', '/auth/token', { headers: { 'content-type': contentType }, body });
  before(async () => {
    ts = await startTestServer();
    key = await ts.server.createApiKey('carol');
  });
  after(() => ts.close());

  test('the Python Auth refresh flow gets a working token for the key owner', async () => {
    const response = await post(
      JSON.stringify({ client_id: key.clientId, refresh_token: key.secret, grant_type: 'refresh_token', scope: ['openid'] }),
    );
    assert.equal(response.status, 200);
    const body = response.json<{ access_token: string; id_token: string; token_type: string; expires_in: number }>();
    assert.equal(body.token_type, 'Bearer');
    assert.equal(body.id_token, body.access_token);
    assert.ok(body.expires_in > 3000 && body.expires_in <= 3600);
    const claims = JSON.parse(Buffer.from(body.access_token.split('.')[1] ?? '', 'base64url').toString());
    assert.equal(claims.sub, 'carol');
    const put = await rawRequest(ts.origin, 'PUT', '/storage/v1/data/set/k', {
      headers: { authorization: `Bearer ${body.access_token}` },
      body: 'v',
    });
    assert.equal(put.status, 200);
  });

  test('form-encoded client credentials work too', async () => {
    const form = new URLSearchParams({ client_id: key.clientId, client_secret: key.secret, grant_type: 'client_credentials' });
    assert.equal((await post(form.toString(), 'application/x-www-form-urlencoded')).status, 200);
  });

  test('a wrong secret or unknown client is 401 InvalidCredentials; a malformed request is 400', async () => {
    const wrong = await post(JSON.stringify({ client_id: key.clientId, refresh_token: 'nope', grant_type: 'refresh_token' }));
    assert.equal(wrong.status, 401);
    assert.equal(wrong.json<{ code: string }>().code, 'InvalidCredentials');
    const unknown = await post(JSON.stringify({ client_id: 'stw_unknown', refresh_token: key.secret }));
    assert.equal(unknown.status, 401);
    assert.equal((await post('{"client_id": 5}')).status, 400);
    assert.equal((await post('{not json')).status, 400);
    assert.equal((await post(JSON.stringify({ client_id: key.clientId, refresh_token: key.secret, grant_type: 'password' }))).status, 400);
  });

  test('the secret is stored hashed, never in the clear', async () => {
    const record = await ts.server.context.apiKeys.find(key.clientId);
    assert.ok(record);
    assert.notEqual(record.secretHash, key.secret);
    assert.ok(!record.secretHash.includes(key.secret));
    // Sealed for S3 signatures: never in the clear, and bound to its own client id.
    assert.ok(record.sealedSecret);
    assert.ok(!record.sealedSecret.includes(key.secret));
    assert.ok(!Buffer.from(record.sealedSecret).toString('base64url').includes(key.secret));
    const { sealer } = ts.server.context;
    assert.equal(sealer.open(key.clientId, record.sealedSecret), key.secret);
    assert.equal(sealer.open('stw_another', record.sealedSecret), undefined, 'moved to another key, it does not open');
    assert.equal(
      new SecretSealer(Buffer.from('another server secret, 32 bytes or more')).open(key.clientId, record.sealedSecret),
      undefined,
    );
  });
});
