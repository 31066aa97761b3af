// S3 versioning over retention, through the AWS SDK, on whichever deployment the suite runs:
// Put/GetBucketVersioning (Enabled and Suspended are retention on and off for a named bucket),
// ListObjectVersions with its versions, delete markers and pages.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { s3ClientOf, s3CodeOf } from './helpers/s3-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('S3 versioning (retention underneath)', () => {
  let ts: TestServer;
  let s3: S3Client;
  before(async () => {
    ts = await startTestServer();
    s3 = await s3ClientOf(ts, 'alice');
  });
  after(async () => {
    s3.destroy();
    await ts.close();
  });

  test('a bucket is not versioned until Enabled; Suspended keeps no more versions', async () => {
    await s3.send(new CreateBucketCommand({ Bucket: 'versioned' }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'versioned' }))).Status, undefined);
    await s3.send(new PutObjectCommand({ Bucket: 'versioned', Key: 'before', Body: 'one' }));
    await s3.send(new PutObjectCommand({ Bucket: 'versioned', Key: 'before', Body: 'two' }));
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'versioned', VersioningConfiguration: { Status: 'Enabled' } }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'versioned' }))).Status, 'Enabled');
    const info = await (
      await fetch(`${ts.url}/buckets/versioned`, { headers: { authorization: `Bearer ${await ts.token('alice')}` } })
    ).json();
    assert.equal((info as { retentionDays: number }).retentionDays, 30);

    const written: Array<string | undefined> = [];
    for (const body of ['a1', 'a2', 'a3'])
      written.push((await s3.send(new PutObjectCommand({ Bucket: 'versioned', Key: 'doc', Body: body }))).VersionId);
    await s3.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'doc' }));
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: 'versioned' }));
    assert.deepEqual(
      (listed.Versions ?? []).map((v) => [v.Key, v.Size, v.IsLatest]),
      [
        ['before', 3, true],
        ['doc', 2, false],
        ['doc', 2, false],
        ['doc', 2, false],
      ],
    );
    assert.deepEqual(
      (listed.DeleteMarkers ?? []).map((m) => [m.Key, m.IsLatest]),
      [['doc', true]],
    );
    // Unlike S3 (whose unversioned writes are the version "null"), every value has an id of its own.
    assert.match(listed.Versions?.[0]?.VersionId ?? '', /^[\w-]{21}$/);
    assert.equal(listed.IsTruncated, false);
    assert.deepEqual(
      listed.Versions?.filter((v) => v.Key === 'doc').map((v) => v.VersionId),
      written.reverse(),
      'PutObject answers the version id it made',
    );

    // Pages of 2 add up to the whole listing.
    const seen: string[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (;;) {
      const page = await s3.send(
        new ListObjectVersionsCommand({ Bucket: 'versioned', MaxKeys: 2, KeyMarker: keyMarker, VersionIdMarker: versionIdMarker }),
      );
      seen.push(...[...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => `${v.Key}@${v.VersionId}`));
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
    }
    assert.equal(seen.length, 5);
    assert.equal(new Set(seen).size, 5);

    // A version by id: its bytes, on GET and HEAD; one that is not kept is NoSuchVersion; DELETE of one is not done.
    const oldest = listed.Versions?.at(-1);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'doc', VersionId: oldest?.VersionId }));
    assert.equal(await got.Body?.transformToString(), 'a1');
    assert.equal(got.VersionId, oldest?.VersionId);
    const headed = await s3.send(new HeadObjectCommand({ Bucket: 'versioned', Key: 'doc', VersionId: oldest?.VersionId }));
    assert.equal(headed.ContentLength, 2);
    assert.deepEqual(await s3CodeOf(s3.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'doc', VersionId: 'nope' }))), {
      code: 'NoSuchVersion',
      status: 404,
    });
    const marker = listed.DeleteMarkers?.[0]?.VersionId;
    assert.equal((await s3CodeOf(s3.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'doc', VersionId: marker }))))?.status, 404);
    // DeleteObject of a version: a noncurrent one goes for good; the newest delete marker (and the current value) are not done.
    assert.equal((await s3CodeOf(s3.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'doc', VersionId: marker }))))?.status, 501);
    const gone = await s3.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'doc', VersionId: oldest?.VersionId }));
    assert.equal(gone.VersionId, oldest?.VersionId);
    assert.deepEqual(await s3CodeOf(s3.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'doc', VersionId: oldest?.VersionId }))), {
      code: 'NoSuchVersion',
      status: 404,
    });
    assert.equal((await s3.send(new ListObjectVersionsCommand({ Bucket: 'versioned', Prefix: 'doc' }))).Versions?.length, 2);
    // A copy from a version copies that version (not the current value).
    const second = listed.Versions?.[2]?.VersionId;
    const copied = await s3.send(new CopyObjectCommand({ Bucket: 'versioned', Key: 'copy', CopySource: `versioned/doc?versionId=${second}` }));
    assert.equal(copied.CopySourceVersionId, second);
    assert.equal(await (await s3.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'copy' }))).Body?.transformToString(), 'a2');
    // DeleteObjects naming a VersionId removes that version for good.
    const removed = await s3.send(
      new DeleteObjectsCommand({ Bucket: 'versioned', Delete: { Objects: [{ Key: 'doc', VersionId: second }] } }),
    );
    assert.deepEqual(
      removed.Deleted?.map((d) => [d.Key, d.VersionId]),
      [['doc', second]],
    );
    assert.equal((await s3.send(new ListObjectVersionsCommand({ Bucket: 'versioned', Prefix: 'doc' }))).Versions?.length, 1);
    const current = listed.Versions?.[0]?.VersionId;
    assert.equal(
      (await s3CodeOf(s3.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'before', VersionId: current }))))?.status,
      501,
    );

    await s3.send(new PutBucketVersioningCommand({ Bucket: 'versioned', VersioningConfiguration: { Status: 'Suspended' } }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'versioned' }))).Status, 'Suspended');
    await s3.send(new PutObjectCommand({ Bucket: 'versioned', Key: 'before', Body: 'three' }));
    const after = await s3.send(new ListObjectVersionsCommand({ Bucket: 'versioned', Prefix: 'before' }));
    assert.equal(after.Versions?.length, 1, 'suspended: the overwrite kept nothing');
  });

  test('who may: versioning is the owner’s to set; a listing of versions needs read of the bucket', async () => {
    const bob = await s3ClientOf(ts, 'bob');
    try {
      assert.equal((await s3CodeOf(bob.send(new GetBucketVersioningCommand({ Bucket: 'versioned' }))))?.status, 403);
      assert.equal(
        (await s3CodeOf(bob.send(new PutBucketVersioningCommand({ Bucket: 'versioned', VersioningConfiguration: { Status: 'Enabled' } }))))
          ?.status,
        403,
      );
      assert.equal((await s3CodeOf(bob.send(new ListObjectVersionsCommand({ Bucket: 'versioned' }))))?.status, 403);
    } finally {
      bob.destroy();
    }
  });
});
