// Guards the S3-compatible API (docs/s3.md) as the AWS SDK for JavaScript v3 uses it, on a real
// server over real sockets, on whichever deployment the suite runs: buckets, objects with
// metadata, ranges and conditions, deletes, copies, listings (v2 and v1, paging, delimiters, URL
// encoding), presigned URLs, the signature and credential errors, tenants kept apart, multipart
// uploads (lib-storage and by hand), Content-MD5 and x-amz-checksum-* checks, operations that are
// not implemented, and objects shared with storage API v1.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLocationCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutBucketTaggingCommand,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { type ApiClient, apiClient } from './helpers/api-client.js';
import { PausePoints } from './helpers/pause-points.js';
import { assertS3Fails, type S3Failure, s3FailureOf } from './helpers/s3-client.js';
import { etagOf, multipartEtagOf, partsOf, v1EtagOf } from './helpers/s3-etags.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const MiB = 1024 * 1024;
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const md5Base64 = (data: Buffer | string) => createHash('md5').update(data).digest('base64');

interface Credentials {
  clientId: string;
  secret: string;
}

/** What a failed command threw: the S3 error code (the SDK's error name), HTTP status and message. */
async function failure(promise: Promise<unknown>): Promise<S3Failure> {
  const failed = await s3FailureOf(promise);
  assert.ok(failed, 'the command succeeded; an error was expected');
  return failed;
}

const assertFails = assertS3Fails;

/** The status of a command that fails without an XML body (HEAD, 304): only the status tells. */
async function statusOf(promise: Promise<unknown>): Promise<number | undefined> {
  try {
    await promise;
    return 200;
  } catch (error) {
    return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  }
}

const bodyText = async (answer: GetObjectCommandOutput) => (answer.Body ? await answer.Body.transformToString() : '');
const bodyBytes = async (answer: GetObjectCommandOutput) => Buffer.from(answer.Body ? await answer.Body.transformToByteArray() : []);

/** The <Code> of an S3 XML error body. */
const xmlCode = (text: string) => /<Code>([^<]*)<\/Code>/.exec(text)?.[1];

/** S3 URL-encodes (encoding-type=url) with `+` for a space, the way boto3 decodes it. */
const urlDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));

