// Guards S3 behaviours that conformance suites and clients rely on, as S3 (and Ceph RGW) answer
// them: a Complete sent again, a part listed twice, a copy range past the source, an empty
// continuation token, owners in listings, ListObjects v1's unencoded Prefix, request ids on every
// answer, and ACL answers for private buckets. Through the AWS SDK for JavaScript v3, on a real
// server, on whichever deployment the suite runs.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  GetBucketAclCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  ListObjectsCommand,
  ListObjectsV2Command,
  PutObjectAclCommand,
  PutObjectCommand,
  type S3Client,
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { s3ClientOf, s3FailureOf } from './helpers/s3-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const MiB = 1024 * 1024;

/** The S3 error a promise fails with: its code and status. */
async function failure(promise: Promise<unknown>): Promise<{ code: string; status: number | undefined }> {
  const failed = await s3FailureOf(promise);
  assert.ok(failed, 'expected the request to fail');
  return { code: failed.code, status: failed.status };
}

describe('S3 behaviours as S3 answers them', () => {
  let ts: TestServer;
  let s3: S3Client;

  before(async () => {
    ts = await startTestServer();
    s3 = await s3ClientOf(ts);
  });
  after(async () => {
    s3.destroy();
    await ts.close();
  });

  const put = (Key: string, Body: string | Buffer) => s3.send(new PutObjectCommand({ Bucket: 'data', Key, Body }));
  const read = async (Key: string) => {
    const { Body } = await s3.send(new GetObjectCommand({ Bucket: 'data', Key }));
    assert.ok(Body);
    return Buffer.from(await Body.transformToByteArray());
  };

  /** A multipart upload of `parts` (each its own bytes), its parts uploaded; the caller completes it. */
  const uploadParts = async (Key: string, parts: Buffer[]) => {
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key }));
    const etags: string[] = [];
    for (const [i, Body] of parts.entries()) {
      etags.push((await s3.send(new UploadPartCommand({ Bucket: 'data', Key, UploadId, PartNumber: i + 1, Body }))).ETag ?? '');
    }
    return { UploadId: UploadId ?? '', etags };
  };

  test('a Complete sent again for a completed upload answers the same result', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(1000)];
    const { UploadId, etags } = await uploadParts('again/object', parts);
    const complete = () =>
      s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'data',
          Key: 'again/object',
          UploadId,
          MultipartUpload: { Parts: etags.map((ETag, i) => ({ ETag, PartNumber: i + 1 })) },
        }),
      );
    const first = await complete();
    const second = await complete();
    assert.equal(second.ETag, first.ETag);
    assert.equal(second.Key, 'again/object');
    assert.deepEqual(await read('again/object'), Buffer.concat(parts));
  });

  test('a part number listed twice in a row names that part once', async () => {
    const parts = [randomBytes(5 * MiB), randomBytes(2000)];
    const { UploadId, etags } = await uploadParts('twice/object', parts);
    const [one = '', two = ''] = etags;
    await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'data',
        Key: 'twice/object',
        UploadId,
        MultipartUpload: {
          Parts: [
            { ETag: one, PartNumber: 1 },
            { ETag: one, PartNumber: 1 },
            { ETag: two, PartNumber: 2 },
          ],
        },
      }),
    );
    assert.deepEqual(await read('twice/object'), Buffer.concat(parts));
  });

  test('UploadPartCopy of a range past the source end is 416 InvalidRange', async () => {
    await put('copy/source', 'ten bytes!');
    const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'data', Key: 'copy/target' }));
    const copy = (CopySourceRange: string) =>
      s3.send(
        new UploadPartCopyCommand({
          Bucket: 'data',
          Key: 'copy/target',
          UploadId,
          PartNumber: 1,
          CopySource: 'data/copy/source',
          CopySourceRange,
        }),
      );
    assert.deepEqual(await failure(copy('bytes=5-10')), { code: 'InvalidRange', status: 416 });
    const inside = await copy('bytes=5-9');
    assert.ok(inside.CopyPartResult?.ETag);
  });

  test('ListObjectsV2 with an empty continuation-token gives the first page', async () => {
    await put('tokens/a', 'a');
    await put('tokens/b', 'b');
    const page = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'tokens/', ContinuationToken: '' }));
    assert.deepEqual(
      page.Contents?.map((entry) => entry.Key),
      ['tokens/a', 'tokens/b'],
    );
  });

  test('ListObjectsV2 names each owner with fetch-owner=true only; ListObjects v1 always', async () => {
    await put('owners/a', 'a');
    const plain = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'owners/' }));
    assert.equal(plain.Contents?.[0]?.Owner, undefined);
    const owned = await s3.send(new ListObjectsV2Command({ Bucket: 'data', Prefix: 'owners/', FetchOwner: true }));
    assert.deepEqual(owned.Contents?.[0]?.Owner, { ID: 'alice', DisplayName: 'alice' });
    const v1 = await s3.send(new ListObjectsCommand({ Bucket: 'data', Prefix: 'owners/' }));
    assert.deepEqual(v1.Contents?.[0]?.Owner, { ID: 'alice', DisplayName: 'alice' });
  });

  test('ListObjects v1 with encoding-type=url encodes keys and the marker, but not the top-level Prefix', async () => {
    await put('with space/a+b', 'x');
    const url = await getSignedUrl(s3, new ListObjectsCommand({ Bucket: 'data', Prefix: 'with space/', EncodingType: 'url' }));
    const xml = await (await fetch(url)).text();
    assert.match(xml, /<Prefix>with space\/<\/Prefix>/);
    assert.match(xml, /<Key>with%20space\/a%2Bb<\/Key>/);
  });

  test('every answer carries x-amz-request-id and x-amz-id-2, errors too', async () => {
    const ok = await put('ids/a', 'a');
    assert.ok(ok.$metadata.requestId, 'a success names its request');
    assert.ok(ok.$metadata.extendedRequestId);
    try {
      await s3.send(new GetObjectCommand({ Bucket: 'data', Key: 'ids/missing' }));
      assert.fail('expected NoSuchKey');
    } catch (error) {
      assert.ok(error instanceof S3ServiceException);
      assert.ok(error.$metadata.requestId, 'an error names its request');
      assert.ok(error.$metadata.extendedRequestId);
      assert.notEqual(error.$metadata.requestId, ok.$metadata.requestId);
    }
  });

  test('ACLs: the owner has FULL_CONTROL of a bucket and its objects; private canned ACLs are accepted', async () => {
    const bucket = await s3.send(new GetBucketAclCommand({ Bucket: 'data' }));
    assert.deepEqual(bucket.Owner, { ID: 'alice', DisplayName: 'alice' });
    assert.equal(bucket.Grants?.length, 1);
    assert.equal(bucket.Grants?.[0]?.Permission, 'FULL_CONTROL');
    assert.equal(bucket.Grants?.[0]?.Grantee?.ID, 'alice');
    assert.equal(bucket.Grants?.[0]?.Grantee?.Type, 'CanonicalUser');

    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'acl/owned', Body: 'x', ACL: 'bucket-owner-full-control' }));
    await s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'acl/private', Body: 'x', ACL: 'private' }));
    const object = await s3.send(new GetObjectAclCommand({ Bucket: 'data', Key: 'acl/owned' }));
    assert.equal(object.Grants?.[0]?.Permission, 'FULL_CONTROL');
    assert.equal(object.Grants?.[0]?.Grantee?.ID, 'alice');
    assert.deepEqual(await failure(s3.send(new GetObjectAclCommand({ Bucket: 'data', Key: 'acl/missing' }))), {
      code: 'NoSuchKey',
      status: 404,
    });
    await s3.send(new PutObjectAclCommand({ Bucket: 'data', Key: 'acl/owned', ACL: 'private' }));
    // Sharing is not built yet: never a wrong success.
    assert.deepEqual(await failure(s3.send(new PutObjectAclCommand({ Bucket: 'data', Key: 'acl/owned', ACL: 'public-read' }))), {
      code: 'NotImplemented',
      status: 501,
    });
    assert.deepEqual(
      await failure(
        put('acl/public', 'x').then(() =>
          s3.send(new PutObjectCommand({ Bucket: 'data', Key: 'acl/public', Body: 'x', ACL: 'public-read' })),
        ),
      ),
      {
        code: 'NotImplemented',
        status: 501,
      },
    );
  });
});
