// Guards the one rule for user ids, at the auth layer, alike on both deployments: a token (or an
// API key, or a token to issue) naming a user with a control character, invalid Unicode or over
// 1024 bytes is refused with 401 InvalidUser, never served on one deployment and a 500 on the
// other (PostgreSQL's text refuses NUL). And other strings from a request that reach a text
// column of the index (an API key's client id, from a JSON body or a presigned URL) are refused
// as the clients' errors they are, while the server keeps serving.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { apiClient } from './helpers/api-client.js';
import { rawRequest } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const JWT_SECRET = randomBytes(32).toString('hex');

/** A token the server's own secret signs, for any subject: what a compromised issuer or an external IdP could send. */
async function tokenFor(sub: string): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(sub)
    .setIssuer('stowage')
    .setIssuedAt()
    .setExpirationTime('1h')
    .sign(new TextEncoder().encode(JWT_SECRET));
}

const HOSTILE_USERS: Array<[string, string]> = [
  ['NUL', 'alice\u0000'],
  ['NUL inside', 'al\u0000ice'],
  ['a C0 control', 'a\u0001b'],
  ['a newline', 'alice\nbob'],
  ['DEL', 'a\u007fb'],
  ['a C1 control', 'a\u0085b'],
  ['a lone surrogate', 'a\ud800b'],
  ['over 1024 bytes', 'é'.repeat(513)],
];

describe('user ids: one rule on both deployments', () => {
  let ts: TestServer;

  before(async () => {
    ts = await startTestServer({ jwtSecret: JWT_SECRET });
  });
  after(() => ts.close());

  test('a token naming a hostile user id is 401 InvalidUser on get, list and put, and nothing is stored', async () => {
    for (const [what, user] of HOSTILE_USERS) {
      const api = apiClient(ts.origin, await tokenFor(user));
      for (const answer of [await api.get('data', 'k'), await api.call('GET', '/data/list?prefix='), await api.put('data', 'k', 'bytes')]) {
        assert.equal(answer.status, 401, `${what}: ${answer.text}`);
        assert.equal(answer.json<{ code: string }>().code, 'InvalidUser', what);
      }
    }
    // The server kept serving, and a well-formed user id with any other character works.
    for (const user of ['alice', 'ünïcödé 用户 🙂', 'with space/and:colon']) {
      const api = apiClient(ts.origin, await tokenFor(user));
      assert.equal((await api.put('data', 'k', user)).status, 200, user);
      assert.equal((await api.get('data', 'k')).text, user);
    }
  });

  test('the server issues no token and creates no API key for a hostile user id', async () => {
    for (const [what, user] of HOSTILE_USERS) {
      await assert.rejects(ts.server.issueToken(user, 60_000), { code: 'InvalidUser' }, what);
      await assert.rejects(ts.server.createApiKey(user), { code: 'InvalidUser' }, what);
    }
  });

  test('POST /auth/token with a client_id holding NUL or a control character is 401 InvalidCredentials', async () => {
    for (const clientId of ['stw_\u0000', '\u0000', 'stw_a\u0007']) {
      const answer = await rawRequest(ts.origin, 'POST', '/auth/token', {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ client_id: clientId, refresh_token: 'x' }),
      });
      assert.equal(answer.status, 401, answer.text);
      assert.equal(answer.json<{ code: string }>().code, 'InvalidCredentials');
    }
  });

  test('other request strings bound for the index: metadata with NUL round-trips, a content type with NUL is 400', async () => {
    const api = apiClient(ts.origin, await ts.token('alice'));
    const put = await api.put('data', 'meta', 'x', { 'x-stowage-meta-note': "UTF-8''a%00b%01c" });
    assert.equal(put.status, 200, put.text);
    const got = await api.get('data', 'meta');
    assert.equal(got.headers['x-stowage-meta-note'], "UTF-8''a%00b%01c");
    const url = await api.call('GET', `/data/new_resumable_url/up?content_type=${encodeURIComponent('text/plain\u0000')}`);
    assert.equal(url.status, 400, url.text);
    assert.equal(url.json<{ code: string }>().code, 'InvalidContentType');
  });

  test('an S3 presigned URL whose access key id holds NUL is InvalidAccessKeyId', async () => {
    const now = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '');
    const credential = encodeURIComponent(`stw_\u0000/${now.slice(0, 8)}/us-east-1/s3/aws4_request`);
    const query = `X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=${credential}&X-Amz-Date=${now}&X-Amz-Expires=60&X-Amz-SignedHeaders=host&X-Amz-Signature=${'0'.repeat(64)}`;
    const answer = await rawRequest(ts.origin, 'GET', `/s3/data/k?${query}`);
    assert.equal(answer.status, 403, answer.text);
    assert.match(answer.text, /<Code>InvalidAccessKeyId<\/Code>/);
  });
});