const copySource = (bucket: string, key: string) => `${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;

describe('S3 API through the AWS SDK for JavaScript v3', () => {
  let ts: TestServer;
  let endpoint: string;
  let alice: Credentials;
  let s3: S3Client;
  let api: ApiClient;
  const clients: S3Client[] = [];

  /** A path-style client of an S3 endpoint, without retries; destroyed when the suite ends. */
  const clientAt = (
    at: string,
    credentials: { accessKeyId: string; secretAccessKey: string },
    extra: Partial<ConstructorParameters<typeof S3Client>[0]> = {},
  ) => {
    const client = new S3Client({ endpoint: at, region: 'us-east-1', forcePathStyle: true, credentials, maxAttempts: 1, ...extra });
    clients.push(client);
    return client;
  };
  const signingWith = (key: Credentials) => ({ accessKeyId: key.clientId, secretAccessKey: key.secret });
  const clientFor = (
    credentials: { accessKeyId: string; secretAccessKey: string },
    extra: Partial<ConstructorParameters<typeof S3Client>[0]> = {},
  ) => clientAt(endpoint, credentials, extra);
  const keyClient = (key: Credentials) => clientFor(signingWith(key));

  before(async () => {
    ts = await startTestServer();
    endpoint = `${ts.origin}/s3`;
    alice = await ts.server.createApiKey('alice');
    s3 = keyClient(alice);
    api = apiClient(ts.origin, await ts.token('alice', 24 * 3_600_000));
  });
  after(async () => {
    for (const client of clients) client.destroy();
    await ts.close();
  });

  const put = (Key: string, Body: string | Buffer, extra: Partial<ConstructorParameters<typeof PutObjectCommand>[0]> = {}) =>
    s3.send(new PutObjectCommand({ Bucket: 'data', Key, Body, ...extra }));
  const get = (Key: string, extra: Partial<ConstructorParameters<typeof GetObjectCommand>[0]> = {}) =>
    s3.send(new GetObjectCommand({ Bucket: 'data', Key, ...extra }));
  /** Every key under `prefix` in a bucket, through ListObjectsV2 with its paging. */
  const listAll = async (prefix: string, bucket = 'data', client = s3) => {
    const keys: string[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken }));
      keys.push(...(page.Contents ?? []).map((object) => object.Key ?? ''));
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return keys;
  };

  describe('buckets', () => {
    test('ListBuckets shows data, result and tmp', async () => {
      const answer = await s3.send(new ListBucketsCommand({}));
      assert.deepEqual((answer.Buckets ?? []).map((bucket) => bucket.Name).sort(), ['data', 'result', 'tmp']);
      for (const bucket of answer.Buckets ?? []) assert.ok(bucket.CreationDate instanceof Date, `${bucket.Name} has a creation date`);
    });

    test('HeadBucket: 200 for the three, 404 for any other name', async () => {
      for (const Bucket of ['data', 'tmp', 'result']) {
        const answer = await s3.send(new HeadBucketCommand({ Bucket }));
        assert.equal(answer.$metadata.httpStatusCode, 200, Bucket);
      }
      assert.equal(await statusOf(s3.send(new HeadBucketCommand({ Bucket: 'elsewhere' }))), 404);
    });

    test('GetBucketLocation is empty (us-east-1)', async () => {
      const answer = await s3.send(new GetBucketLocationCommand({ Bucket: 'data' }));
      assert.equal(answer.$metadata.httpStatusCode, 200);
      assert.ok(!answer.LocationConstraint, `LocationConstraint ${answer.LocationConstraint}`);
    });

    test('a bucket other than the three is NoSuchBucket, for objects and listings', async () => {
      await assertFails(s3.send(new GetObjectCommand({ Bucket: 'nope', Key: 'k' })), 'NoSuchBucket', 404);
      await assertFails(s3.send(new PutObjectCommand({ Bucket: 'nope', Key: 'k', Body: 'x' })), 'NoSuchBucket', 404);
      await assertFails(s3.send(new ListObjectsV2Command({ Bucket: 'nope' })), 'NoSuchBucket', 404);
    });
  });

  describe('objects', () => {
    const text = 'hello world, from the S3 API';

    test('PutObject, then GetObject and HeadObject give back bytes, type, metadata, ETag and dates', async () => {
      const written = await put('obj/hello.txt', text, {
        ContentType: 'text/plain; charset=utf-8',
        Metadata: { colour: 'blue', 'two-words': 'a b' },
        CacheControl: 'max-age=60',
        ContentDisposition: 'inline; filename="hello.txt"',
      });
      assert.equal(written.$metadata.httpStatusCode, 200);
      assert.equal(written.ETag, etagOf(text));

      const read = await get('obj/hello.txt');
      assert.equal(await bodyText(read), text);
      assert.equal(read.ContentType, 'text/plain; charset=utf-8');
      assert.equal(read.ContentLength, Buffer.byteLength(text));
      assert.equal(read.ETag, etagOf(text));
      assert.deepEqual(read.Metadata, { colour: 'blue', 'two-words': 'a b' });
      assert.equal(read.CacheControl, 'max-age=60');
      assert.equal(read.ContentDisposition, 'inline; filename="hello.txt"');
      assert.equal(read.AcceptRanges, 'bytes');
      assert.ok(
        read.LastModified instanceof Date && Math.abs(read.LastModified.getTime() - ts.clock.now()) < 120_000,
        `${read.LastModified}`,
      );

      const head = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'obj/hello.txt' }));
      assert.equal(head.ContentLength, Buffer.byteLength(text));
      assert.equal(head.ContentType, 'text/plain; charset=utf-8');
      assert.equal(head.ETag, etagOf(text));
      assert.deepEqual(head.Metadata, { colour: 'blue', 'two-words': 'a b' });
      assert.equal(head.LastModified?.getTime(), read.LastModified?.getTime());
    });

    test('an object in tmp tells when it expires (x-amz-expiration); one in data does not', async () => {
      await s3.send(new PutObjectCommand({ Bucket: 'tmp', Key: 'obj/short-lived', Body: 'soon gone' }));
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'tmp', Key: 'obj/short-lived' }));
      const expiry = /expiry-date="([^"]+)"/.exec(head.Expiration ?? '')?.[1];
      assert.ok(expiry, `x-amz-expiration: ${head.Expiration}`);
      assert.ok(Date.parse(expiry) > ts.clock.now(), `expires ${expiry}, after now`);
      const read = await s3.send(new GetObjectCommand({ Bucket: 'tmp', Key: 'obj/short-lived' }));
      assert.equal(read.Expiration, head.Expiration);
      assert.equal(await bodyText(read), 'soon gone');
      await put('obj/long-lived', 'stays');
      assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'obj/long-lived' }))).Expiration, undefined);
    });

    test('a missing key is NoSuchKey on GET and 404 on HEAD', async () => {
      await assertFails(get('obj/missing'), 'NoSuchKey', 404);
      assert.equal(await statusOf(s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'obj/missing' }))), 404);
    });

    test('keys: 1024 bytes is the limit (KeyTooLongError past it); a control character is refused as such', async () => {
      const longest = `obj/${'k'.repeat(1020)}`;
      await put(longest, 'long');
      assert.equal(await bodyText(await get(longest)), 'long');
      await assertFails(put(`${longest}k`, 'too long'), 'KeyTooLongError', 400);
      await assertFails(put('obj/bell\u0007', 'x'), 'InvalidArgument', 400);
    });

    test('Range: a slice, a suffix, an open end (206 with Content-Range); past the end is InvalidRange 416', async () => {
      await put('obj/range.txt', '0123456789');
      const slice = await get('obj/range.txt', { Range: 'bytes=2-5' });
      assert.equal(slice.$metadata.httpStatusCode, 206);
      assert.equal(await bodyText(slice), '2345');
      assert.equal(slice.ContentRange, 'bytes 2-5/10');
      assert.equal(slice.ContentLength, 4);
      const suffix = await get('obj/range.txt', { Range: 'bytes=-3' });
      assert.equal(await bodyText(suffix), '789');
      assert.equal(suffix.ContentRange, 'bytes 7-9/10');
      const open = await get('obj/range.txt', { Range: 'bytes=8-' });
      assert.equal(await bodyText(open), '89');
      await assertFails(get('obj/range.txt', { Range: 'bytes=10-20' }), 'InvalidRange', 416);
    });

    test('GET conditions: If-Match / If-Unmodified-Since fail with 412, If-None-Match / If-Modified-Since with 304', async () => {
      await put('obj/cond.txt', 'conditional');
      const etag = etagOf('conditional');
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'obj/cond.txt' }));
      const modified = head.LastModified?.getTime() ?? 0;
      const earlier = new Date(modified - 3_600_000);
      const later = new Date(modified + 3_600_000);

      assert.equal(await bodyText(await get('obj/cond.txt', { IfMatch: etag })), 'conditional');
      await assertFails(get('obj/cond.txt', { IfMatch: '"0000"' }), 'PreconditionFailed', 412);
      assert.equal(await statusOf(get('obj/cond.txt', { IfNoneMatch: etag })), 304);
      assert.equal(await bodyText(await get('obj/cond.txt', { IfNoneMatch: '"0000"' })), 'conditional');
      assert.equal(await statusOf(get('obj/cond.txt', { IfModifiedSince: later })), 304);
      assert.equal(await bodyText(await get('obj/cond.txt', { IfModifiedSince: earlier })), 'conditional');
      await assertFails(get('obj/cond.txt', { IfUnmodifiedSince: earlier }), 'PreconditionFailed', 412);
      assert.equal(await bodyText(await get('obj/cond.txt', { IfUnmodifiedSince: later })), 'conditional');
      // HEAD answers the same statuses, without a body.
      assert.equal(await statusOf(s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'obj/cond.txt', IfMatch: '"0000"' }))), 412);
      assert.equal(await statusOf(s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'obj/cond.txt', IfNoneMatch: etag }))), 304);
    });

    test('response-content-type and response-content-disposition override what GetObject answers', async () => {
      await put('obj/override.bin', 'override me', { ContentType: 'application/octet-stream' });
      const read = await get('obj/override.bin', {
        ResponseContentType: 'text/x-overridden',
        ResponseContentDisposition: 'attachment; filename="renamed.txt"',
        ResponseCacheControl: 'no-store',
      });
      assert.equal(await bodyText(read), 'override me');
      assert.equal(read.ContentType, 'text/x-overridden');
      assert.equal(read.ContentDisposition, 'attachment; filename="renamed.txt"');
      assert.equal(read.CacheControl, 'no-store');
      // The stored type is unchanged.
      assert.equal((await get('obj/override.bin')).ContentType, 'application/octet-stream');
    });

    test('conditional PutObject: If-None-Match * creates once (412 PreconditionFailed after); If-Match needs the current ETag', async () => {
      const first = await put('obj/once.txt', 'first', { IfNoneMatch: '*' });
      assert.equal(first.ETag, etagOf('first'));
      await assertFails(put('obj/once.txt', 'second', { IfNoneMatch: '*' }), 'PreconditionFailed', 412);
      assert.equal(await bodyText(await get('obj/once.txt')), 'first');

      const replaced = await put('obj/once.txt', 'replaced', { IfMatch: etagOf('first') });
      assert.equal(replaced.ETag, etagOf('replaced'));
      await assertFails(put('obj/once.txt', 'stale', { IfMatch: etagOf('first') }), 'PreconditionFailed', 412);
      assert.equal(await bodyText(await get('obj/once.txt')), 'replaced');
      const missing = await failure(put('obj/never-there.txt', 'x', { IfMatch: etagOf('x') }));
      assert.ok(
        (missing.code === 'NoSuchKey' && missing.status === 404) || (missing.code === 'PreconditionFailed' && missing.status === 412),
        `If-Match on a missing key: ${missing.code} ${missing.status}`,
      );
    });

    test('DeleteObject: 204, then NoSuchKey; deleting a missing key is 204 too', async () => {
      await put('obj/delete-me', 'bye');
      const deleted = await s3.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'obj/delete-me' }));
      assert.equal(deleted.$metadata.httpStatusCode, 204);
      await assertFails(get('obj/delete-me'), 'NoSuchKey', 404);
      const again = await s3.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'obj/delete-me' }));
      assert.equal(again.$metadata.httpStatusCode, 204);
    });

    test('DeleteObjects: every key reported deleted, a missing one included; Quiet reports none', async () => {
      await put('batch/a', 'a');
      await put('batch/b', 'b');
      await put('batch/c', 'c');
      const answer = await s3.send(
        new DeleteObjectsCommand({
          Bucket: 'data',
          Delete: { Objects: [{ Key: 'batch/a' }, { Key: 'batch/missing' }, { Key: 'batch/b' }] },
        }),
      );
      assert.deepEqual((answer.Deleted ?? []).map((d) => d.Key).sort(), ['batch/a', 'batch/b', 'batch/missing']);
      assert.deepEqual(answer.Errors ?? [], []);
      assert.deepEqual(await listAll('batch/'), ['batch/c']);

      const quiet = await s3.send(new DeleteObjectsCommand({ Bucket: 'data', Delete: { Objects: [{ Key: 'batch/c' }], Quiet: true } }));
      assert.deepEqual(quiet.Deleted ?? [], []);
      assert.deepEqual(quiet.Errors ?? [], []);
      assert.deepEqual(await listAll('batch/'), []);
    });

    test("CopyObject within a bucket and across buckets keeps bytes, type and metadata; REPLACE takes the request's", async () => {
      const body = randomBytes(100 * 1024);
      await put('copy/src key ü', body, { ContentType: 'application/x-source', Metadata: { origin: 'source' } });
      const within = await s3.send(
        new CopyObjectCommand({ Bucket: 'data', Key: 'copy/dest', CopySource: copySource('data', 'copy/src key ü') }),
      );
      assert.equal(within.CopyObjectResult?.ETag, etagOf(body));
      assert.ok(within.CopyObjectResult?.LastModified instanceof Date);
      const copied = await get('copy/dest');
      assert.ok((await bodyBytes(copied)).equals(body));
      assert.equal(copied.ContentType, 'application/x-source');
      assert.deepEqual(copied.Metadata, { origin: 'source' });

      const across = await s3.send(
        new CopyObjectCommand({ Bucket: 'tmp', Key: 'copied/over', CopySource: copySource('data', 'copy/src key ü') }),
      );
      assert.equal(across.CopyObjectResult?.ETag, etagOf(body));
      const inTmp = await s3.send(new GetObjectCommand({ Bucket: 'tmp', Key: 'copied/over' }));
      assert.ok((await bodyBytes(inTmp)).equals(body));
      assert.deepEqual(inTmp.Metadata, { origin: 'source' });

      await assertFails(
        s3.send(new CopyObjectCommand({ Bucket: 'data', Key: 'copy/none', CopySource: copySource('data', 'copy/absent') })),
        'NoSuchKey',
        404,
      );
      await assertFails(
        s3.send(
          new CopyObjectCommand({
            Bucket: 'data',
            Key: 'copy/if',
            CopySource: copySource('data', 'copy/src key ü'),
            CopySourceIfMatch: '"0000"',
          }),
        ),
        'PreconditionFailed',
        412,
      );
      const ifCurrent = await s3.send(
        new CopyObjectCommand({
          Bucket: 'data',
          Key: 'copy/if',
          CopySource: copySource('data', 'copy/src key ü'),
          CopySourceIfMatch: etagOf(body),
        }),
      );
      assert.equal(ifCurrent.CopyObjectResult?.ETag, etagOf(body));
      // MetadataDirective REPLACE: the request's content type and metadata, the same bytes.
      const replaced = await s3.send(
        new CopyObjectCommand({
          Bucket: 'data',
          Key: 'copy/replaced',
          CopySource: copySource('data', 'copy/src key ü'),
          MetadataDirective: 'REPLACE',
          ContentType: 'application/x-replaced',
          Metadata: { origin: 'replaced', extra: 'yes' },
        }),
      );
      assert.equal(replaced.CopyObjectResult?.ETag, etagOf(body));
      const withNew = await get('copy/replaced');
      assert.ok((await bodyBytes(withNew)).equals(body));
      assert.equal(withNew.ContentType, 'application/x-replaced');
      assert.deepEqual(withNew.Metadata, { origin: 'replaced', extra: 'yes' });
      const source = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'copy/src key ü' }));
      assert.equal(source.ContentType, 'application/x-source');
      assert.deepEqual(source.Metadata, { origin: 'source' });

      // A copy onto itself with REPLACE changes the metadata in place; without REPLACE S3 refuses it.
      await s3.send(
        new CopyObjectCommand({
          Bucket: 'data',
          Key: 'copy/replaced',
          CopySource: copySource('data', 'copy/replaced'),
          MetadataDirective: 'REPLACE',
          ContentType: 'text/plain',
          Metadata: { origin: 'in-place' },
        }),
      );
      const inPlace = await get('copy/replaced');
      assert.ok((await bodyBytes(inPlace)).equals(body));
      assert.equal(inPlace.ETag, etagOf(body), 'new metadata, the same bytes: the same ETag');
      assert.equal(inPlace.ContentType, 'text/plain');
      assert.deepEqual(inPlace.Metadata, { origin: 'in-place' });
      await assertFails(
        s3.send(new CopyObjectCommand({ Bucket: 'data', Key: 'copy/replaced', CopySource: copySource('data', 'copy/replaced') })),
        'InvalidRequest',
        400,
      );
    });
  });

  describe('listings', () => {
    const PAGED = 2500;
    const pagedKeys = Array.from({ length: PAGED }, (_, i) => `page/${String(i).padStart(4, '0')}`);

    before(async () => {
      for (let i = 0; i < pagedKeys.length; i += 50) {
        await Promise.all(pagedKeys.slice(i, i + 50).map((key) => put(key, key)));
      }
      for (const key of ['tree/a.txt', 'tree/b/1', 'tree/b/2', 'tree/c/deep/1', 'tree/d.txt', 'tree2/x']) await put(key, key);
    });

    test('ListObjectsV2 with a prefix and a delimiter: objects and CommonPrefixes', async () => {
      const answer = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'tree/', Delimiter: '/' }));
      assert.deepEqual(
        (answer.Contents ?? []).map((o) => [o.Key, o.Size, o.ETag]),
        [
          ['tree/a.txt', 10, etagOf('tree/a.txt')],
          ['tree/d.txt', 10, etagOf('tree/d.txt')],
        ],
      );
      assert.deepEqual(
        (answer.CommonPrefixes ?? []).map((p) => p.Prefix),
        ['tree/b/', 'tree/c/'],
      );
      assert.equal(answer.KeyCount, 4);
      assert.equal(answer.IsTruncated, false);
      assert.equal(answer.Prefix, 'tree/');
      assert.equal(answer.Delimiter, '/');
      for (const object of answer.Contents ?? []) assert.ok(object.LastModified instanceof Date);

      const plain = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'tree' }));
      assert.deepEqual(
        (plain.Contents ?? []).map((o) => o.Key),
        ['tree/a.txt', 'tree/b/1', 'tree/b/2', 'tree/c/deep/1', 'tree/d.txt', 'tree2/x'],
      );
      const top = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'tr', Delimiter: '/' }));
      assert.deepEqual(
        (top.CommonPrefixes ?? []).map((p) => p.Prefix),
        ['tree/', 'tree2/'],
      );
      assert.deepEqual(top.Contents ?? [], []);
    });

    test(`ListObjectsV2 pages ${PAGED} keys by MaxKeys and ContinuationToken; 1000 a page by default`, async () => {
      const first = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'page/' }));
      assert.equal(first.Contents?.length, 1000);
      assert.equal(first.KeyCount, 1000);
      assert.equal(first.IsTruncated, true);
      assert.ok(first.NextContinuationToken);

      const seen: string[] = [];
      const sizes: number[] = [];
      let ContinuationToken: string | undefined;
      do {
        const page = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'page/', MaxKeys: 700, ContinuationToken }));
        sizes.push(page.Contents?.length ?? 0);
        assert.equal(page.MaxKeys, 700);
        if (ContinuationToken) assert.equal(page.ContinuationToken, ContinuationToken);
        seen.push(...(page.Contents ?? []).map((o) => o.Key ?? ''));
        ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
        if (page.IsTruncated) assert.ok(ContinuationToken, 'a truncated page has a NextContinuationToken');
      } while (ContinuationToken);
      assert.deepEqual(sizes, [700, 700, 700, 400]);
      assert.deepEqual(seen, pagedKeys);

      const capped = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'page/', MaxKeys: 5000 }));
      assert.equal(capped.Contents?.length, 1000, 'max-keys above 1000 still answers at most 1000');
    });

    test('ListObjectsV2 StartAfter starts after a key, with or without it existing', async () => {
      const after2490 = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'page/', StartAfter: 'page/2490' }));
      assert.deepEqual(
        (after2490.Contents ?? []).map((o) => o.Key),
        pagedKeys.slice(2491),
      );
      const between = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'page/', StartAfter: 'page/2495x' }));
      assert.deepEqual(
        (between.Contents ?? []).map((o) => o.Key),
        pagedKeys.slice(2496),
      );
    });

    test('ListObjectsV2 with EncodingType url gives back awkward keys encoded; plain XML escapes them', async () => {
      const awkward = [
        'odd/a b',
        'odd/plus+sign',
        'odd/ünïcödé',
        'odd/percent%20literal',
        'odd/xml<&>"\'',
        'odd/question?mark#hash',
        'odd/emoji 😀',
        'odd/dir/inner',
      ];
      for (const key of awkward) await put(key, key);
      const encoded = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'odd/', EncodingType: 'url' }));
      assert.equal(encoded.EncodingType, 'url');
      const keys = (encoded.Contents ?? []).map((o) => o.Key ?? '');
      for (const key of keys) assert.match(key, /^[A-Za-z0-9%+._~*/-]*$/, `${key} is URL-encoded`);
      assert.deepEqual(
        keys.map(urlDecode),
        [...awkward].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
      );

      const withDelimiter = await s3.send(
        new ListObjectsV2Command({ Bucket: 'data', Prefix: 'odd/', Delimiter: '/', EncodingType: 'url' }),
      );
      assert.deepEqual(
        (withDelimiter.CommonPrefixes ?? []).map((p) => urlDecode(p.Prefix ?? '')),
        ['odd/dir/'],
      );

      const plain = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'odd/' }));
      assert.deepEqual(
        (plain.Contents ?? []).map((o) => o.Key),
        [...awkward].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))),
      );
      for (const key of awkward) assert.equal(await bodyText(await get(key)), key, `GetObject ${key}`);
    });

    test('ListObjects (v1) pages by Marker; with a delimiter, NextMarker', async () => {
      const seen: string[] = [];
      let Marker: string | undefined;
      let pages = 0;
      for (;;) {
        const page = await s3.send(new ListObjectsCommand({ Bucket: 'data', Prefix: 'page/', Marker, MaxKeys: 1000 }));
        pages++;
        const keys = (page.Contents ?? []).map((o) => o.Key ?? '');
        seen.push(...keys);
        if (!page.IsTruncated) break;
        Marker = page.NextMarker ?? keys.at(-1);
        assert.ok(pages < 10, 'paging ends');
      }
      assert.equal(pages, 3);
      assert.deepEqual(seen, pagedKeys);

      const delimited = await s3.send(new ListObjectsCommand({ Bucket: 'data', Prefix: 'tree/', Delimiter: '/', MaxKeys: 2 }));
      assert.equal(delimited.IsTruncated, true);
      assert.deepEqual(
        (delimited.Contents ?? []).map((o) => o.Key),
        ['tree/a.txt'],
      );
      assert.deepEqual(
        (delimited.CommonPrefixes ?? []).map((p) => p.Prefix),
        ['tree/b/'],
      );
      assert.equal(delimited.NextMarker, 'tree/b/');
      const rest = await s3.send(new ListObjectsCommand({ Bucket: 'data', Prefix: 'tree/', Delimiter: '/', Marker: delimited.NextMarker }));
      assert.deepEqual(
        (rest.Contents ?? []).map((o) => o.Key),
        ['tree/d.txt'],
      );
      assert.deepEqual(
        (rest.CommonPrefixes ?? []).map((p) => p.Prefix),
        ['tree/c/'],
      );
      assert.equal(rest.IsTruncated, false);
    });
  });

  describe('presigned URLs', () => {
    // The SDK's flexible checksums would put the CRC32 of an empty body into a presigned PUT's
    // query: AWS's advice is a presigning client that adds checksums only when required.
    let presigner: S3Client;
    before(() => {
      presigner = clientFor(
        { accessKeyId: alice.clientId, secretAccessKey: alice.secret },
        { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' },
      );
    });

    test('a presigned GET and a presigned PUT work with plain fetch, for an awkward key', async () => {
      const key = 'presigned/a b ü+.txt';
      const putUrl = await getSignedUrl(presigner, new PutObjectCommand({ Bucket: 'data', Key: key, ContentType: 'text/plain' }), {
        expiresIn: 300,
      });
      const uploaded = await fetch(putUrl, { method: 'PUT', body: 'sent by fetch', headers: { 'content-type': 'text/plain' } });
      assert.equal(uploaded.status, 200, await uploaded.text());
      assert.equal(uploaded.headers.get('etag'), etagOf('sent by fetch'));

      const getUrl = await getSignedUrl(presigner, new GetObjectCommand({ Bucket: 'data', Key: key }), { expiresIn: 300 });
      const downloaded = await fetch(getUrl);
      assert.equal(downloaded.status, 200);
      assert.equal(await downloaded.text(), 'sent by fetch');
      assert.equal(downloaded.headers.get('content-type'), 'text/plain');

      const overridden = await getSignedUrl(
        presigner,
        new GetObjectCommand({ Bucket: 'data', Key: key, ResponseContentDisposition: 'attachment; filename="x.txt"' }),
        { expiresIn: 300 },
      );
      const attachment = await fetch(overridden);
      assert.equal(attachment.status, 200);
      assert.equal(attachment.headers.get('content-disposition'), 'attachment; filename="x.txt"');
    });

    // A client with the SDK's defaults presigns GetObject with x-amz-checksum-mode=ENABLED and
    // PutObject with x-amz-sdk-checksum-algorithm=CRC32 and the CRC32 of an empty body in the query.
    test("presigned URLs from a client with the SDK's default checksum settings", async () => {
      await put('presigned/defaults', 'defaults');
      const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: 'data', Key: 'presigned/defaults' }), { expiresIn: 300 });
      assert.match(getUrl, /x-amz-checksum-mode=ENABLED/);
      const read = await fetch(getUrl);
      assert.equal(read.status, 200);
      assert.equal(await read.text(), 'defaults');

      const putUrl = (Key: string) => getSignedUrl(s3, new PutObjectCommand({ Bucket: 'data', Key }), { expiresIn: 300 });
      const empty = await fetch(await putUrl('presigned/default-empty'), { method: 'PUT', body: '' });
      assert.equal(empty.status, 200, await empty.text());
      // The query's checksum is of an empty body: other bytes do not match it, as S3 answers.
      const mismatch = await fetch(await putUrl('presigned/default-bytes'), { method: 'PUT', body: 'some bytes' });
      const body = await mismatch.text();
      assert.equal(mismatch.status, 400, body);
      assert.equal(xmlCode(body), 'BadDigest', body);
    });

    test('a presigned URL past its expiry is AccessDenied', async () => {
      await put('presigned/old', 'old');
      const expired = await getSignedUrl(presigner, new GetObjectCommand({ Bucket: 'data', Key: 'presigned/old' }), {
        expiresIn: 60,
        signingDate: new Date(ts.clock.now() - 3_600_000),
      });
      const answer = await fetch(expired);
      const body = await answer.text();
      assert.equal(answer.status, 403, body);
      assert.equal(xmlCode(body), 'AccessDenied', body);

      // One that expires two seconds after it is made (X-Amz-Date has whole seconds, so at least
      // one second of it is left): good at once, refused three seconds later (the test clock is
      // moved as far, in case the server reads that one).
      const short = await getSignedUrl(presigner, new GetObjectCommand({ Bucket: 'data', Key: 'presigned/old' }), { expiresIn: 2 });
      assert.equal((await fetch(short)).status, 200);
      await new Promise((resolve) => setTimeout(resolve, 3_100));
      const moved = Math.max(0, Date.now() - ts.clock.now());
      ts.clock.advance(moved);
      try {
        const late = await fetch(short);
        const lateBody = await late.text();
        assert.equal(late.status, 403, lateBody);
        assert.equal(xmlCode(lateBody), 'AccessDenied', lateBody);
      } finally {
        ts.clock.advance(-moved);
      }
    });

    test('a tampered signature or key is SignatureDoesNotMatch', async () => {
      await put('presigned/tamper', 'tamper');
      const url = new URL(
        await getSignedUrl(presigner, new GetObjectCommand({ Bucket: 'data', Key: 'presigned/tamper' }), { expiresIn: 300 }),
      );
      const signature = url.searchParams.get('X-Amz-Signature') ?? '';
      url.searchParams.set('X-Amz-Signature', `${signature.slice(0, -1)}${signature.endsWith('0') ? '1' : '0'}`);
      const tampered = await fetch(url);
      const body = await tampered.text();
      assert.equal(tampered.status, 403, body);
      assert.equal(xmlCode(body), 'SignatureDoesNotMatch', body);

      const otherKey = new URL(
        await getSignedUrl(presigner, new GetObjectCommand({ Bucket: 'data', Key: 'presigned/tamper' }), { expiresIn: 300 }),
      );
      otherKey.pathname = otherKey.pathname.replace('tamper', 'old');
      const moved = await fetch(otherKey);
      assert.equal(xmlCode(await moved.text()), 'SignatureDoesNotMatch');

      const wrongSecret = clientFor({ accessKeyId: alice.clientId, secretAccessKey: `${alice.secret}x` });
      await assertFails(wrongSecret.send(new GetObjectCommand({ Bucket: 'data', Key: 'presigned/tamper' })), 'SignatureDoesNotMatch', 403);
    });
  });

  describe('credentials and tenants', () => {
    test('an unknown access key is InvalidAccessKeyId', async () => {
      const stranger = clientFor({ accessKeyId: 'stw_000000000000000000000000', secretAccessKey: 'not a secret' });
      await assertFails(stranger.send(new ListObjectsV2Command({ Bucket: 'data' })), 'InvalidAccessKeyId', 403);
      await assertFails(stranger.send(new ListBucketsCommand({})), 'InvalidAccessKeyId', 403);
    });

    test('a request signed 20 minutes off the clock is RequestTimeTooSkewed', async () => {
      for (const offset of [-20 * 60_000, 20 * 60_000]) {
        const skewed = clientFor({ accessKeyId: alice.clientId, secretAccessKey: alice.secret }, { systemClockOffset: offset });
        await assertFails(skewed.send(new ListObjectsV2Command({ Bucket: 'data' })), 'RequestTimeTooSkewed', 403);
      }
      const close = clientFor({ accessKeyId: alice.clientId, secretAccessKey: alice.secret }, { systemClockOffset: -5 * 60_000 });
      assert.equal((await close.send(new ListObjectsV2Command({ Bucket: 'data', MaxKeys: 1 }))).$metadata.httpStatusCode, 200);
    });

    test('an unsigned request is refused', async () => {
      const answer = await fetch(`${endpoint}/data/obj/hello.txt`);
      const body = await answer.text();
      assert.equal(answer.status, 403, body);
      assert.equal(xmlCode(body), 'AccessDenied', body);
    });

    test("another tenant's keys see none of the first tenant's objects", async () => {
      await put('private/secret.txt', 'for alice only');
      const bob = keyClient(await ts.server.createApiKey('bob'));
      await assertFails(bob.send(new GetObjectCommand({ Bucket: 'data', Key: 'private/secret.txt' })), 'NoSuchKey', 404);
      assert.deepEqual(await listAll('private/', 'data', bob), []);
      await bob.send(new PutObjectCommand({ Bucket: 'data', Key: 'private/secret.txt', Body: 'bob writes his own' }));
      assert.equal(await bodyText(await get('private/secret.txt')), 'for alice only');
      await bob.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'private/secret.txt' }));
      assert.equal(await bodyText(await get('private/secret.txt')), 'for alice only');
      await assertFails(
        bob.send(new CopyObjectCommand({ Bucket: 'data', Key: 'stolen', CopySource: copySource('data', 'private/secret.txt') })),
        'NoSuchKey',
        404,
      );
    });
  });

  describe('multipart uploads', () => {
    test('lib-storage Upload of 100 MiB in 8 MiB parts: 13 parts, the bytes read back through S3 and storage API v1', async () => {
      const body = randomBytes(100 * MiB);
      const upload = new Upload({
        client: s3,
        params: { Bucket: 'data', Key: 'multi/big.bin', Body: body, ContentType: 'application/x-big' },
        partSize: 8 * MiB,
        queueSize: 4,
      });
      const parts = new Set<number>();
      upload.on('httpUploadProgress', (progress) => {
        if (progress.part) parts.add(progress.part);
      });
      const done = await upload.done();
      assert.equal(parts.size, 13);
      assert.equal(done.ETag, multipartEtagOf(partsOf(body, 8 * MiB)));

      const head = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'multi/big.bin' }));
      assert.equal(head.ContentLength, 100 * MiB);
      assert.equal(head.ETag, done.ETag);
      assert.equal(head.ContentType, 'application/x-big');
      const read = await get('multi/big.bin');
      assert.equal(sha256(await bodyBytes(read)), sha256(body));
      const tail = await get('multi/big.bin', { Range: `bytes=${100 * MiB - 10}-` });
      assert.ok((await bodyBytes(tail)).equals(body.subarray(100 * MiB - 10)));

      const v1 = await api.get('data', 'multi/big.bin');
      assert.equal(v1.status, 200);
      assert.equal(v1.body.length, 100 * MiB);
      assert.equal(sha256(v1.body), sha256(body));
      const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'data', Prefix: 'multi/' }));
      assert.deepEqual(uploads.Uploads ?? [], [], 'no upload left open');
    });

    test('Create, UploadPart, ListParts, ListMultipartUploads, Complete by hand', async () => {
      const partA = Buffer.alloc(5 * MiB, 'a');
      const partB = randomBytes(5 * MiB);
      const partC = Buffer.from('the last part may be small');
      const created = await s3.send(
        new CreateMultipartUploadCommand({
          Bucket: 'data',
          Key: 'mp/explicit',
          ContentType: 'application/x-parts',
          Metadata: { made: 'by-hand' },
        }),
      );
      const UploadId = created.UploadId;
      assert.ok(UploadId);
      assert.equal(created.Key, 'mp/explicit');
      assert.equal(created.Bucket, 'data');

      const etags: string[] = [];
      for (const [index, part] of [partA, partB, partC].entries()) {
        const answer = await s3.send(
          new UploadPartCommand({ Bucket: 'data', Key: 'mp/explicit', UploadId, PartNumber: index + 1, Body: part }),
        );
        assert.equal(answer.ETag, etagOf(part), `part ${index + 1}`);
        etags.push(answer.ETag ?? '');
      }
      const listed = await s3.send(new ListPartsCommand({ Bucket: 'data', Key: 'mp/explicit', UploadId }));
      assert.deepEqual(
        (listed.Parts ?? []).map((p) => [p.PartNumber, p.Size, p.ETag]),
        [
          [1, 5 * MiB, etags[0]],
          [2, 5 * MiB, etags[1]],
          [3, partC.length, etags[2]],
        ],
      );
      const open = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'data', Prefix: 'mp/' }));
      assert.deepEqual(
        (open.Uploads ?? []).map((u) => [u.Key, u.UploadId]),
        [['mp/explicit', UploadId]],
      );
      await assertFails(get('mp/explicit'), 'NoSuchKey', 404);

      const completed = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'data',
          Key: 'mp/explicit',
          UploadId,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      );
      const whole = Buffer.concat([partA, partB, partC]);
      assert.equal(completed.ETag, multipartEtagOf([partA, partB, partC]));
      assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'mp/explicit' }))).ETag, completed.ETag);
      assert.equal(completed.Key, 'mp/explicit');
      const read = await get('mp/explicit');
      assert.ok((await bodyBytes(read)).equals(whole));
      assert.equal(read.ContentType, 'application/x-parts');
      assert.deepEqual(read.Metadata, { made: 'by-hand' });
      assert.deepEqual((await s3.send(new ListMultipartUploadsCommand({ Bucket: 'data', Prefix: 'mp/' }))).Uploads ?? [], []);
      await assertFails(s3.send(new ListPartsCommand({ Bucket: 'data', Key: 'mp/explicit', UploadId })), 'NoSuchUpload', 404);
    });

    test("AbortMultipartUpload: the upload and its parts are gone; Complete's part checks", async () => {
      const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'mp/aborted' }));
      const UploadId = created.UploadId;
      const small = await s3.send(new UploadPartCommand({ Bucket: 'data', Key: 'mp/aborted', UploadId, PartNumber: 1, Body: 'small' }));
      const last = await s3.send(
        new UploadPartCommand({ Bucket: 'data', Key: 'mp/aborted', UploadId, PartNumber: 2, Body: Buffer.alloc(5 * MiB, 'z') }),
      );
      const complete = (Parts: Array<{ ETag: string | undefined; PartNumber: number }>) =>
        s3.send(new CompleteMultipartUploadCommand({ Bucket: 'data', Key: 'mp/aborted', UploadId, MultipartUpload: { Parts } }));
      await assertFails(
        complete([
          { ETag: small.ETag, PartNumber: 1 },
          { ETag: last.ETag, PartNumber: 2 },
        ]),
        'EntityTooSmall',
        400,
      );
      await assertFails(complete([{ ETag: etagOf('not the part'), PartNumber: 1 }]), 'InvalidPart', 400);
      // Out of order, though every part but the last listed is large enough.
      await assertFails(
        complete([
          { ETag: last.ETag, PartNumber: 2 },
          { ETag: small.ETag, PartNumber: 1 },
        ]),
        'InvalidPartOrder',
        400,
      );

      const aborted = await s3.send(new AbortMultipartUploadCommand({ Bucket: 'data', Key: 'mp/aborted', UploadId }));
      assert.equal(aborted.$metadata.httpStatusCode, 204);
      await assertFails(s3.send(new ListPartsCommand({ Bucket: 'data', Key: 'mp/aborted', UploadId })), 'NoSuchUpload', 404);
      await assertFails(
        s3.send(new UploadPartCommand({ Bucket: 'data', Key: 'mp/aborted', UploadId, PartNumber: 3, Body: 'late' })),
        'NoSuchUpload',
        404,
      );
      const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'data', Prefix: 'mp/aborted' }));
      assert.deepEqual(uploads.Uploads ?? [], []);
      await assertFails(get('mp/aborted'), 'NoSuchKey', 404);
    });

    test("request XML with numeric character references, as Go's encoding/xml writes it (rclone, minio-go)", async () => {
      // A client of its own, whose XML bodies are rewritten before they are checksummed and signed.
      const goStyle = keyClient(alice);
      goStyle.middlewareStack.add(
        (next) => async (args) => {
          const request = args.request as { body?: unknown };
          if (typeof request.body === 'string') request.body = goXml(request.body);
          return next(args);
        },
        { step: 'serialize', priority: 'low', name: 'goStyleXml' },
      );
      const part = randomBytes(5 * MiB);
      const { UploadId } = await goStyle.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'mp/go-style' }));
      const one = await goStyle.send(new UploadPartCommand({ Bucket: 'data', Key: 'mp/go-style', UploadId, PartNumber: 1, Body: part }));
      const two = await goStyle.send(new UploadPartCommand({ Bucket: 'data', Key: 'mp/go-style', UploadId, PartNumber: 2, Body: 'end' }));
      const completed = await goStyle.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'data',
          Key: 'mp/go-style',
          UploadId,
          MultipartUpload: {
            Parts: [
              { ETag: one.ETag, PartNumber: 1 },
              { ETag: two.ETag, PartNumber: 2 },
            ],
          },
        }),
      );
      assert.equal(completed.ETag, multipartEtagOf([part, 'end']));

      const keys = [`go/it's`, 'go/"quoted"', 'go/a&b'];
      for (const key of keys) await put(key, key);
      const deleted = await goStyle.send(new DeleteObjectsCommand({ Bucket: 'data', Delete: { Objects: keys.map((Key) => ({ Key })) } }));
      assert.deepEqual((deleted.Deleted ?? []).map((d) => d.Key).sort(), [...keys].sort());
      assert.deepEqual(await listAll('go/'), []);
    });

    test('ListParts and ListMultipartUploads page by their markers; ListMultipartUploads groups by a delimiter', async () => {
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'mp-pages/parts' }));
      for (let PartNumber = 1; PartNumber <= 5; PartNumber++) {
        await s3.send(new UploadPartCommand({ Bucket: 'data', Key: 'mp-pages/parts', UploadId, PartNumber, Body: `part ${PartNumber}` }));
      }
      const partNumbers: number[][] = [];
      let PartNumberMarker: string | undefined;
      for (;;) {
        const page = await s3.send(
          new ListPartsCommand({ Bucket: 'data', Key: 'mp-pages/parts', UploadId, MaxParts: 2, PartNumberMarker }),
        );
        partNumbers.push((page.Parts ?? []).map((p) => p.PartNumber ?? 0));
        if (!page.IsTruncated) break;
        PartNumberMarker = page.NextPartNumberMarker;
      }
      assert.deepEqual(partNumbers, [[1, 2], [3, 4], [5]]);

      const keys = ['mp-pages/u/0', 'mp-pages/u/1', 'mp-pages/u/2', 'mp-pages/v/0'];
      const ids = new Map<string, string>();
      for (const Key of keys) ids.set(Key, (await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key }))).UploadId ?? '');
      const pages: string[][] = [];
      let KeyMarker: string | undefined;
      let UploadIdMarker: string | undefined;
      for (;;) {
        const page = await s3.send(
          new ListMultipartUploadsCommand({ Bucket: 'data', Prefix: 'mp-pages/', MaxUploads: 2, KeyMarker, UploadIdMarker }),
        );
        assert.equal(page.MaxUploads, 2);
        pages.push((page.Uploads ?? []).map((u) => u.Key ?? ''));
        if (!page.IsTruncated) break;
        KeyMarker = page.NextKeyMarker;
        UploadIdMarker = page.NextUploadIdMarker;
        assert.ok(pages.length < 5, 'paging ends');
      }
      assert.deepEqual(pages, [['mp-pages/parts', 'mp-pages/u/0'], ['mp-pages/u/1', 'mp-pages/u/2'], ['mp-pages/v/0']]);

      const grouped = await s3.send(new ListMultipartUploadsCommand({ Bucket: 'data', Prefix: 'mp-pages/', Delimiter: '/' }));
      assert.deepEqual(
        (grouped.Uploads ?? []).map((u) => u.Key),
        ['mp-pages/parts'],
      );
      assert.deepEqual(
        (grouped.CommonPrefixes ?? []).map((p) => p.Prefix),
        ['mp-pages/u/', 'mp-pages/v/'],
      );
      for (const [Key, id] of [...ids, ['mp-pages/parts', UploadId ?? '']]) {
        await s3.send(new AbortMultipartUploadCommand({ Bucket: 'data', Key, UploadId: id }));
      }
    });

    test('GetObject and HeadObject with partNumber: that part (206, PartsCount); past the count InvalidPartNumber', async () => {
      const first = randomBytes(5 * MiB);
      const second = randomBytes(5 * MiB);
      const rest = Buffer.from('the third and last part');
      const parts = [first, second, rest];
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'mp/numbered' }));
      const Parts = [];
      for (const [index, Body] of parts.entries()) {
        const answer = await s3.send(new UploadPartCommand({ Bucket: 'data', Key: 'mp/numbered', UploadId, PartNumber: index + 1, Body }));
        Parts.push({ ETag: answer.ETag, PartNumber: index + 1 });
      }
      await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'data', Key: 'mp/numbered', UploadId, MultipartUpload: { Parts } }));
      const total = 10 * MiB + rest.length;

      for (const [index, bytes] of parts.entries()) {
        const PartNumber = index + 1;
        const start = index * 5 * MiB;
        const answer = await get('mp/numbered', { PartNumber });
        assert.equal(answer.$metadata.httpStatusCode, 206, `part ${PartNumber}`);
        assert.equal(answer.PartsCount, 3);
        assert.equal(answer.ContentLength, bytes.length);
        assert.equal(answer.ContentRange, `bytes ${start}-${start + bytes.length - 1}/${total}`);
        assert.ok((await bodyBytes(answer)).equals(bytes), `part ${PartNumber}'s bytes`);
        const head = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'mp/numbered', PartNumber }));
        assert.equal(head.ContentLength, bytes.length);
        assert.equal(head.PartsCount, 3);
      }
      await assertFails(get('mp/numbered', { PartNumber: 4 }), 'InvalidPartNumber', 416);
      await assertFails(get('mp/numbered', { PartNumber: 1, Range: 'bytes=0-9' }), 'InvalidRequest', 400);
      // A copy keeps the part boundaries: they describe the bytes.
      await s3.send(new CopyObjectCommand({ Bucket: 'data', Key: 'mp/numbered-copy', CopySource: 'data/mp/numbered' }));
      assert.ok((await bodyBytes(await get('mp/numbered-copy', { PartNumber: 2 }))).equals(second));

      // An object written whole is its own part 1, and has no part 2.
      await put('mp/one-part', 'written whole');
      const whole = await get('mp/one-part', { PartNumber: 1 });
      assert.equal(whole.$metadata.httpStatusCode, 200);
      assert.equal(await bodyText(whole), 'written whole');
      await assertFails(get('mp/one-part', { PartNumber: 2 }), 'InvalidPartNumber', 416);
    });

    test('partNumber of an object whose parts differ in size is NotImplemented, never the whole object', async () => {
      const parts = [randomBytes(6 * MiB), randomBytes(5 * MiB), Buffer.from('end')];
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'mp/uneven' }));
      const Parts = [];
      for (const [index, Body] of parts.entries()) {
        const answer = await s3.send(new UploadPartCommand({ Bucket: 'data', Key: 'mp/uneven', UploadId, PartNumber: index + 1, Body }));
        Parts.push({ ETag: answer.ETag, PartNumber: index + 1 });
      }
      await s3.send(new CompleteMultipartUploadCommand({ Bucket: 'data', Key: 'mp/uneven', UploadId, MultipartUpload: { Parts } }));
      await assertFails(get('mp/uneven', { PartNumber: 2 }), 'NotImplemented', 501);
      assert.equal(await statusOf(s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'mp/uneven', PartNumber: 1 }))), 501);
      assert.ok((await bodyBytes(await get('mp/uneven'))).equals(Buffer.concat(parts)));
    });

    test('UploadPartCopy: a whole object and a range of one become parts', async () => {
      const source = randomBytes(6 * MiB);
      await put('mp/source', source);
      const small = Buffer.from('a small source, copied whole as the last part');
      await s3.send(new PutObjectCommand({ Bucket: 'tmp', Key: 'mp/small-source', Body: small }));
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'mp/copied' }));
      const first = await s3.send(
        new UploadPartCopyCommand({
          Bucket: 'data',
          Key: 'mp/copied',
          UploadId,
          PartNumber: 1,
          CopySource: copySource('data', 'mp/source'),
          CopySourceRange: `bytes=0-${5 * MiB - 1}`,
        }),
      );
      assert.equal(first.CopyPartResult?.ETag, etagOf(source.subarray(0, 5 * MiB)));
      const second = await s3.send(
        new UploadPartCopyCommand({
          Bucket: 'data',
          Key: 'mp/copied',
          UploadId,
          PartNumber: 2,
          CopySource: copySource('data', 'mp/source'),
          CopySourceRange: `bytes=${5 * MiB}-${6 * MiB - 1}`,
        }),
      );
      // Part 2 is below 5 MiB, so it must not be followed by another: copy it again whole as the
      // last part instead, from another bucket.
      const third = await s3.send(
        new UploadPartCopyCommand({
          Bucket: 'data',
          Key: 'mp/copied',
          UploadId,
          PartNumber: 2,
          CopySource: copySource('tmp', 'mp/small-source'),
        }),
      );
      assert.equal(third.CopyPartResult?.ETag, etagOf(small));
      assert.notEqual(second.CopyPartResult?.ETag, third.CopyPartResult?.ETag);
      const completed = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'data',
          Key: 'mp/copied',
          UploadId,
          MultipartUpload: {
            Parts: [
              { ETag: first.CopyPartResult?.ETag, PartNumber: 1 },
              { ETag: third.CopyPartResult?.ETag, PartNumber: 2 },
            ],
          },
        }),
      );
      const whole = Buffer.concat([source.subarray(0, 5 * MiB), small]);
      assert.equal(completed.ETag, multipartEtagOf([source.subarray(0, 5 * MiB), small]));
      assert.ok((await bodyBytes(await get('mp/copied'))).equals(whole));
    });

    test('UploadPartCopy of a whole object written through storage API v1: no MD5 is known, so the part ETag is its sha256', async () => {
      const bytes = 'written through storage API v1, copied whole as a part';
      assert.equal((await api.put('data', 'mp/v1-source', bytes)).status, 200);
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'mp/from-v1' }));
      const part = await s3.send(
        new UploadPartCopyCommand({
          Bucket: 'data',
          Key: 'mp/from-v1',
          UploadId,
          PartNumber: 1,
          CopySource: copySource('data', 'mp/v1-source'),
        }),
      );
      assert.equal(part.CopyPartResult?.ETag, v1EtagOf(bytes));
      const completed = await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'data',
          Key: 'mp/from-v1',
          UploadId,
          MultipartUpload: { Parts: [{ ETag: part.CopyPartResult?.ETag, PartNumber: 1 }] },
        }),
      );
      const expected = createHash('md5')
        .update(Buffer.from(sha256(bytes), 'hex'))
        .digest('hex');
      assert.equal(completed.ETag, `"${expected}-1"`);
      assert.equal(await bodyText(await get('mp/from-v1')), bytes);
    });
  });

  describe('a multipart completion that outlasts the keep-alive interval', () => {
    // A completion that waits long (on a slow index or store) leaves its connection silent, and one
    // silent that long is cut by clients (aws-cli and boto3 wait 60 s) and proxies. Past the
    // interval (1 ms here; a pause point holds the completion longer) the answer starts: 200, the
    // XML declaration, a space now and then.
    const pauses = new PausePoints();
    let slow: TestServer;
    let client: S3Client;
    let presign: (command: CompleteMultipartUploadCommand) => Promise<string>;
    before(async () => {
      slow = await startTestServer({ s3KeepAliveMs: 1, quotaBytes: 12 * MiB }, { pause: pauses.point });
      client = clientAt(`${slow.origin}/s3`, signingWith(await slow.server.createApiKey('alice')));
      presign = (command) => getSignedUrl(client, command, { expiresIn: 300 });
    });
    after(async () => {
      await slow.close();
    });

    /** Starts an upload of `parts` under `Key`; gives its id and the Complete request's parts. */
    const uploadParts = async (Key: string, parts: Buffer[]) => {
      const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key }));
      const Parts: Array<{ ETag: string; PartNumber: number }> = [];
      for (const [index, Body] of parts.entries()) {
        const answer = await client.send(new UploadPartCommand({ Bucket: 'data', Key, UploadId, PartNumber: index + 1, Body }));
        Parts.push({ ETag: answer.ETag ?? '', PartNumber: index + 1 });
      }
      return { UploadId, Parts };
    };
    const completionXml = (Parts: Array<{ ETag: string; PartNumber: number }>) =>
      `<CompleteMultipartUpload>${Parts.map((p) => `<Part><PartNumber>${p.PartNumber}</PartNumber><ETag>${p.ETag}</ETag></Part>`).join('')}</CompleteMultipartUpload>`;

    test('the answer begins at once (200, declaration, spaces) and ends with the result, which the SDK reads as usual', async () => {
      const parts = [randomBytes(5 * MiB), randomBytes(1024)];
      const { UploadId, Parts } = await uploadParts('slow/raw', parts);
      const url = await presign(new CompleteMultipartUploadCommand({ Bucket: 'data', Key: 'slow/raw', UploadId }));
      const held = pauses.hold('multipart.after-check');
      const answering = fetch(url, { method: 'POST', body: completionXml(Parts) });
      await held.reached;
      await sleep(50);
      held.release();
      const answer = await answering;
      const text = await answer.text();
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.get('content-length'), null, 'streamed: the length is not known when the answer begins');
      const shape =
        /^<\?xml version="1.0" encoding="UTF-8"\?>\n( *)<CompleteMultipartUploadResult[^>]*>.*<\/CompleteMultipartUploadResult>$/s.exec(
          text,
        );
      assert.ok(shape, text);
      assert.ok((shape[1] ?? '').length > 0, 'spaces kept the connection busy');
      assert.equal(/<ETag>([^<]*)<\/ETag>/.exec(text)?.[1]?.replaceAll('&quot;', '"'), multipartEtagOf(parts));
      const read = await client.send(new GetObjectCommand({ Bucket: 'data', Key: 'slow/raw' }));
      assert.ok((await bodyBytes(read)).equals(Buffer.concat(parts)));

      const second = [randomBytes(5 * MiB), Buffer.from('tail')];
      const upload = await uploadParts('slow/sdk', second);
      await client.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'slow/raw' }));
      const completed = await client.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'data',
          Key: 'slow/sdk',
          UploadId: upload.UploadId,
          MultipartUpload: { Parts: upload.Parts },
        }),
      );
      assert.equal(completed.ETag, multipartEtagOf(second));
      await client.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'slow/sdk' }));
    });

    test('completing needs no quota beyond its parts: the object replaces them in one commit', async () => {
      // 7 MiB of parts and a 7 MiB object would not fit in the 12 MiB quota side by side.
      const parts = [randomBytes(5 * MiB), randomBytes(2 * MiB)];
      const { UploadId, Parts } = await uploadParts('slow/fits', parts);
      const completed = await client.send(
        new CompleteMultipartUploadCommand({ Bucket: 'data', Key: 'slow/fits', UploadId, MultipartUpload: { Parts } }),
      );
      assert.equal(completed.ETag, multipartEtagOf(parts));
      const v1 = apiClient(slow.origin, await slow.token('alice'));
      const usage = (await v1.usage('data', 'slow/')).json<{ objects: number; bytes: number }>();
      assert.deepEqual([usage.objects, usage.bytes], [1, 7 * MiB]);
      await assertFails(client.send(new ListPartsCommand({ Bucket: 'data', Key: 'slow/fits', UploadId })), 'NoSuchUpload', 404);
      // Another 7 MiB of parts does not fit beside the object: the quota still counts parts.
      const more = await client.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'slow/more' }));
      await client.send(
        new UploadPartCommand({ Bucket: 'data', Key: 'slow/more', UploadId: more.UploadId, PartNumber: 1, Body: parts[0] }),
      );
      await assertFails(
        client.send(new UploadPartCommand({ Bucket: 'data', Key: 'slow/more', UploadId: more.UploadId, PartNumber: 2, Body: parts[1] })),
        'QuotaExceeded',
        403,
      );
      await client.send(new AbortMultipartUploadCommand({ Bucket: 'data', Key: 'slow/more', UploadId: more.UploadId }));
      await client.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'slow/fits' }));
    });

    test('a condition that already fails is answered with its status before any byte is copied', async () => {
      await client.send(new PutObjectCommand({ Bucket: 'data', Key: 'slow/exists', Body: 'here' }));
      const { UploadId, Parts } = await uploadParts('slow/exists', [randomBytes(5 * MiB), Buffer.from('end')]);
      await assertFails(
        client.send(
          new CompleteMultipartUploadCommand({
            Bucket: 'data',
            Key: 'slow/exists',
            UploadId,
            IfNoneMatch: '*',
            MultipartUpload: { Parts },
          }),
        ),
        'PreconditionFailed',
        412,
      );
      const read = await client.send(new GetObjectCommand({ Bucket: 'data', Key: 'slow/exists' }));
      assert.equal(await bodyText(read), 'here');
      await client.send(new AbortMultipartUploadCommand({ Bucket: 'data', Key: 'slow/exists', UploadId }));
      await client.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'slow/exists' }));
    });
  });

  describe('the S3 API at the root of its own port (STOWAGE_S3_PORT)', () => {
    // For clients that take an endpoint as host:port only (s3cmd, mc, DuckDB, s3fs).
    let rooted: TestServer;
    let root: S3Client;
    let rootUrl: string;
    before(async () => {
      rooted = await startTestServer({ s3Port: 0 });
      rootUrl = rooted.server.s3RootUrl() ?? assert.fail('no S3 port');
      root = clientAt(rootUrl, signingWith(await rooted.server.createApiKey('alice')));
    });
    after(async () => {
      await rooted.close();
    });

    test('a port other than the API, whose /BUCKET/KEY are the objects /s3/BUCKET/KEY serves', async () => {
      assert.notEqual(new URL(rootUrl).port, new URL(rooted.origin).port);
      const buckets = await root.send(new ListBucketsCommand({}));
      assert.deepEqual((buckets.Buckets ?? []).map((bucket) => bucket.Name).sort(), ['data', 'result', 'tmp']);
      const Key = 'rooted/a b+c ü.txt';
      const written = await root.send(new PutObjectCommand({ Bucket: 'data', Key, Body: 'at the root', ContentType: 'text/plain' }));
      assert.equal(written.ETag, etagOf('at the root'));
      const read = await root.send(new GetObjectCommand({ Bucket: 'data', Key }));
      assert.equal(await bodyText(read), 'at the root');
      const listed = await root.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'rooted/' }));
      assert.deepEqual(
        (listed.Contents ?? []).map((object) => object.Key),
        [Key],
      );

      // The same object through /s3 on the API port, and through storage API v1.
      const viaBase = clientAt(`${rooted.origin}/s3`, signingWith(await rooted.server.createApiKey('alice')));
      assert.equal(await bodyText(await viaBase.send(new GetObjectCommand({ Bucket: 'data', Key }))), 'at the root');
      const v1 = apiClient(rooted.origin, await rooted.token('alice'));
      assert.equal((await v1.get('data', Key)).text, 'at the root');
    });

    test('presigned URLs and multipart uploads are signed for the paths the client sees', async () => {
      // Checksums only when required: see 'presigned URLs' above.
      const presigner = clientAt(rootUrl, signingWith(await rooted.server.createApiKey('alice')), {
        requestChecksumCalculation: 'WHEN_REQUIRED',
      });
      const url = await getSignedUrl(presigner, new PutObjectCommand({ Bucket: 'data', Key: 'rooted/presigned' }), { expiresIn: 60 });
      assert.ok(url.startsWith(`${rootUrl}/data/rooted/presigned?`), url);
      const uploaded = await fetch(url, { method: 'PUT', body: 'by url' });
      assert.equal(uploaded.status, 200, await uploaded.text());
      const download = await getSignedUrl(root, new GetObjectCommand({ Bucket: 'data', Key: 'rooted/presigned' }), { expiresIn: 60 });
      assert.equal(await (await fetch(download)).text(), 'by url');

      const body = randomBytes(11 * MiB);
      const done = await new Upload({
        client: root,
        params: { Bucket: 'data', Key: 'rooted/multi', Body: body },
        partSize: 5 * MiB,
      }).done();
      assert.equal(done.ETag, multipartEtagOf(partsOf(body, 5 * MiB)));
      assert.ok((await bodyBytes(await root.send(new GetObjectCommand({ Bucket: 'data', Key: 'rooted/multi' })))).equals(body));
    });

    test('errors name the resource as sent; a wrong secret is SignatureDoesNotMatch there too', async () => {
      const missing = await fetch(
        await getSignedUrl(root, new GetObjectCommand({ Bucket: 'data', Key: 'rooted/none' }), { expiresIn: 60 }),
      );
      assert.equal(missing.status, 404);
      const text = await missing.text();
      assert.equal(xmlCode(text), 'NoSuchKey');
      assert.match(text, /<Resource>\/data\/rooted\/none<\/Resource>/);
      const key = await rooted.server.createApiKey('alice');
      const wrong = clientAt(rootUrl, { accessKeyId: key.clientId, secretAccessKey: 'not the secret' });
      await assertFails(wrong.send(new ListObjectsV2Command({ Bucket: 'data' })), 'SignatureDoesNotMatch', 403);
    });
  });

  describe('integrity checks on writes', () => {
    test('Content-MD5: a matching one is accepted, a wrong one is BadDigest and stores nothing', async () => {
      const ok = await put('digest/md5-ok', 'checked', { ContentMD5: md5Base64('checked') });
      assert.equal(ok.$metadata.httpStatusCode, 200);
      await assertFails(put('digest/md5-bad', 'checked', { ContentMD5: md5Base64('something else') }), 'BadDigest', 400);
      await assertFails(get('digest/md5-bad'), 'NoSuchKey', 404);
    });

    for (const algorithm of ['SHA256', 'SHA1', 'CRC32', 'CRC32C'] as const) {
      test(`ChecksumAlgorithm ${algorithm}: the SDK's checksum is accepted, a wrong one refused`, async () => {
        const body = `checksummed with ${algorithm}`;
        const ok = await put(`digest/${algorithm}`, body, { ChecksumAlgorithm: algorithm });
        assert.equal(ok.$metadata.httpStatusCode, 200);
        assert.equal(await bodyText(await get(`digest/${algorithm}`)), body);

        const other = 'different bytes';
        const wrong: Partial<ConstructorParameters<typeof PutObjectCommand>[0]> =
          algorithm === 'SHA256'
            ? { ChecksumSHA256: createHash('sha256').update(other).digest('base64') }
            : algorithm === 'SHA1'
              ? { ChecksumSHA1: createHash('sha1').update(other).digest('base64') }
              : algorithm === 'CRC32'
                ? { ChecksumCRC32: crc32Base64(other) }
                : { ChecksumCRC32C: 'AAAAAA==' };
        const refused = await failure(put(`digest/${algorithm}-bad`, body, { ChecksumAlgorithm: algorithm, ...wrong }));
        assert.ok(
          ['BadDigest', 'InvalidRequest'].includes(refused.code) && refused.status === 400,
          `${refused.code} ${refused.status}: ${refused.message}`,
        );
        await assertFails(get(`digest/${algorithm}-bad`), 'NoSuchKey', 404);
      });
    }

    test('a streamed body of known length (aws-chunked with a trailing checksum) is stored whole', async () => {
      const body = randomBytes(3 * MiB + 17);
      const streamed = await put('digest/streamed', Readable.from([body.subarray(0, MiB), body.subarray(MiB)]) as unknown as Buffer, {
        ContentLength: body.length,
      });
      assert.equal(streamed.ETag, etagOf(body));
      assert.ok((await bodyBytes(await get('digest/streamed'))).equals(body));
    });
  });

  describe('headers the server must honour or refuse, never drop', () => {
    test('copy conditions other than x-amz-copy-source-if-match are checked (412 PreconditionFailed)', async () => {
      const written = await put('cond-copy/src', 'source');
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'cond-copy/src' }));
      const modified = head.LastModified?.getTime() ?? 0;
      const CopySource = copySource('data', 'cond-copy/src');
      const copy = (extra: Partial<ConstructorParameters<typeof CopyObjectCommand>[0]>) =>
        s3.send(new CopyObjectCommand({ Bucket: 'data', Key: 'cond-copy/dest', CopySource, ...extra }));
      await assertFails(copy({ CopySourceIfNoneMatch: written.ETag }), 'PreconditionFailed', 412);
      await assertFails(copy({ CopySourceIfModifiedSince: new Date(modified + 3_600_000) }), 'PreconditionFailed', 412);
      await assertFails(copy({ CopySourceIfUnmodifiedSince: new Date(modified - 3_600_000) }), 'PreconditionFailed', 412);
      await assertFails(get('cond-copy/dest'), 'NoSuchKey', 404);
      const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'cond-copy/parts' }));
      await assertFails(
        s3.send(
          new UploadPartCopyCommand({
            Bucket: 'data',
            Key: 'cond-copy/parts',
            UploadId,
            PartNumber: 1,
            CopySource,
            CopySourceIfMatch: '"0000"',
          }),
        ),
        'PreconditionFailed',
        412,
      );
      await s3.send(new AbortMultipartUploadCommand({ Bucket: 'data', Key: 'cond-copy/parts', UploadId }));
    });

    test('Content-Encoding, Content-Language and Expires given to PutObject come back on GetObject', async () => {
      const expires = new Date(Math.floor(ts.clock.now() / 1000) * 1000 + 86_400_000);
      await put('headers/encoded', 'not really gzip', { ContentEncoding: 'gzip', ContentLanguage: 'fr', Expires: expires });
      const head = await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'headers/encoded' }));
      assert.equal(head.ContentEncoding, 'gzip');
      assert.equal(head.ContentLanguage, 'fr');
      assert.equal(head.Expires?.getTime(), expires.getTime());
      await s3.send(
        new CopyObjectCommand({ Bucket: 'data', Key: 'headers/encoded-copy', CopySource: copySource('data', 'headers/encoded') }),
      );
      const copied = await get('headers/encoded-copy');
      assert.equal(await bodyText(copied), 'not really gzip');
      assert.equal(copied.ContentEncoding, 'gzip');
      assert.equal(copied.ContentLanguage, 'fr');
      assert.equal(copied.Expires?.getTime(), expires.getTime());
    });

    test('PutObject with tagging, server-side encryption or a public ACL is NotImplemented, another storage class InvalidStorageClass', async () => {
      await assertFails(put('headers/tagged', 'x', { Tagging: 'team=storage' }), 'NotImplemented', 501);
      await assertFails(put('headers/encrypted', 'x', { ServerSideEncryption: 'AES256' }), 'NotImplemented', 501);
      await assertFails(put('headers/public', 'x', { ACL: 'public-read' }), 'NotImplemented', 501);
      await assertFails(put('headers/glacier', 'x', { StorageClass: 'GLACIER' }), 'InvalidStorageClass', 400);
      // What rclone and aws-cli may send with every upload is accepted.
      assert.equal((await put('headers/private', 'x', { ACL: 'private', StorageClass: 'STANDARD' })).$metadata.httpStatusCode, 200);
      await assertFails(get('headers/tagged'), 'NoSuchKey', 404);
    });
  });

  describe('operations outside the contract', () => {
    test('PutBucketTagging is 501 NotImplemented', async () => {
      await assertFails(
        s3.send(new PutBucketTaggingCommand({ Bucket: 'data', Tagging: { TagSet: [{ Key: 'team', Value: 'x' }] } })),
        'NotImplemented',
        501,
      );
    });
  });

  describe('quotas and rate limits', () => {
    test('a write past the quota is QuotaExceeded (PutObject, CopyObject, UploadPart) and stores nothing', async () => {
      const limited = await startTestServer({ quotaBytes: MiB });
      try {
        const client = clientAt(`${limited.origin}/s3`, signingWith(await limited.server.createApiKey('alice')));
        const size = 600 * 1024;
        await client.send(new PutObjectCommand({ Bucket: 'data', Key: 'q/first', Body: Buffer.alloc(size, 1) }));
        await assertFails(
          client.send(new PutObjectCommand({ Bucket: 'data', Key: 'q/second', Body: Buffer.alloc(size, 2) })),
          'QuotaExceeded',
          403,
        );
        await assertFails(
          client.send(new CopyObjectCommand({ Bucket: 'data', Key: 'q/copy', CopySource: 'data/q/first' })),
          'QuotaExceeded',
          403,
        );
        const { UploadId } = await client.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'q/parts' }));
        await assertFails(
          client.send(new UploadPartCommand({ Bucket: 'data', Key: 'q/parts', UploadId, PartNumber: 1, Body: Buffer.alloc(size, 3) })),
          'QuotaExceeded',
          403,
        );
        const listed = await client.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'q/' }));
        assert.deepEqual(
          (listed.Contents ?? []).map((o) => o.Key),
          ['q/first'],
        );
      } finally {
        await limited.close();
      }
    });

    test('a tenant past its rate limit gets SlowDown (503)', async () => {
      const limited = await startTestServer({ rateLimitPerSecond: 1, rateLimitBurst: 2 });
      try {
        const client = clientAt(`${limited.origin}/s3`, signingWith(await limited.server.createApiKey('alice')));
        const statuses: Array<string | number> = [];
        for (let i = 0; i < 4; i++) {
          const answer = await failure(client.send(new ListObjectsV2Command({ Bucket: 'data' }))).catch(() => 200);
          statuses.push(typeof answer === 'number' ? answer : `${answer.status} ${answer.code}`);
        }
        assert.deepEqual(statuses.slice(0, 2), [200, 200]);
        assert.deepEqual(statuses.slice(2), ['503 SlowDown', '503 SlowDown']);
      } finally {
        await limited.close();
      }
    });
  });

  describe('shared with storage API v1', () => {
    test('an object written through S3 reads through /storage/v1, and the other way round', async () => {
      await put('cross/from-s3.txt', 'written by S3', { ContentType: 'text/plain', Metadata: { side: 's3' } });
      const v1 = await api.get('data', 'cross/from-s3.txt');
      assert.equal(v1.status, 200);
      assert.equal(v1.text, 'written by S3');
      assert.equal(v1.headers['content-type'], 'text/plain');
      assert.equal(v1.headers['x-stowage-meta-side'], 's3');
      // Each API keeps its own ETag of the same bytes: storage API v1's is the sha256.
      assert.equal(v1.headers.etag, v1EtagOf('written by S3'));
      assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'data', Key: 'cross/from-s3.txt' }))).ETag, etagOf('written by S3'));

      const written = await api.put('result', 'cross/from-v1.json', '{"from":"v1"}', {
        'content-type': 'application/json',
        'x-stowage-meta-side': 'v1',
      });
      assert.equal(written.status, 200, written.text);
      const read = await s3.send(new GetObjectCommand({ Bucket: 'result', Key: 'cross/from-v1.json' }));
      assert.equal(await bodyText(read), '{"from":"v1"}');
      assert.equal(read.ContentType, 'application/json');
      assert.deepEqual(read.Metadata, { side: 'v1' });
      // No MD5 was computed for a write through storage API v1: S3 shows its sha256 ETag.
      assert.equal(read.ETag, v1EtagOf('{"from":"v1"}'));
      assert.deepEqual(await listAll('cross/', 'result'), ['cross/from-v1.json']);

      await s3.send(new DeleteObjectCommand({ Bucket: 'data', Key: 'cross/from-s3.txt' }));
      assert.equal((await api.get('data', 'cross/from-s3.txt')).status, 404);
    });
  });
});

/** XML as Go's encoding/xml escapes text: `"`, `'` and `&` as numeric character references. */
function goXml(xml: string): string {
  return xml.replace(
    /<(ETag|Key)>([^<]*)<\/\1>/g,
    (_, tag: string, text: string) =>
      `<${tag}>${text
        .replace(/&quot;|"/g, '&#34;')
        .replace(/&apos;|'/g, '&#39;')
        .replace(/&amp;/g, '&#38;')}</${tag}>`,
  );
}

/** The CRC32 of `data` as S3's x-amz-checksum-crc32 spells it: 4 big-endian bytes in base64. */
function crc32Base64(data: string): string {
  const value = Buffer.alloc(4);
  value.writeUInt32BE(crc32(data) >>> 0);
  return value.toString('base64');
}
