// Guards CORS (docs/s3.md#cors, docs/operations.md STOWAGE_CORS_ORIGINS): buckets' CORS
// configurations through the AWS SDK (PutBucketCors, GetBucketCors, DeleteBucketCors, and the
// configurations S3 refuses), preflights and answers on /s3 judged by the rules of the bucket of
// the tenant the credential names, else by the server-wide origins, and preflights and answers on
// signed and upload URLs judged by STOWAGE_CORS_ORIGINS, refusals included. Raw HTTP on a real
// server, on whichever deployment the suite runs.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type CORSRule,
  DeleteBucketCorsCommand,
  GetBucketCorsCommand,
  GetObjectCommand,
  PutBucketCorsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { loadConfig } from '../src/config.js';
import { type RawResponse, rawRequest } from './helpers/raw-http.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const APP = 'https://app.example';
const EVIL = 'https://evil.example';

/** What a failed command threw: the S3 error code and HTTP status. */
async function failure(promise: Promise<unknown>): Promise<{ code: string; status: number | undefined }> {
  try {
    await promise;
  } catch (error) {
    const e = error as Error & { Code?: string; $metadata?: { httpStatusCode?: number } };
    return { code: e.Code ?? e.name, status: e.$metadata?.httpStatusCode };
  }
  return assert.fail('the command succeeded; an error was expected');
}

/** The <Code> of an S3 XML error body. */
const xmlCode = (response: RawResponse) => /<Code>([^<]*)<\/Code>/.exec(response.text)?.[1];

/** The path and query of a URL, as a raw request sends them. */
const target = (url: string) => {
  const parsed = new URL(url);
  return `${parsed.pathname}${parsed.search}`;
};

/** A preflight for `url`: OPTIONS with Origin, Access-Control-Request-Method and, when given, -Headers. */
const preflight = (origin: string, url: string, from: string, method: string, headers?: string) =>
  rawRequest(origin, 'OPTIONS', target(url), {
    headers: {
      origin: from,
      'access-control-request-method': method,
      ...(headers !== undefined && { 'access-control-request-headers': headers }),
    },
  });

/** The CORS headers of an answer, for one assertion. */
const corsOf = (response: RawResponse) => ({
  allowOrigin: response.headers['access-control-allow-origin'],
  credentials: response.headers['access-control-allow-credentials'],
});

const s3ClientFor = (endpoint: string, key: { clientId: string; secret: string }) =>
  new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: key.clientId, secretAccessKey: key.secret },
    maxAttempts: 1,
  });

/** Sends PutBucketCors with `xml` as its body instead of what the SDK would write: what S3 refuses. */
async function putRawCors(client: S3Client, xml: string) {
  const command = new PutBucketCorsCommand({
    Bucket: 'data',
    CORSConfiguration: { CORSRules: [{ AllowedMethods: ['GET'], AllowedOrigins: ['*'] }] },
  });
  command.middlewareStack.add(
    (next) => async (args) => {
      (args.request as { body: unknown }).body = xml;
      return next(args);
    },
    { step: 'build', priority: 'high' },
  );
  return client.send(command);
}

describe('STOWAGE_CORS_ORIGINS is parsed strictly', () => {
  test('origins are kept as browsers send them; *, alone, allows any', () => {
    assert.deepEqual(loadConfig({ STOWAGE_CORS_ORIGINS: 'https://App.Example, http://localhost:3000/' }).corsOrigins, [
      'https://app.example',
      'http://localhost:3000',
    ]);
    assert.deepEqual(loadConfig({ STOWAGE_CORS_ORIGINS: '*' }).corsOrigins, ['*']);
    assert.deepEqual(loadConfig({}).corsOrigins, [], 'none by default');
  });

  test('anything that is not an origin is refused, naming the setting', () => {
    for (const value of ['https://app.example/path', 'ftp://files.example', 'app.example', '*, https://app.example', 'https://*.example']) {
      assert.throws(() => loadConfig({ STOWAGE_CORS_ORIGINS: value }), /STOWAGE_CORS_ORIGINS/, value);
    }
  });
});

