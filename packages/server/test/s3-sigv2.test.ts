// Guards Signature Version 2 on the S3 API (s3/sigv2.ts): header-signed requests
// (`Authorization: AWS KEY:SIG`) and presigned URLs (AWSAccessKeyId, Expires, Signature), as
// boto3 (signature_version "s3", and its default presigner) and aws-cli v1 make them, on the /s3
// path and on the S3 port; and its refusals: a wrong signature, an unknown key, a stale Date, an
// expired or too distant Expires, and an x-amz-* header added to a signed request (every x-amz-*
// header is part of what SigV2 signs, repeated ones included, so adding one breaks the signature).
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import type { OutgoingHttpHeaders } from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ApiClient, apiClient } from './helpers/api-client.js';
import { rawRequest } from './helpers/raw-http.js';
import { awsSkip, boto3Skip, type S3Tools, s3Tools } from './helpers/s3-tools.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

/** A SigV2 signature, written from S3's documentation independently of the server's code. */
function signV2(secret: string, lines: { method: string; md5?: string; type?: string; date: string; amz?: string[]; resource: string }) {
  const amz = (lines.amz ?? []).map((line) => `${line}\n`).join('');
  const toSign = `${lines.method}\n${lines.md5 ?? ''}\n${lines.type ?? ''}\n${lines.date}\n${amz}${lines.resource}`;
  return createHmac('sha1', secret).update(toSign).digest('base64');
}

const codeOf = (text: string) => /<Code>([^<]*)<\/Code>/.exec(text)?.[1];

