// Guards tokens from an external identity provider: a real JWKS server (node:http) publishes an
// RSA and an EC key; RS256 and ES256 tokens signed with them are accepted, beside the built-in
// HS256 ones, and isolate tenants like any token. A wrong issuer or audience, an expired token,
// an unknown kid, a key from another JWKS, `alg: none`, HS256 with another secret and a missing
// tenant claim are 401. A JWKS server that is down or never answers is a 503 that says so, never
// a hang; the tenant can come from another claim (STOWAGE_JWT_TENANT_CLAIM).
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose';
import { pythonLikeClient, rawRequest } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const ISSUER = 'https://idp.example.test/';
const AUDIENCE = 'stowage-api';

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>;

/** Serves `keys` as a JWKS; `mode` 'hang' accepts requests and never answers them. */
async function startJwksServer(keys: JWK[], mode: 'serve' | 'hang' = 'serve') {
  const server = http.createServer((_request, response) => {
    if (mode === 'hang') return;
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/.well-known/jwks.json`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function publicJwk(pair: KeyPair, kid: string, alg: string): Promise<JWK> {
  return { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
}

describe('tokens from an external identity provider (JWKS)', () => {
  let rsa: KeyPair;
  let ec: KeyPair;
  let stranger: KeyPair;
  let jwks: Awaited<ReturnType<typeof startJwksServer>>;
  let ts: TestServer;

  /** A token as the identity provider would issue it, with `exp` on the server's clock. */
  const sign = (
    pair: KeyPair,
    header: { alg: string; kid: string },
    claims: JWTPayload = {},
    { ttlSeconds = 600, issuer = ISSUER, audience = AUDIENCE } = {},
  ) => {
    const now = Math.floor(ts.clock.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ ...header, typ: 'JWT' })
      .setIssuer(issuer)
      .setAudience(audience)
      .setIssuedAt(now)
      .setExpirationTime(now + ttlSeconds)
      .sign(pair.privateKey);
  };
  const rs = (sub: string, options?: Parameters<typeof sign>[3]) => sign(rsa, { alg: 'RS256', kid: 'rsa-1' }, { sub }, options);
  const es = (sub: string) => sign(ec, { alg: 'ES256', kid: 'ec-1' }, { sub });
  const statusWith = async (token: string) => {
    const response = await pythonLikeClient(ts.origin, token).get('/data/list');
    return { status: response.status, code: response.status === 200 ? undefined : response.json<{ code: string; message: string }>() };
  };

  before(async () => {
    rsa = await generateKeyPair('RS256');
    ec = await generateKeyPair('ES256');
    stranger = await generateKeyPair('RS256');
    jwks = await startJwksServer([await publicJwk(rsa, 'rsa-1', 'RS256'), await publicJwk(ec, 'ec-1', 'ES256')]);
    ts = await startTestServer({ jwksUrl: jwks.url, jwtIssuer: ISSUER, jwtAudience: AUDIENCE, jwksTimeoutMs: 2000 });
  });
  after(async () => {
    await ts.close();
    await jwks.close();
  });

  test('RS256 and ES256 tokens are accepted and each sees only its own keys', async () => {
    const alice = pythonLikeClient(ts.origin, await rs('alice'));
    const bob = pythonLikeClient(ts.origin, await es('bob'));
    assert.equal((await alice.put('/data/set/alice-only', 'a')).status, 200);
    assert.equal((await bob.put('/data/set/bob-only', 'b')).status, 200);
    assert.deepEqual((await alice.get('/data/list')).json(), ['alice-only']);
    assert.deepEqual((await bob.get('/data/list')).json(), ['bob-only']);
    assert.equal((await bob.get('/data/get/alice-only')).status, 404);
    assert.equal((await pythonLikeClient(ts.origin, await rs('bob')).get('/data/get/bob-only')).text, 'b', 'the tenant is the subject');
  });

  test('the built-in HS256 tokens keep working beside them', async () => {
    const hs = pythonLikeClient(ts.origin, await ts.token('alice'));
    assert.deepEqual((await hs.get('/data/list')).json(), ['alice-only']);
  });

  test('wrong issuer, wrong audience, expired, unknown kid, a key of another JWKS: 401', async () => {
    const cases: Array<[string, Promise<string>, string]> = [
      ['wrong issuer', rs('alice', { issuer: 'https://evil.example.test/' }), 'InvalidToken'],
      ['wrong audience', rs('alice', { audience: 'another-api' }), 'InvalidToken'],
      ['expired', rs('alice', { ttlSeconds: -60 }), 'TokenExpired'],
      ['unknown kid', sign(rsa, { alg: 'RS256', kid: 'rsa-unknown' }, { sub: 'alice' }), 'InvalidToken'],
      ['key of another JWKS, same kid', sign(stranger, { alg: 'RS256', kid: 'rsa-1' }, { sub: 'alice' }), 'InvalidToken'],
      ['EC kid with an RSA signature', sign(rsa, { alg: 'RS256', kid: 'ec-1' }, { sub: 'alice' }), 'InvalidToken'],
    ];
    for (const [name, token, code] of cases) {
      const result = await statusWith(await token);
      assert.equal(result.status, 401, name);
      assert.equal(result.code?.code, code, name);
    }
  });

  test('alg none, HS256 with another secret, and a token without the tenant claim: 401', async () => {
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const exp = Math.floor(ts.clock.now() / 1000) + 600;
    const none = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: 'alice', exp, iss: ISSUER, aud: AUDIENCE })}.`;
    assert.equal((await statusWith(none)).status, 401);
    const forged = await new SignJWT({ sub: 'alice' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(exp)
      .sign(new TextEncoder().encode('x'.repeat(32)));
    assert.equal((await statusWith(forged)).status, 401);
    assert.equal((await statusWith(await sign(rsa, { alg: 'RS256', kid: 'rsa-1' }))).status, 401, 'no sub');
    const ps = await statusWith(`${encode({ alg: 'PS256', kid: 'rsa-1' })}.${encode({ sub: 'alice', exp })}.c2ln`);
    assert.equal(ps.status, 401, 'an algorithm neither HS256 nor RS256/ES256');
  });
});

describe('JWKS settings', () => {
  test('without STOWAGE_JWKS_URL an RS256 token is 401', async () => {
    const pair = await generateKeyPair('RS256');
    const ts = await startTestServer();
    try {
      const token = await new SignJWT({ sub: 'alice' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k' })
        .setExpirationTime('10m')
        .sign(pair.privateKey);
      const response = await rawRequest(ts.origin, 'GET', '/storage/v1/data/list', { headers: { authorization: `Bearer ${token}` } });
      assert.equal(response.status, 401);
      assert.equal(response.json<{ code: string }>().code, 'InvalidToken');
    } finally {
      await ts.close();
    }
  });

  test('STOWAGE_JWT_TENANT_CLAIM names the claim that holds the tenant', async () => {
    const pair = await generateKeyPair('ES256');
    const jwks = await startJwksServer([await publicJwk(pair, 'ec', 'ES256')]);
    const ts = await startTestServer({ jwksUrl: jwks.url, jwtIssuer: ISSUER, jwtAudience: AUDIENCE, jwtTenantClaim: 'email' });
    try {
      const token = (claims: JWTPayload) =>
        new SignJWT(claims)
          .setProtectedHeader({ alg: 'ES256', kid: 'ec' })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setExpirationTime(Math.floor(ts.clock.now() / 1000) + 600)
          .sign(pair.privateKey);
      const carol = pythonLikeClient(ts.origin, await token({ sub: 'id-123', email: 'carol@example.test' }));
      assert.equal((await carol.put('/data/set/k', 'v')).status, 200);
      assert.equal((await carol.get('/usage')).json<{ tenant: string }>().tenant, 'carol@example.test');
      const noEmail = pythonLikeClient(ts.origin, await token({ sub: 'id-456' }));
      assert.equal((await noEmail.get('/data/list')).status, 401);
    } finally {
      await ts.close();
      await jwks.close();
    }
  });

  for (const mode of ['down', 'hang'] as const) {
    test(`a JWKS server that is ${mode === 'down' ? 'down' : 'never answering'} is a 503 that names it, not a hang`, async () => {
      const pair = await generateKeyPair('RS256');
      const jwks = await startJwksServer([], mode === 'hang' ? 'hang' : 'serve');
      const url = jwks.url;
      if (mode === 'down') await jwks.close();
      const ts = await startTestServer({ jwksUrl: url, jwtIssuer: ISSUER, jwtAudience: AUDIENCE, jwksTimeoutMs: 300 });
      try {
        const token = await new SignJWT({ sub: 'alice' })
          .setProtectedHeader({ alg: 'RS256', kid: 'k' })
          .setIssuer(ISSUER)
          .setAudience(AUDIENCE)
          .setExpirationTime(Math.floor(ts.clock.now() / 1000) + 600)
          .sign(pair.privateKey);
        const response = await rawRequest(ts.origin, 'GET', '/storage/v1/data/list', { headers: { authorization: `Bearer ${token}` } });
        assert.equal(response.status, 503);
        const body = response.json<{ code: string; message: string }>();
        assert.equal(body.code, 'ServiceUnavailable');
        assert.ok(body.message.includes(url), body.message);
        assert.match(body.message, mode === 'down' ? /failed/ : /did not answer within 300 ms/);
        // The built-in tokens do not depend on the identity provider.
        assert.equal((await pythonLikeClient(ts.origin, await ts.token('alice')).get('/data/list')).status, 200);
      } finally {
        await ts.close();
        if (mode === 'hang') await jwks.close();
      }
    });
  }
});