describe('bucket CORS configurations through the AWS SDK', () => {
  let ts: TestServer;
  let s3: S3Client;
  let bobS3: S3Client;

  before(async () => {
    ts = await startTestServer();
    s3 = s3ClientFor(`${ts.origin}/s3`, await ts.server.createApiKey('alice'));
    bobS3 = s3ClientFor(`${ts.origin}/s3`, await ts.server.createApiKey('bob'));
  });
  after(async () => {
    s3.destroy();
    bobS3.destroy();
    await ts.close();
  });

  test('a bucket has no configuration at first: NoSuchCORSConfiguration', async () => {
    assert.deepEqual(await failure(s3.send(new GetBucketCorsCommand({ Bucket: 'result' }))), {
      code: 'NoSuchCORSConfiguration',
      status: 404,
    });
  });

  test('what PutBucketCors stores, GetBucketCors answers; each tenant and bucket has its own; DeleteBucketCors removes it', async () => {
    const rules: CORSRule[] = [
      {
        ID: 'uploads',
        AllowedHeaders: ['content-type', 'x-amz-*'],
        AllowedMethods: ['PUT', 'POST'],
        AllowedOrigins: [APP, 'https://*.app.example'],
        ExposeHeaders: ['ETag', 'x-amz-request-id'],
        MaxAgeSeconds: 3000,
      },
      { AllowedMethods: ['GET', 'HEAD'], AllowedOrigins: ['*'] },
    ];
    await s3.send(new PutBucketCorsCommand({ Bucket: 'data', CORSConfiguration: { CORSRules: rules } }));
    assert.deepEqual((await s3.send(new GetBucketCorsCommand({ Bucket: 'data' }))).CORSRules, rules);
    assert.equal((await failure(s3.send(new GetBucketCorsCommand({ Bucket: 'tmp' })))).code, 'NoSuchCORSConfiguration');
    assert.equal((await failure(bobS3.send(new GetBucketCorsCommand({ Bucket: 'data' })))).code, 'NoSuchCORSConfiguration');

    const replacement: CORSRule[] = [{ AllowedMethods: ['DELETE'], AllowedOrigins: [EVIL] }];
    await s3.send(new PutBucketCorsCommand({ Bucket: 'data', CORSConfiguration: { CORSRules: replacement } }));
    assert.deepEqual((await s3.send(new GetBucketCorsCommand({ Bucket: 'data' }))).CORSRules, replacement);

    const deleted = await s3.send(new DeleteBucketCorsCommand({ Bucket: 'data' }));
    assert.equal(deleted.$metadata.httpStatusCode, 204);
    assert.equal((await failure(s3.send(new GetBucketCorsCommand({ Bucket: 'data' })))).code, 'NoSuchCORSConfiguration');
    await s3.send(new DeleteBucketCorsCommand({ Bucket: 'data' }));
  });

  test('configurations S3 refuses are refused with its codes, and the stored one stays', async () => {
    const kept: CORSRule[] = [{ AllowedMethods: ['GET'], AllowedOrigins: [APP] }];
    await s3.send(new PutBucketCorsCommand({ Bucket: 'data', CORSConfiguration: { CORSRules: kept } }));
    const put = (rules: CORSRule[]) =>
      failure(s3.send(new PutBucketCorsCommand({ Bucket: 'data', CORSConfiguration: { CORSRules: rules } })));
    const invalid = { code: 'InvalidRequest', status: 400 };
    const malformed = { code: 'MalformedXML', status: 400 };
    assert.deepEqual(await put([{ AllowedMethods: ['PATCH'], AllowedOrigins: [APP] }]), invalid, 'a method S3 does not take');
    assert.deepEqual(
      await put([{ AllowedMethods: ['GET'], AllowedOrigins: ['https://*.*.example'] }]),
      invalid,
      'two wildcards in an origin',
    );
    assert.deepEqual(
      await put([{ AllowedMethods: ['GET'], AllowedOrigins: [APP], AllowedHeaders: ['x-*-*'] }]),
      invalid,
      'two in a header',
    );
    assert.deepEqual(await put([{ AllowedMethods: ['GET'], AllowedOrigins: [APP], ExposeHeaders: ['*'] }]), invalid, 'any in ExposeHeader');
    assert.deepEqual(
      await put([{ AllowedMethods: ['GET'], AllowedOrigins: [APP], ExposeHeaders: ['a\u00e9b'] }]),
      invalid,
      'not a header name',
    );
    const many = Array.from({ length: 101 }, (_, n) => ({ AllowedMethods: ['GET'], AllowedOrigins: [`https://${n}.example`] }));
    assert.deepEqual(await put(many), malformed, '101 rules');
    await s3.send(new PutBucketCorsCommand({ Bucket: 'data', CORSConfiguration: { CORSRules: many.slice(0, 100) } }));
    assert.equal((await s3.send(new GetBucketCorsCommand({ Bucket: 'data' }))).CORSRules?.length, 100, '100 rules are S3s bound');
    await s3.send(new PutBucketCorsCommand({ Bucket: 'data', CORSConfiguration: { CORSRules: kept } }));

    const rule = (inner: string) => `<CORSConfiguration><CORSRule>${inner}</CORSRule></CORSConfiguration>`;
    for (const [what, xml] of [
      ['no rule', '<CORSConfiguration></CORSConfiguration>'],
      ['a rule without a method', rule(`<AllowedOrigin>${APP}</AllowedOrigin>`)],
      ['a rule without an origin', rule('<AllowedMethod>GET</AllowedMethod>')],
      ['an unknown element', rule(`<AllowedOrigin>${APP}</AllowedOrigin><AllowedMethod>GET</AllowedMethod><Allowed>x</Allowed>`)],
      [
        'MaxAgeSeconds not a number',
        rule(`<AllowedOrigin>${APP}</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>soon</MaxAgeSeconds>`),
      ],
      ['another root element', '<CorsConfig><CORSRule/></CorsConfig>'],
      ['not XML', 'origins: everyone'],
    ]) {
      assert.deepEqual(await failure(putRawCors(s3, xml as string)), malformed, what);
    }
    assert.deepEqual((await s3.send(new GetBucketCorsCommand({ Bucket: 'data' }))).CORSRules, kept);
  });
});

