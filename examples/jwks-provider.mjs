// A stand-in identity provider for trying STOWAGE_JWKS_URL: it publishes an ES256 key as a JWKS
// and mints tokens for whoever asks. For trying things out only: it checks no one's identity.
//
//   node examples/jwks-provider.mjs            # serves http://127.0.0.1:8799
//   curl -s 'http://127.0.0.1:8799/token?sub=alice'
import http from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

const PORT = Number(process.env.PORT ?? 8799);
const ISSUER = `http://127.0.0.1:${PORT}/`;
const AUDIENCE = 'stowage';
const { publicKey, privateKey } = await generateKeyPair('ES256');
const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'demo-1', alg: 'ES256', use: 'sig' }] };

http
  .createServer(async (request, response) => {
    const url = new URL(request.url ?? '/', ISSUER);
    if (url.pathname === '/.well-known/jwks.json') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    } else if (url.pathname === '/token') {
      const token = await new SignJWT({})
        .setProtectedHeader({ alg: 'ES256', kid: 'demo-1' })
        .setSubject(url.searchParams.get('sub') ?? 'alice')
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setExpirationTime('1h')
        .sign(privateKey);
      response.writeHead(200, { 'content-type': 'text/plain' }).end(token);
    } else {
      response.writeHead(404).end();
    }
  })
  .listen(PORT, '127.0.0.1', () =>
    console.log(`identity provider: issuer ${ISSUER}, audience ${AUDIENCE}, keys ${ISSUER}.well-known/jwks.json`),
  );
