// Guards against algorithm confusion with an identity provider's keys (CVE-2015-9235 and its
// kin): the JWKS is public, so a token whose header says HS256 and whose HMAC is keyed with any
// form of a published public key (PEM, JWK JSON, the JWKS document, the raw modulus) must be 401,
// as must a token that claims RS256/ES256 but carries an HMAC made with the server's own secret.
// Only a real signature by the provider's private key gets in.
import assert from 'node:assert/strict';
import { createHmac, createPublicKey } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { decodeProtectedHeader, exportJWK, exportSPKI, generateKeyPair, type JWK, SignJWT } from 'jose';
import { pythonLikeClient } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const ISSUER = 'https://idp.example.test/';
const AUDIENCE = 'stowage-api';
const SECRET = 's'.repeat(48);

const base64url = (value: string | Buffer) => Buffer.from(value).toString('base64url');

/** A JWT with `header` and `claims`, its signature an HMAC-SHA256 keyed with `key`. */
function hmacToken(header: object, claims: object, key: string | Buffer): string {
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  return `${signingInput}.${createHmac('sha256', key).update(signingInput).digest('base64url')}`;
}

describe('tokens cannot pick the wrong kind of key', () => {
  let jwksServer: http.Server;
  let jwksDocument: string;
  let publicJwk: JWK;
  let publicPem: string;
  let privateKey: CryptoKey;
  let ts: TestServer;

  before(async () => {
    const pair = await generateKeyPair('RS256', { extractable: true });
    privateKey = pair.privateKey;
    publicJwk = { ...(await exportJWK(pair.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' };
    publicPem = await exportSPKI(pair.publicKey);
    jwksDocument = JSON.stringify({ keys: [publicJwk] });
    jwksServer = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' }).end(jwksDocument);
    });
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    const { port } = jwksServer.address() as AddressInfo;
    ts = await startTestServer({
      jwksUrl: `http://127.0.0.1:${port}/.well-known/jwks.json`,
      jwtIssuer: ISSUER,
      jwtAudience: AUDIENCE,
      jwtSecret: SECRET,
    });
  });
  after(async () => {
    await ts.close();
    jwksServer.closeAllConnections();
    await new Promise<void>((resolve) => jwksServer.close(() => resolve()));
  });

  const claims = () => {
    const now = Math.floor(ts.clock.now() / 1000);
    return { sub: 'alice', iss: ISSUER, aud: AUDIENCE, iat: now, exp: now + 600 };
  };
  const listWith = (token: string) => pythonLikeClient(ts.origin, token).get('/data/list');

  test('a real RS256 signature by the provider gets in (the setup works)', async () => {
    const token = await new SignJWT(claims()).setProtectedHeader({ alg: 'RS256', kid: 'rsa-1' }).sign(privateKey);
    assert.equal((await listWith(token)).status, 200);
  });

  test('HS256 keyed with any form of the published public key is 401 InvalidToken', async () => {
    const der = createPublicKey(publicPem).export({ type: 'spki', format: 'der' });
    const keys: Array<[string, string | Buffer]> = [
      ['PEM', publicPem],
      ['PEM without its final newline', publicPem.trimEnd()],
      ['DER', der],
      ['JWK JSON', JSON.stringify(publicJwk)],
      ['JWKS document', jwksDocument],
      ['modulus', Buffer.from(publicJwk.n ?? '', 'base64url')],
    ];
    for (const [form, key] of keys) {
      for (const header of [
        { alg: 'HS256', typ: 'JWT' },
        { alg: 'HS256', typ: 'JWT', kid: 'rsa-1' },
      ]) {
        const token = hmacToken(header, claims(), key);
        assert.equal(decodeProtectedHeader(token).alg, 'HS256');
        const response = await listWith(token);
        assert.equal(response.status, 401, `${form}, kid ${'kid' in header}`);
        assert.equal(response.json<{ code: string }>().code, 'InvalidToken', form);
      }
    }
  });

  test('RS256 or ES256 in the header with an HMAC of the server secret is 401 InvalidToken', async () => {
    for (const alg of ['RS256', 'ES256']) {
      const token = hmacToken({ alg, typ: 'JWT', kid: 'rsa-1' }, claims(), SECRET);
      const response = await listWith(token);
      assert.equal(response.status, 401, alg);
      assert.equal(response.json<{ code: string }>().code, 'InvalidToken', alg);
    }
    // The same claims under HS256 and the same secret are the server's own token, and pass.
    assert.equal((await listWith(hmacToken({ alg: 'HS256', typ: 'JWT' }, claims(), SECRET))).status, 200);
  });

  test('header algorithms in other spellings are refused', async () => {
    for (const alg of ['hs256', 'none', 'None', 'NONE', 'RS384', 'ES512', 'EdDSA', '']) {
      const token = hmacToken({ alg, typ: 'JWT', kid: 'rsa-1' }, claims(), SECRET);
      assert.equal((await listWith(token)).status, 401, JSON.stringify(alg));
    }
  });
});