describe('S3 Signature Version 2', () => {
  let ts: TestServer;
  let api: ApiClient;
  let tools: S3Tools;
  let key: { clientId: string; secret: string };
  let rootOrigin: string;

  before(async () => {
    ts = await startTestServer({ s3Port: 0 });
    key = await ts.server.createApiKey('alice');
    api = apiClient(ts.origin, await ts.token('alice'));
    rootOrigin = ts.server.s3RootUrl() ?? assert.fail('no S3 port');
    tools = await s3Tools({ endpoint: `${ts.origin}/s3`, accessKeyId: key.clientId, secretAccessKey: key.secret });
    assert.equal((await api.put('data', 'v2/existing.txt', 'existing bytes')).status, 200);
  });
  after(async () => {
    await tools?.close();
    await ts?.close();
  });

  /** A header-signed request to `origin` + `target`; `resource` is what is signed (default: the path). */
  const headerSigned = (
    method: string,
    target: string,
    options: {
      headers?: OutgoingHttpHeaders;
      amz?: string[];
      body?: string;
      date?: Date;
      secret?: string;
      keyId?: string;
      origin?: string;
    } = {},
  ) => {
    const date = (options.date ?? new Date()).toUTCString();
    const type = options.headers?.['content-type'] as string | undefined;
    const signature = signV2(options.secret ?? key.secret, { method, type, date, amz: options.amz, resource: target.split('?')[0] ?? '' });
    return rawRequest(options.origin ?? ts.origin, method, target, {
      headers: { ...options.headers, date, authorization: `AWS ${options.keyId ?? key.clientId}:${signature}` },
      body: options.body,
    });
  };

  /** A presigned URL's query for `method` on `resource`, expiring at `expires` (seconds since the epoch). */
  const presignedQuery = (method: string, resource: string, expires: number, secret = key.secret) =>
    new URLSearchParams({
      AWSAccessKeyId: key.clientId,
      Expires: String(expires),
      Signature: signV2(secret, { method, date: String(expires), resource }),
    }).toString();

  test('boto3 with signature_version "s3" signs put, get, head, list, copy and delete with SigV2', { skip: boto3Skip }, async () => {
    const script = `
from botocore.exceptions import ClientError
v2 = boto3.client("s3", endpoint_url=endpoint, region_name=os.environ["S3_REGION"],
                  aws_access_key_id=os.environ["S3_ACCESS_KEY_ID"], aws_secret_access_key=os.environ["S3_SECRET_ACCESS_KEY"],
                  config=Config(signature_version="s3", s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
seen = []
v2.meta.events.register("before-send.s3", lambda request, **kw: seen.append(request.headers.get("Authorization", b"").decode()[:4]))
out = {}
put = v2.put_object(Bucket="data", Key="v2/boto 3.txt", Body=b"signed with v2", ContentType="text/plain", Metadata={"via": "sigv2"})
out["put_etag"] = put["ETag"]
got = v2.get_object(Bucket="data", Key="v2/boto 3.txt")
out["get"] = [got["Body"].read().decode(), got["ContentType"], got["Metadata"]]
out["head"] = v2.head_object(Bucket="data", Key="v2/boto 3.txt")["ContentLength"]
out["list"] = [o["Key"] for o in v2.list_objects_v2(Bucket="data", Prefix="v2/")["Contents"]]
v2.copy_object(Bucket="tmp", Key="v2/copied.txt", CopySource={"Bucket": "data", "Key": "v2/boto 3.txt"})
out["copied"] = v2.get_object(Bucket="tmp", Key="v2/copied.txt")["Body"].read().decode()
v2.delete_object(Bucket="tmp", Key="v2/copied.txt")
try:
    v2.get_object(Bucket="tmp", Key="v2/copied.txt")
except ClientError as e:
    out["after_delete"] = e.response["Error"]["Code"]
out["schemes"] = sorted(set(seen))
print(json.dumps(out))
`;
    const result = await tools.python(script);
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}');
    // Every request went out with SigV2's scheme, not AWS4-HMAC-SHA256.
    assert.deepEqual(out.schemes, ['AWS ']);
    assert.deepEqual(out.get, ['signed with v2', 'text/plain', { via: 'sigv2' }]);
    assert.equal(out.head, 14);
    assert.deepEqual(out.list, ['v2/boto 3.txt', 'v2/existing.txt']);
    assert.equal(out.copied, 'signed with v2');
    assert.equal(out.after_delete, 'NoSuchKey');
    const stored = await api.get('data', 'v2/boto 3.txt');
    assert.equal(stored.text, 'signed with v2');
    assert.equal(stored.headers['x-stowage-meta-via'], 'sigv2');
  });

  test("boto3's default presigner makes SigV2 GET and PUT URLs, and they work", { skip: boto3Skip }, async () => {
    const script = `
import urllib.request
out = {}
get_url = s3.generate_presigned_url("get_object", Params={"Bucket": "data", "Key": "v2/existing.txt"}, ExpiresIn=300)
out["get_url"] = get_url
out["get"] = urllib.request.urlopen(get_url).read().decode()
# response-* overrides are sub-resources: signed, with their values decoded.
typed_url = s3.generate_presigned_url("get_object", Params={"Bucket": "data", "Key": "v2/existing.txt", "ResponseContentType": "text/x-v2; charset=utf-8"}, ExpiresIn=300)
out["typed"] = urllib.request.urlopen(typed_url).headers["Content-Type"]
try:
    urllib.request.urlopen(typed_url.replace("x-v2", "html"))
    out["retyped"] = 200
except urllib.error.HTTPError as e:
    out["retyped"] = e.code
put_url = s3.generate_presigned_url("put_object", Params={"Bucket": "data", "Key": "v2/by url.txt"}, ExpiresIn=300)
out["put_url"] = put_url
# SigV2 signs Content-Type: send none, as signed (urllib would add its form type).
import http.client, urllib.parse
target = urllib.parse.urlsplit(put_url)
connection = http.client.HTTPConnection(target.hostname, target.port)
connection.request("PUT", target.path + "?" + target.query, body=b"put by a v2 url")
answer = connection.getresponse()
out["put"] = answer.status if answer.status == 200 else [answer.status, answer.read().decode()]
print(json.dumps(out))
`;
    // Without the s3v4 the tools' own config file sets, as boto3 is out of the box.
    const plainConfig = path.join(tools.dir, 'aws-config-boto3-v2');
    await writeFile(plainConfig, '[default]\nregion = us-east-1\n');
    const result = await tools.python(script, [], { env: { AWS_CONFIG_FILE: plainConfig } });
    assert.equal(result.code, 0, result.stderr);
    const out = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '{}');
    assert.match(out.get_url, /AWSAccessKeyId=.*Signature=/);
    assert.match(out.put_url, /AWSAccessKeyId=.*Signature=/);
    assert.equal(out.get, 'existing bytes');
    assert.equal(out.typed, 'text/x-v2; charset=utf-8');
    assert.equal(out.retyped, 403, 'a response-* override changed after signing');
    assert.equal(out.put, 200);
    assert.equal((await api.get('data', 'v2/by url.txt')).text, 'put by a v2 url');
    // The same URL with an x-amz-* header added is another request than the one signed.
    const forged = await fetch(out.put_url, {
      method: 'PUT',
      body: Buffer.from('mallory'),
      headers: { 'x-amz-copy-source': '/data/v2/existing.txt' },
    });
    assert.equal(forged.status, 403);
    assert.equal(codeOf(await forged.text()), 'SignatureDoesNotMatch');
    assert.equal((await api.get('data', 'v2/by url.txt')).text, 'put by a v2 url');
  });

  test('aws-cli v1 presigns with SigV2 by default, and the URL works', { skip: awsSkip }, async () => {
    const plainConfig = path.join(tools.dir, 'aws-config-v2');
    await writeFile(plainConfig, '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n');
    const result = await tools.aws(['s3', 'presign', 's3://data/v2/existing.txt', '--expires-in', '300'], {
      env: { AWS_CONFIG_FILE: plainConfig },
    });
    assert.equal(result.code, 0, result.stderr);
    const url = result.stdout.trim();
    if (!/AWSAccessKeyId=/.test(url)) assert.match(url, /X-Amz-Signature=/, 'this aws-cli presigns with SigV4');
    const answer = await fetch(url);
    assert.equal(answer.status, 200);
    assert.equal(await answer.text(), 'existing bytes');
  });

  test('a header-signed request on the S3 port signs the path its client sent', async () => {
    const answer = await headerSigned('GET', '/data/v2/existing.txt', { origin: rootOrigin });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(answer.text, 'existing bytes');
    // Signed as /s3/data/… but sent to the S3 port as /data/…: not the request signed.
    const date = new Date().toUTCString();
    const signature = signV2(key.secret, { method: 'GET', date, resource: '/s3/data/v2/existing.txt' });
    const moved = await rawRequest(rootOrigin, 'GET', '/data/v2/existing.txt', {
      headers: { date, authorization: `AWS ${key.clientId}:${signature}` },
    });
    assert.equal(moved.status, 403);
    assert.equal(codeOf(moved.text), 'SignatureDoesNotMatch');
  });

  test('sub-resources are signed, other parameters are not', async () => {
    const uploads = await headerSigned('POST', '/s3/data/v2/multi.bin?uploads', {});
    assert.equal(uploads.status, 403, 'the signature left out ?uploads');
    const date = new Date().toUTCString();
    const signature = signV2(key.secret, { method: 'POST', date, resource: '/s3/data/v2/multi.bin?uploads' });
    const started = await rawRequest(ts.origin, 'POST', '/s3/data/v2/multi.bin?uploads', {
      headers: { date, authorization: `AWS ${key.clientId}:${signature}` },
    });
    assert.equal(started.status, 200, started.text);
    assert.match(started.text, /<UploadId>/);
    const listed = await headerSigned('GET', '/s3/data?list-type=2&prefix=v2%2Fexisting');
    assert.equal(listed.status, 200, listed.text);
    assert.match(listed.text, /<Key>v2\/existing.txt<\/Key>/);
  });

  test('x-amz-* headers are all signed, repeated ones as one comma-joined line', async () => {
    const amz = ['x-amz-meta-tags:red,blue'];
    const signed = await headerSigned('PUT', '/s3/data/v2/repeated.txt', {
      headers: { 'x-amz-meta-tags': ['red', 'blue'] },
      amz,
      body: 'tagged',
    });
    assert.equal(signed.status, 200, signed.text);
    assert.equal((await api.get('data', 'v2/repeated.txt')).headers['x-stowage-meta-tags'], 'red, blue');
    // A second value added to a signed header, or a header added beside it, is not what was signed.
    for (const headers of [
      { 'x-amz-meta-tags': ['red', 'blue', 'green'] },
      { 'x-amz-meta-tags': ['red', 'blue'], 'x-amz-copy-source': '/data/v2/existing.txt' },
    ]) {
      const forged = await headerSigned('PUT', '/s3/data/v2/forged.txt', { headers, amz, body: 'forged' });
      assert.equal(forged.status, 403, JSON.stringify(headers));
      assert.equal(codeOf(forged.text), 'SignatureDoesNotMatch');
    }
    assert.equal((await api.get('data', 'v2/forged.txt')).status, 404);
  });

  test('Content-MD5 is signed and checked against the body', async () => {
    const md5 = (text: string) => createHash('md5').update(text).digest('base64');
    const body = 'checked body';
    const date = new Date().toUTCString();
    const put = (contentMd5: string, sent: string) =>
      rawRequest(ts.origin, 'PUT', '/s3/data/v2/md5.txt', {
        headers: {
          date,
          'content-md5': contentMd5,
          authorization: `AWS ${key.clientId}:${signV2(key.secret, { method: 'PUT', md5: contentMd5, date, resource: '/s3/data/v2/md5.txt' })}`,
        },
        body: sent,
      });
    const bad = await put(md5(body), 'other body!!');
    assert.equal(bad.status, 400);
    assert.equal(codeOf(bad.text), 'BadDigest');
    assert.equal((await api.get('data', 'v2/md5.txt')).status, 404);
    const good = await put(md5(body), body);
    assert.equal(good.status, 200, good.text);
  });

  test('an Authorization scheme other than AWS and AWS4-HMAC-SHA256 is still refused', async () => {
    const answer = await rawRequest(ts.origin, 'GET', '/s3/data/v2/existing.txt', { headers: { authorization: 'Bearer abc' } });
    assert.equal(answer.status, 400);
    assert.equal(codeOf(answer.text), 'InvalidRequest');
  });

  test('refusals: wrong signature, unknown key, stale Date, missing Date', async () => {
    const wrong = await headerSigned('GET', '/s3/data/v2/existing.txt', { secret: 'not the secret' });
    assert.equal(wrong.status, 403);
    assert.equal(codeOf(wrong.text), 'SignatureDoesNotMatch');
    const unknown = await headerSigned('GET', '/s3/data/v2/existing.txt', { keyId: 'stw_nobody' });
    assert.equal(unknown.status, 403);
    assert.equal(codeOf(unknown.text), 'InvalidAccessKeyId');
    const stale = await headerSigned('GET', '/s3/data/v2/existing.txt', { date: new Date(Date.now() - 20 * 60_000) });
    assert.equal(stale.status, 403);
    assert.equal(codeOf(stale.text), 'RequestTimeTooSkewed');
    const signature = signV2(key.secret, { method: 'GET', date: '', resource: '/s3/data/v2/existing.txt' });
    const undated = await rawRequest(ts.origin, 'GET', '/s3/data/v2/existing.txt', {
      headers: { authorization: `AWS ${key.clientId}:${signature}` },
    });
    assert.equal(undated.status, 403);
    assert.equal(codeOf(undated.text), 'AccessDenied');
  });

  test('presigned refusals: expired, too far ahead, wrong signature; nothing stored', async () => {
    const now = Math.floor(Date.now() / 1000);
    const resource = '/s3/data/v2/presigned.txt';
    const expired = await fetch(`${ts.origin}${resource}?${presignedQuery('PUT', resource, now - 60)}`, {
      method: 'PUT',
      body: Buffer.from('x'),
    });
    assert.equal(expired.status, 403);
    assert.match(await expired.text(), /Request has expired/);
    const distant = await fetch(`${ts.origin}${resource}?${presignedQuery('PUT', resource, now + 8 * 24 * 3600)}`, {
      method: 'PUT',
      body: Buffer.from('x'),
    });
    assert.equal(distant.status, 403);
    assert.equal(codeOf(await distant.text()), 'AccessDenied');
    const wrong = await fetch(`${ts.origin}${resource}?${presignedQuery('PUT', resource, now + 300, 'not the secret')}`, {
      method: 'PUT',
      body: Buffer.from('x'),
    });
    assert.equal(wrong.status, 403);
    assert.equal(codeOf(await wrong.text()), 'SignatureDoesNotMatch');
    // Signed for GET, used for PUT.
    const otherMethod = await fetch(`${ts.origin}${resource}?${presignedQuery('GET', resource, now + 300)}`, {
      method: 'PUT',
      body: Buffer.from('x'),
    });
    assert.equal(otherMethod.status, 403);
    assert.equal((await api.get('data', 'v2/presigned.txt')).status, 404);
    const fine = await fetch(`${ts.origin}${resource}?${presignedQuery('PUT', resource, now + 300)}`, {
      method: 'PUT',
      body: Buffer.from('fine'),
    });
    assert.equal(fine.status, 200, await fine.text());
    assert.equal((await api.get('data', 'v2/presigned.txt')).text, 'fine');
  });
});