describe('CORS on /s3 without server-wide origins: the bucket rules of the tenant the credential names', () => {
  let ts: TestServer;
  let s3: S3Client;
  let bobS3: S3Client;
  let presignedPut: string;
  let presignedGet: string;

  before(async () => {
    ts = await startTestServer({ s3Port: 0 });
    s3 = s3ClientFor(`${ts.origin}/s3`, await ts.server.createApiKey('alice'));
    bobS3 = s3ClientFor(`${ts.origin}/s3`, await ts.server.createApiKey('bob'));
    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'page/hello.txt', Body: 'hello' }));
    presignedPut = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'data', Key: 'page/upload.txt' }), { expiresIn: 300 });
    presignedGet = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'data', Key: 'page/hello.txt' }), { expiresIn: 300 });
  });
  after(async () => {
    s3.destroy();
    bobS3.destroy();
    await ts.close();
  });

  test('with no rules anywhere a preflight is AccessForbidden and answers carry no CORS header', async () => {
    const refused = await preflight(ts.origin, presignedPut, APP, 'PUT');
    assert.equal(refused.status, 403);
    assert.equal(xmlCode(refused), 'AccessForbidden');
    assert.match(refused.text, /CORS is not enabled for this bucket/);
    assert.equal(corsOf(refused).allowOrigin, undefined);
    const answer = await rawRequest(ts.origin, 'GET', target(presignedGet), { headers: { origin: APP } });
    assert.equal(answer.status, 200);
    assert.equal(answer.text, 'hello');
    assert.equal(corsOf(answer).allowOrigin, undefined);
    assert.match(String(answer.headers.vary), /Origin/);
  });

  test('a preflight lacking Origin or Access-Control-Request-Method is BadRequest; one for another bucket NoSuchBucket', async () => {
    const noOrigin = await rawRequest(ts.origin, 'OPTIONS', target(presignedPut), { headers: { 'access-control-request-method': 'PUT' } });
    assert.deepEqual([noOrigin.status, xmlCode(noOrigin)], [400, 'BadRequest']);
    const noMethod = await rawRequest(ts.origin, 'OPTIONS', target(presignedPut), { headers: { origin: APP } });
    assert.deepEqual([noMethod.status, xmlCode(noMethod)], [400, 'BadRequest']);
    const other = await preflight(ts.origin, `${ts.origin}/s3/photos/a.jpg`, APP, 'GET');
    assert.deepEqual([other.status, xmlCode(other)], [404, 'NoSuchBucket']);
  });

  test('once the bucket has rules, a presigned URL preflight is answered by them', async () => {
    await s3.send(
      new PutBucketCorsCommand({
        Bucket: 'data',
        CORSConfiguration: {
          CORSRules: [
            {
              AllowedOrigins: [APP, 'https://*.tools.example'],
              AllowedMethods: ['PUT', 'GET'],
              AllowedHeaders: ['content-type', 'x-amz-meta-*'],
              ExposeHeaders: ['ETag'],
              MaxAgeSeconds: 120,
            },
          ],
        },
      }),
    );
    const allowed = await preflight(ts.origin, presignedPut, APP, 'PUT', 'Content-Type, x-amz-meta-owner');
    assert.equal(allowed.status, 200, allowed.text);
    assert.equal(allowed.headers['access-control-allow-origin'], APP);
    assert.equal(allowed.headers['access-control-allow-methods'], 'PUT, GET');
    assert.equal(allowed.headers['access-control-allow-headers'], 'content-type, x-amz-meta-owner');
    assert.equal(allowed.headers['access-control-max-age'], '120');
    assert.equal(allowed.headers['access-control-expose-headers'], 'ETag');
    assert.equal(corsOf(allowed).credentials, undefined, 'no route here reads cookies');
    assert.match(String(allowed.headers.vary), /Origin/);
    assert.equal((await preflight(ts.origin, presignedPut, 'https://a.tools.example', 'PUT')).status, 200, 'one wildcard in an origin');

    for (const [what, from, method, headers] of [
      ['another origin', EVIL, 'PUT', undefined],
      ['a method the rule leaves out', APP, 'DELETE', undefined],
      ['a header the rule leaves out', APP, 'PUT', 'content-type, x-amz-acl'],
    ] as const) {
      const refused = await preflight(ts.origin, presignedPut, from, method, headers);
      assert.deepEqual([refused.status, xmlCode(refused)], [403, 'AccessForbidden'], what);
      assert.equal(corsOf(refused).allowOrigin, undefined, what);
    }
    const bobsUrl = await getSignedUrl(bobS3, new PutObjectCommand({ Bucket: 'data', Key: 'page/upload.txt' }), { expiresIn: 300 });
    assert.equal((await preflight(ts.origin, bobsUrl, APP, 'PUT')).status, 403, "another tenant's bucket has no rules");
    const unsigned = await preflight(ts.origin, `${ts.origin}/s3/data/page/upload.txt`, APP, 'PUT');
    assert.equal(unsigned.status, 403, 'a preflight naming no key is judged by the server-wide origins: none');
    const viaS3Port = await preflight(
      ts.server.s3RootUrl() as string,
      presignedPut.replace(`${ts.origin}/s3`, ts.server.s3RootUrl() as string),
      APP,
      'PUT',
    );
    assert.equal(viaS3Port.headers['access-control-allow-origin'], APP, 'the S3 port answers alike');
  });

  test("answers carry the matching rule's headers, refusals too; other origins get none", async () => {
    const answer = await rawRequest(ts.origin, 'GET', target(presignedGet), { headers: { origin: APP } });
    assert.equal(answer.status, 200);
    assert.equal(answer.headers['access-control-allow-origin'], APP);
    assert.equal(answer.headers['access-control-expose-headers'], 'ETag');
    assert.equal(corsOf(answer).credentials, undefined);
    const stranger = await rawRequest(ts.origin, 'GET', target(presignedGet), { headers: { origin: EVIL } });
    assert.equal(stranger.status, 200);
    assert.equal(corsOf(stranger).allowOrigin, undefined);
    const tampered = await rawRequest(ts.origin, 'GET', target(presignedGet.replace('hello.txt', 'other.txt')), {
      headers: { origin: APP },
    });
    assert.deepEqual([tampered.status, xmlCode(tampered)], [403, 'SignatureDoesNotMatch']);
    assert.equal(tampered.headers['access-control-allow-origin'], APP, 'a page can read why it was refused');
  });

  test('a rule allowing any origin answers *', async () => {
    await s3.send(
      new PutBucketCorsCommand({ Bucket: 'tmp', CORSConfiguration: { CORSRules: [{ AllowedOrigins: ['*'], AllowedMethods: ['GET'] }] } }),
    );
    const url = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'tmp', Key: 'x' }), { expiresIn: 300 });
    const allowed = await preflight(ts.origin, url, EVIL, 'GET');
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers['access-control-allow-origin'], '*');
    assert.equal(corsOf(allowed).credentials, undefined);
  });
});

