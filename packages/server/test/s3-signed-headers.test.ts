// Guards what a SigV4 signature must cover before the S3 API acts on a request: `host` and every
// `x-amz-*` header present (an unsigned one is refused, as S3 refuses it, so that whoever holds a
// presigned URL cannot turn it into another operation), the `s3` service and the server's region
// in the credential scope, and a scope date that is X-Amz-Date's. Signed by the AWS SDK's own
// signer and presigner, and by boto3, on a real server, on whichever deployment the suite runs.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { SignatureV4 } from '@smithy/signature-v4';
import { type ApiClient, apiClient } from './helpers/api-client.js';
import { boto3Skip, type S3Tools, s3Tools } from './helpers/s3-tools.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const SECRET_TEXT = 'the tenant secret';

/** SHA-256 (or its HMAC) in the shape the AWS SDK's signer takes. */
class Sha256 {
  private readonly hash;
  constructor(secret?: string | Uint8Array) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', secret);
  }
  update(data: string | Uint8Array): void {
    this.hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}

type SignableRequest = Parameters<SignatureV4['sign']>[0] & { headers: Record<string, string> };

/** A request as the AWS SDK's signer takes it. */
function requestFor(url: URL, headers: Record<string, string>): SignableRequest {
  return { method: 'GET', protocol: url.protocol, hostname: url.hostname, port: Number(url.port), path: url.pathname, query: {}, headers };
}

