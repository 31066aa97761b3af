// Guards the S3 API against MinIO's JavaScript SDK (`minio` on npm), which takes an endpoint as
// host and port only, so it talks to the S3 port: put and get, a multipart upload (a stream over
// its part size), composeObject (UploadPartCopy of ranges), presigned GET and PUT URLs, and
// presignedPostPolicy with a form POSTed by fetch. What it stored is read through storage API v1.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { after, before, describe, test } from 'node:test';
import * as Minio from 'minio';
import { type ApiClient, apiClient } from './helpers/api-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const MiB = 1024 * 1024;

/** Bytes that differ from part to part, so a misplaced part shows. */
function patterned(size: number, seed: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i < size; i++) bytes[i] = (i * 31 + seed) % 251;
  return bytes;
}

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

describe("MinIO's JavaScript SDK", () => {
  let ts: TestServer;
  let api: ApiClient;
  let minio: Minio.Client;

  before(async () => {
    ts = await startTestServer({ s3Port: 0 });
    const key = await ts.server.createApiKey('alice');
    api = apiClient(ts.origin, await ts.token('alice'));
    const root = new URL(ts.server.s3RootUrl() ?? assert.fail('no S3 port'));
    minio = new Minio.Client({
      endPoint: root.hostname,
      port: Number(root.port),
      useSSL: false,
      accessKey: key.clientId,
      secretKey: key.secret,
      region: 'us-east-1',
      pathStyle: true,
      partSize: 5 * MiB,
    });
  });
  after(async () => {
    await ts?.close();
  });

  test('putObject, statObject, getObject and listing', async () => {
    const put = await minio.putObject('data', 'minio/hello.txt', Buffer.from('hello from minio-js'), undefined, {
      'Content-Type': 'text/plain',
      'X-Amz-Meta-Tool': 'minio-js',
    });
    assert.equal(put.etag, createHash('md5').update('hello from minio-js').digest('hex'));
    const stat = await minio.statObject('data', 'minio/hello.txt');
    assert.equal(stat.size, 19);
    assert.equal(stat.metaData['content-type'], 'text/plain');
    assert.equal(stat.metaData.tool, 'minio-js');
    assert.equal(await text(await minio.getObject('data', 'minio/hello.txt')), 'hello from minio-js');
    const names: string[] = [];
    for await (const item of minio.listObjectsV2('data', 'minio/', true)) if (item.name) names.push(item.name);
    assert.deepEqual(names, ['minio/hello.txt']);
    const stored = await api.get('data', 'minio/hello.txt');
    assert.equal(stored.text, 'hello from minio-js');
    assert.equal(stored.headers['x-stowage-meta-tool'], 'minio-js');
  });

  test('a stream over the part size goes up as a multipart upload', async () => {
    const bytes = patterned(11 * MiB, 1);
    const chunks = Array.from({ length: 11 }, (_, i) => bytes.subarray(i * MiB, (i + 1) * MiB));
    const put = await minio.putObject('data', 'minio/big.bin', Readable.from(chunks, { objectMode: false }), bytes.length);
    // Parts of minio-js's own cutting (at least two): S3's multipart ETag, MD5-N.
    assert.ok(Number(/-(\d+)$/.exec(put.etag)?.[1]) >= 2, put.etag);
    const stored = await api.get('data', 'minio/big.bin');
    assert.equal(stored.status, 200);
    assert.equal(sha256(stored.body), sha256(bytes));
  });

  test('composeObject joins objects by UploadPartCopy', async () => {
    const first = patterned(5 * MiB + 3, 2);
    const second = patterned(1234, 3);
    await minio.putObject('data', 'minio/first.bin', first);
    await minio.putObject('data', 'minio/second.bin', second);
    await minio.composeObject(new Minio.CopyDestinationOptions({ Bucket: 'data', Object: 'minio/composed.bin' }), [
      new Minio.CopySourceOptions({ Bucket: 'data', Object: 'minio/first.bin' }),
      new Minio.CopySourceOptions({ Bucket: 'data', Object: 'minio/second.bin' }),
    ]);
    const stored = await api.get('data', 'minio/composed.bin');
    assert.equal(stored.status, 200);
    assert.equal(sha256(stored.body), sha256(Buffer.concat([first, second])));
  });

  test('presigned GET and PUT URLs work with plain fetch', async () => {
    const putUrl = await minio.presignedPutObject('data', 'minio/by url.txt', 300);
    const put = await fetch(putUrl, { method: 'PUT', body: Buffer.from('put through a presigned URL') });
    assert.equal(put.status, 200, await put.text());
    assert.equal((await api.get('data', 'minio/by url.txt')).text, 'put through a presigned URL');
    const getUrl = await minio.presignedGetObject('data', 'minio/by url.txt', 300);
    const got = await fetch(getUrl);
    assert.equal(got.status, 200);
    assert.equal(await got.text(), 'put through a presigned URL');
  });

  test('presignedPostPolicy: a form POSTed with its fields uploads; one outside the policy does not', async () => {
    const policy = minio.newPostPolicy();
    policy.setBucket('data');
    policy.setKey('minio/posted.txt');
    policy.setExpires(new Date(Date.now() + 300_000));
    policy.setContentType('text/plain');
    policy.setContentLengthRange(1, 1024);
    const { postURL, formData } = await minio.presignedPostPolicy(policy);
    const post = (content: string, extra: Record<string, string> = {}) => {
      const form = new FormData();
      for (const [name, value] of Object.entries({ ...formData, ...extra })) form.append(name, value);
      form.append('file', new Blob([content], { type: 'text/plain' }), 'posted.txt');
      return fetch(postURL, { method: 'POST', body: form });
    };
    const tooLarge = await post('x'.repeat(2048));
    assert.equal(tooLarge.status, 400, await tooLarge.text());
    const otherKey = await post('elsewhere', { key: 'minio/elsewhere.txt' });
    assert.equal(otherKey.status, 403, await otherKey.text());
    assert.equal((await api.get('data', 'minio/elsewhere.txt')).status, 404);
    assert.equal((await api.get('data', 'minio/posted.txt')).status, 404);
    const answer = await post('posted by a form');
    assert.equal(answer.status, 204, await answer.text());
    const stored = await api.get('data', 'minio/posted.txt');
    assert.equal(stored.text, 'posted by a form');
    assert.match(String(stored.headers['content-type']), /^text\/plain/);
  });
});