describe('CORS with STOWAGE_CORS_ORIGINS: signed and upload URLs, and /s3 buckets without rules of their own', () => {
  let ts: TestServer;
  let token: string;
  let s3: S3Client;

  before(async () => {
    ts = await startTestServer({ corsOrigins: [APP] });
    token = await ts.token('alice');
    s3 = s3ClientFor(`${ts.origin}/s3`, await ts.server.createApiKey('alice'));
    const stored = await rawRequest(ts.origin, 'PUT', '/storage/v1/data/set/shared/report.txt', {
      headers: { authorization: `Bearer ${token}` },
      body: 'quarterly numbers',
    });
    assert.equal(stored.status, 200);
  });
  after(async () => {
    s3.destroy();
    await ts.close();
  });

  const issue = async (path: string) => {
    const answer = await rawRequest(ts.origin, 'GET', `/storage/v1/data/${path}`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(answer.status, 200, answer.text);
    return answer.text;
  };

  test('a resumable upload URL: preflight, chunks and completion from an allowed origin', async () => {
    const url = await issue('new_resumable_url/from-page/notes.txt?content_type=text/plain');
    const allowed = await preflight(ts.origin, url, APP, 'PUT', 'content-range');
    assert.equal(allowed.status, 200, allowed.text);
    assert.equal(allowed.headers['access-control-allow-origin'], APP);
    assert.match(String(allowed.headers['access-control-allow-methods']), /\bPUT\b/);
    assert.equal(allowed.headers['access-control-allow-headers'], 'content-range');
    assert.ok(Number(allowed.headers['access-control-max-age']) > 0);
    assert.equal(corsOf(allowed).credentials, undefined);

    const first = await rawRequest(ts.origin, 'PUT', target(url), {
      headers: { origin: APP, 'content-range': 'bytes 0-5/11', 'content-length': '6' },
      body: 'hello ',
    });
    assert.equal(first.status, 308);
    assert.equal(first.headers.range, 'bytes=0-5');
    assert.equal(first.headers['access-control-allow-origin'], APP);
    assert.match(String(first.headers['access-control-expose-headers']), /\bRange\b/, 'the page reads where the upload stands');
    const last = await rawRequest(ts.origin, 'PUT', target(url), {
      headers: { origin: APP, 'content-range': 'bytes 6-10/11', 'content-length': '5' },
      body: 'world',
    });
    assert.equal(last.status, 200, last.text);
    assert.equal(last.headers['access-control-allow-origin'], APP);
    assert.match(String(last.headers.vary), /Origin/);
    const read = await rawRequest(ts.origin, 'GET', '/storage/v1/data/get/from-page/notes.txt', {
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(read.text, 'hello world');
  });

  test('a signed download URL: ranged GET from an allowed origin exposes ETag and Content-Range', async () => {
    const url = await issue('get_signed_url/shared/report.txt');
    const answer = await rawRequest(ts.origin, 'GET', target(url), { headers: { origin: APP, range: 'bytes=0-8' } });
    assert.equal(answer.status, 206);
    assert.equal(answer.text, 'quarterly');
    assert.equal(answer.headers['access-control-allow-origin'], APP);
    const exposed = String(answer.headers['access-control-expose-headers']).split(/,\s*/);
    for (const name of ['ETag', 'Content-Range', 'x-stowage-sha256']) assert.ok(exposed.includes(name), name);
    const plain = await rawRequest(ts.origin, 'GET', target(url));
    assert.equal(plain.status, 200);
    assert.equal(corsOf(plain).allowOrigin, undefined);
    assert.match(String(plain.headers.vary), /Origin/, 'a cache keeps answers to other origins apart');
  });

  test('other origins are refused at the preflight and get no CORS header on answers', async () => {
    const uploadUrl = await issue('new_resumable_url/from-page/evil.txt');
    const refused = await preflight(ts.origin, uploadUrl, EVIL, 'PUT');
    assert.equal(refused.status, 403);
    assert.equal(refused.json<{ code: string }>().code, 'CorsForbidden');
    assert.equal(corsOf(refused).allowOrigin, undefined);
    const downloadUrl = await issue('get_signed_url/shared/report.txt');
    assert.equal((await preflight(ts.origin, downloadUrl, EVIL, 'GET')).status, 403);
    const answer = await rawRequest(ts.origin, 'GET', target(downloadUrl), { headers: { origin: EVIL } });
    assert.equal(answer.status, 200);
    assert.equal(corsOf(answer).allowOrigin, undefined);
    const incomplete = await rawRequest(ts.origin, 'OPTIONS', target(uploadUrl), { headers: { origin: APP } });
    assert.deepEqual([incomplete.status, incomplete.json<{ code: string }>().code], [400, 'InvalidArgument']);
  });

  test('the API itself takes no cross-origin requests: its preflights find no route', async () => {
    const answer = await preflight(ts.origin, `${ts.origin}/storage/v1/data/list`, APP, 'GET', 'authorization');
    assert.equal(answer.status, 404);
    assert.equal(corsOf(answer).allowOrigin, undefined);
  });

  test('on /s3 the server-wide origins answer for buckets without rules; a bucket with rules is judged by them alone', async () => {
    const url = await getSignedUrl(s3, new PutObjectCommand({ Bucket: 'data', Key: 'a.txt' }), { expiresIn: 300 });
    assert.equal((await preflight(ts.origin, url, APP, 'PUT', 'content-type')).headers['access-control-allow-origin'], APP);
    assert.equal(
      (await preflight(ts.origin, `${ts.origin}/s3/data/a.txt`, APP, 'PUT', 'authorization')).status,
      200,
      'no credential: server-wide',
    );
    assert.equal((await preflight(ts.origin, url, EVIL, 'PUT')).status, 403);
    await s3.send(
      new PutBucketCorsCommand({ Bucket: 'data', CORSConfiguration: { CORSRules: [{ AllowedOrigins: [EVIL], AllowedMethods: ['PUT'] }] } }),
    );
    assert.equal((await preflight(ts.origin, url, APP, 'PUT')).status, 403, "the bucket's rules replace the server-wide ones");
    assert.equal((await preflight(ts.origin, url, EVIL, 'PUT')).headers['access-control-allow-origin'], EVIL);
  });
});