describe('S3 signatures cover what the request does', () => {
  let ts: TestServer;
  let endpoint: string;
  let credentials: { accessKeyId: string; secretAccessKey: string };
  let s3: S3Client;
  let api: ApiClient;

  before(async () => {
    ts = await startTestServer();
    endpoint = `${ts.origin}/s3`;
    const key = await ts.server.createApiKey('alice');
    credentials = { accessKeyId: key.clientId, secretAccessKey: key.secret };
    s3 = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 });
    api = apiClient(ts.origin, await ts.token('alice', 3_600_000));
    assert.equal((await api.put('data', 'secret.txt', SECRET_TEXT)).status, 200);
  });
  after(async () => {
    s3.destroy();
    await ts.close();
  });

  /** The S3 error code of an answer's XML body. */
  const codeOf = async (response: Response) => /<Code>([^<]*)<\/Code>/.exec(await response.text())?.[1];

  /** The key is absent, and the secret still holds its own bytes. */
  const assertNothingChanged = async (key: string) => {
    assert.equal((await api.get('data', key)).status, 404, `${key} was not written`);
    assert.equal((await api.get('data', 'secret.txt')).text, SECRET_TEXT);
  };

  test('a presigned PUT with an unsigned x-amz-copy-source is refused, and copies nothing', async () => {
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'data', Key: 'mine.txt' }), { expiresIn: 300 });
    const forged = await fetch(url, { method: 'PUT', headers: { 'x-amz-copy-source': '/data/secret.txt' } });
    assert.equal(forged.status, 403);
    assert.equal(await codeOf(forged), 'AccessDenied');
    await assertNothingChanged('mine.txt');
    // The same URL, used as it was signed, works (the SDK presigns the empty body's checksum).
    const plain = await fetch(url, { method: 'PUT', body: '' });
    assert.equal(plain.status, 200, await plain.text());
    assert.equal((await api.get('data', 'mine.txt')).text, '');
  });

  test('a presigned PUT with unsigned x-amz-meta-* or x-amz-tagging headers is refused', async () => {
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'data', Key: 'meta.txt' }), { expiresIn: 300 });
    for (const header of ['x-amz-meta-owner', 'x-amz-tagging', 'X-Amz-Meta-Mixed-Case']) {
      const forged = await fetch(url, { method: 'PUT', body: 'x', headers: { [header]: 'mallory' } });
      assert.equal(forged.status, 403, header);
      assert.equal(await codeOf(forged), 'AccessDenied', header);
    }
    await assertNothingChanged('meta.txt');
  });

  test('a header-signed request with an x-amz-* header added after signing is refused', async () => {
    const client = new S3Client({ endpoint, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1 });
    client.middlewareStack.add(
      (next) => (args) => {
        (args.request as { headers: Record<string, string> }).headers['x-amz-copy-source'] = '/data/secret.txt';
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'addAfterSigning' },
    );
    try {
      await assert.rejects(client.send(new PutObjectCommand({ Bucket: 'data', Key: 'after.txt', Body: 'x' })), {
        name: 'AccessDenied',
      });
    } finally {
      client.destroy();
    }
    await assertNothingChanged('after.txt');
  });

  /** A GET of secret.txt signed by the AWS SDK's signer with the given scope and headers left unsigned. */
  const signedGet = async (options: { region?: string; service?: string; unsigned?: string[]; date?: Date; scopeDate?: string }) => {
    const url = new URL(`${endpoint}/data/secret.txt`);
    const signer = new SignatureV4({
      credentials,
      region: options.region ?? 'us-east-1',
      service: options.service ?? 's3',
      sha256: Sha256,
      uriEscapePath: false,
    });
    const request = requestFor(url, { host: url.host, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
    const signed = await signer.sign(request, {
      signingDate: options.date ?? new Date(),
      unsignableHeaders: new Set(options.unsigned ?? []),
    });
    const headers: Record<string, string> = { ...signed.headers };
    if (options.scopeDate) headers.authorization = headers.authorization?.replace(/\/\d{8}\//, `/${options.scopeDate}/`);
    return fetch(url, { headers });
  };

  test('the signature must cover host', async () => {
    const ok = await signedGet({});
    assert.equal(ok.status, 200, await ok.text());
    const withoutHost = await signedGet({ unsigned: ['host'] });
    assert.equal(withoutHost.status, 403);
    assert.equal(await codeOf(withoutHost), 'AccessDenied');
  });

  test('the signature must cover x-amz-content-sha256 and x-amz-date too', async () => {
    for (const header of ['x-amz-content-sha256', 'x-amz-date']) {
      const answer = await signedGet({ unsigned: [header] });
      assert.equal(answer.status, 403, header);
      assert.equal(await codeOf(answer), 'AccessDenied', header);
    }
  });

  test("the credential scope must name the service s3 and the server's region", async () => {
    const otherService = await signedGet({ service: 'sts' });
    assert.equal(otherService.status, 400);
    const text = await otherService.text();
    assert.match(text, /<Code>AuthorizationHeaderMalformed<\/Code>/);
    assert.match(text, /sts/);
    const otherRegion = await signedGet({ region: 'eu-west-1' });
    assert.equal(otherRegion.status, 400);
    const regionText = await otherRegion.text();
    assert.match(regionText, /<Code>AuthorizationHeaderMalformed<\/Code>/);
    // S3 names the region to use, and SDKs retry with it.
    assert.match(regionText, /<Region>us-east-1<\/Region>/);
  });

  test('a presigned URL for another region or service is refused', async () => {
    for (const [region, service] of [
      ['eu-west-1', 's3'],
      ['us-east-1', 'sts'],
    ] as const) {
      const signer = new S3Client({ endpoint, region, forcePathStyle: true, credentials, maxAttempts: 1 });
      const url = new URL(await getSignedUrl(signer, new GetObjectCommand({ Bucket: 'data', Key: 'secret.txt' }), { expiresIn: 300 }));
      signer.destroy();
      if (service !== 's3') {
        // Re-sign the same URL for another service with the SDK's presigner.
        const presigner = new SignatureV4({ credentials, region, service, sha256: Sha256, uriEscapePath: false });
        const request = requestFor(url, { host: url.host });
        const presigned = await presigner.presign(request, { expiresIn: 300 });
        url.search = new URLSearchParams(presigned.query as Record<string, string>).toString();
      }
      const answer = await fetch(url);
      assert.equal(answer.status, 400, `${region}/${service}`);
      assert.equal(await codeOf(answer), 'AuthorizationQueryParametersError', `${region}/${service}`);
    }
  });

  test('a credential scope dated another day than X-Amz-Date is refused, as malformed', async () => {
    const answer = await signedGet({ scopeDate: '20200101' });
    assert.equal(answer.status, 400);
    assert.equal(await codeOf(answer), 'AuthorizationHeaderMalformed');
  });

  describe('boto3', { skip: boto3Skip }, () => {
    let tools: S3Tools;
    before(async () => {
      tools = await s3Tools({ endpoint, ...credentials });
    });
    after(() => tools.close());

    test("generate_presigned_url('put_object'): an added x-amz-copy-source or x-amz-meta-* is refused", async () => {
      const result = await tools.python(
        `print(s3v4.generate_presigned_url("put_object", Params={"Bucket": "data", "Key": "boto.txt"}, ExpiresIn=300))`,
      );
      assert.equal(result.code, 0, result.stderr);
      const url = result.stdout.trim();
      const copy = await fetch(url, { method: 'PUT', headers: { 'x-amz-copy-source': '/data/secret.txt' } });
      assert.equal(copy.status, 403);
      assert.equal(await codeOf(copy), 'AccessDenied');
      const meta = await fetch(url, { method: 'PUT', body: 'x', headers: { 'x-amz-meta-owner': 'mallory' } });
      assert.equal(meta.status, 403);
      await assertNothingChanged('boto.txt');
      const plain = await fetch(url, { method: 'PUT', body: 'boto' });
      assert.equal(plain.status, 200, await plain.text());
    });
  });
});
