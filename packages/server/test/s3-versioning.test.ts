// S3 versioning over retention, through the AWS SDK, on whichever deployment the suite runs:
// Put/GetBucketVersioning (Enabled and Suspended are retention on and off for a named bucket),
// ListObjectVersions with its versions, delete markers and pages.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketLifecycleCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectVersionsCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketVersioningCommand,
  PutObjectCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import type { BucketInfo, VersionsPage } from 'stowage-client/protocol';
import { keptDays } from '../console/src/versions.js';
import { apiClient } from './helpers/api-client.js';
import { s3ClientOf, s3CodeOf } from './helpers/s3-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const DAY = 86_400_000;

/** A new bucket with versioning Enabled. */
async function createVersioned(s3: S3Client, bucket: string): Promise<void> {
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }));
}

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
    // DeleteObject of a noncurrent version: it goes for good.
    const gone = await s3.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'doc', VersionId: oldest?.VersionId }));
    assert.equal(gone.VersionId, oldest?.VersionId);
    assert.deepEqual(await s3CodeOf(s3.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'doc', VersionId: oldest?.VersionId }))), {
      code: 'NoSuchVersion',
      status: 404,
    });
    assert.equal((await s3.send(new ListObjectVersionsCommand({ Bucket: 'versioned', Prefix: 'doc' }))).Versions?.length, 2);
    // A copy from a version copies that version (not the current value).
    const second = listed.Versions?.[2]?.VersionId;
    const copied = await s3.send(
      new CopyObjectCommand({ Bucket: 'versioned', Key: 'copy', CopySource: `versioned/doc?versionId=${second}` }),
    );
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
    // DELETE of the newest delete marker undeletes the key: the version before it is current again, with its own id.
    const undeleted = await s3.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'doc', VersionId: marker }));
    assert.equal(undeleted.DeleteMarker, true);
    const back = await s3.send(new GetObjectCommand({ Bucket: 'versioned', Key: 'doc' }));
    assert.equal(await back.Body?.transformToString(), 'a3');
    assert.equal(back.VersionId, written[0], 'the version made current keeps its id');
    // DELETE of the only version, the current one: the key is gone.
    const current = listed.Versions?.[0]?.VersionId;
    await s3.send(new DeleteObjectCommand({ Bucket: 'versioned', Key: 'before', VersionId: current }));
    assert.equal((await s3CodeOf(s3.send(new HeadObjectCommand({ Bucket: 'versioned', Key: 'before' }))))?.status, 404);

    await s3.send(new PutBucketVersioningCommand({ Bucket: 'versioned', VersioningConfiguration: { Status: 'Suspended' } }));
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'versioned' }))).Status, 'Suspended');
    await s3.send(new PutObjectCommand({ Bucket: 'versioned', Key: 'before', Body: 'three' }));
    const after = await s3.send(new ListObjectVersionsCommand({ Bucket: 'versioned', Prefix: 'before' }));
    assert.equal(after.Versions?.length, 1, 'suspended: the overwrite kept nothing');
  });

  const v1Info = async (bucket: string) =>
    (await (await fetch(`${ts.url}/buckets/${bucket}`, { headers: { authorization: `Bearer ${await ts.token('alice')}` } })).json()) as {
      retentionDays: number | null;
    };
  const text = async (bucket: string, key: string, versionId?: string) =>
    (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, VersionId: versionId }))).Body?.transformToString();
  const enabled = (bucket: string) => createVersioned(s3, bucket);

  test('x-amz-version-id: GET and HEAD of the current value, CopyObject, CompleteMultipartUpload', async () => {
    await enabled('ids');
    const put = await s3.send(new PutObjectCommand({ Bucket: 'ids', Key: 'k', Body: 'v1' }));
    assert.ok(put.VersionId);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'ids', Key: 'k' }));
    assert.equal(got.VersionId, put.VersionId, 'GET of the current value names its version');
    await got.Body?.transformToString();
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'ids', Key: 'k' }))).VersionId, put.VersionId);

    const copy = await s3.send(new CopyObjectCommand({ Bucket: 'ids', Key: 'copy', CopySource: 'ids/k' }));
    assert.ok(copy.VersionId);
    assert.notEqual(copy.VersionId, put.VersionId);
    assert.equal(copy.CopySourceVersionId, undefined, 'a copy of the current value names no source version');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'ids', Key: 'copy' }))).VersionId, copy.VersionId);

    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'ids', Key: 'big' }));
    const part = await s3.send(
      new UploadPartCopyCommand({ Bucket: 'ids', Key: 'big', UploadId: upload.UploadId, PartNumber: 1, CopySource: 'ids/k' }),
    );
    const done = await s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: 'ids',
        Key: 'big',
        UploadId: upload.UploadId,
        MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.CopyPartResult?.ETag }] },
      }),
    );
    assert.ok(done.VersionId, 'CompleteMultipartUpload names the version it made');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'ids', Key: 'big' }))).VersionId, done.VersionId);
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'ids', Prefix: 'big' }));
    assert.deepEqual(
      versions.Versions?.map((v) => v.VersionId),
      [done.VersionId],
    );
  });

  test('CopyObject and UploadPartCopy from a version: that version’s bytes; a restore onto its own key', async () => {
    await enabled('from-versions');
    const first = await s3.send(new PutObjectCommand({ Bucket: 'from-versions', Key: 'doc', Body: 'first', ContentType: 'text/x-first' }));
    await s3.send(new PutObjectCommand({ Bucket: 'from-versions', Key: 'doc', Body: 'second' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'from-versions', Key: 'doc' }));

    const other = await s3.send(
      new CopyObjectCommand({ Bucket: 'from-versions', Key: 'other', CopySource: `from-versions/doc?versionId=${first.VersionId}` }),
    );
    assert.equal(other.CopySourceVersionId, first.VersionId);
    assert.equal(await text('from-versions', 'other'), 'first');
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'from-versions', Key: 'other' }))).ContentType, 'text/x-first');

    // The S3 way to restore: copy a version onto its own key (allowed without a metadata change).
    const restored = await s3.send(
      new CopyObjectCommand({ Bucket: 'from-versions', Key: 'doc', CopySource: `from-versions/doc?versionId=${first.VersionId}` }),
    );
    assert.equal(await text('from-versions', 'doc'), 'first');
    const listed = await s3.send(new ListObjectVersionsCommand({ Bucket: 'from-versions', Prefix: 'doc' }));
    assert.deepEqual(
      [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].filter((v) => v.IsLatest).map((v) => v.VersionId),
      [restored.VersionId],
    );

    // A part copied from a version.
    const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'from-versions', Key: 'assembled' }));
    for (const range of [undefined, 'bytes=0-2']) {
      const part = await s3.send(
        new UploadPartCopyCommand({
          Bucket: 'from-versions',
          Key: 'assembled',
          UploadId: upload.UploadId,
          PartNumber: 1,
          CopySource: `from-versions/doc?versionId=${first.VersionId}`,
          CopySourceRange: range,
        }),
      );
      assert.equal(part.CopySourceVersionId, first.VersionId);
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'from-versions',
          Key: 'assembled',
          UploadId: upload.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.CopyPartResult?.ETag }] },
        }),
      );
      assert.equal(await text('from-versions', 'assembled'), range ? 'fir' : 'first');
      if (!range) {
        const next = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'from-versions', Key: 'assembled' }));
        Object.assign(upload, { UploadId: next.UploadId });
      }
    }

    // A delete marker, or a version not kept, is no source.
    const marker = listed.DeleteMarkers?.[0]?.VersionId;
    for (const versionId of [marker, 'nope'])
      assert.deepEqual(
        await s3CodeOf(
          s3.send(new CopyObjectCommand({ Bucket: 'from-versions', Key: 'x', CopySource: `from-versions/doc?versionId=${versionId}` })),
        ),
        { code: 'NoSuchVersion', status: 404 },
      );
  });

  test('DeleteObjects with VersionId: versions and delete markers go for good, beside plain keys', async () => {
    await enabled('batch');
    const a1 = await s3.send(new PutObjectCommand({ Bucket: 'batch', Key: 'a', Body: '1' }));
    const a2 = await s3.send(new PutObjectCommand({ Bucket: 'batch', Key: 'a', Body: '2' }));
    await s3.send(new PutObjectCommand({ Bucket: 'batch', Key: 'b', Body: 'b' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'batch', Key: 'b' }));
    await s3.send(new PutObjectCommand({ Bucket: 'batch', Key: 'b', Body: 'b again' }));
    await s3.send(new PutObjectCommand({ Bucket: 'batch', Key: 'plain', Body: 'p' }));
    const bMarker = (await s3.send(new ListObjectVersionsCommand({ Bucket: 'batch', Prefix: 'b' }))).DeleteMarkers?.[0]?.VersionId;
    assert.ok(bMarker);
    const answer = await s3.send(
      new DeleteObjectsCommand({
        Bucket: 'batch',
        Delete: {
          Objects: [
            { Key: 'a', VersionId: a1.VersionId },
            { Key: 'b', VersionId: bMarker },
            { Key: 'a', VersionId: 'not-kept' },
            { Key: 'plain' },
          ],
        },
      }),
    );
    const deleted = (answer.Deleted ?? []).map((d) => [d.Key, d.VersionId, d.DeleteMarker, d.DeleteMarkerVersionId]);
    assert.deepEqual(
      deleted.sort(),
      [
        ['a', a1.VersionId, undefined, undefined],
        ['b', bMarker, true, bMarker],
        ['plain', undefined, undefined, undefined],
      ].sort(),
    );
    assert.deepEqual(
      answer.Errors?.map((e) => [e.Key, e.VersionId, e.Code]),
      [['a', 'not-kept', 'NoSuchVersion']],
    );
    const left = await s3.send(new ListObjectVersionsCommand({ Bucket: 'batch' }));
    assert.deepEqual(
      left.Versions?.map((v) => [v.Key, v.VersionId === a2.VersionId]),
      [
        ['a', true],
        ['b', false],
        ['b', false],
        ['plain', false],
      ],
    );
    assert.deepEqual(
      left.DeleteMarkers?.map((m) => m.Key),
      ['plain'],
    );
    assert.equal(await text('batch', 'a'), '2');
  });

  test('ListObjectVersions with a delimiter: CommonPrefixes, each a single entry, pages past them', async () => {
    await enabled('folders');
    for (const key of ['a/1', 'a/2', 'b/x/1', 'c', 'c', 'd/1', 'e'])
      await s3.send(new PutObjectCommand({ Bucket: 'folders', Key: key, Body: key }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'folders', Key: 'e' }));
    const whole = await s3.send(new ListObjectVersionsCommand({ Bucket: 'folders', Delimiter: '/' }));
    assert.deepEqual(
      whole.CommonPrefixes?.map((p) => p.Prefix),
      ['a/', 'b/', 'd/'],
    );
    assert.deepEqual(
      whole.Versions?.map((v) => [v.Key, v.IsLatest]),
      [
        ['c', true],
        ['c', false],
        ['e', false],
      ],
    );
    assert.deepEqual(
      whole.DeleteMarkers?.map((m) => [m.Key, m.IsLatest]),
      [['e', true]],
    );
    assert.equal(whole.Delimiter, '/');
    const under = await s3.send(new ListObjectVersionsCommand({ Bucket: 'folders', Delimiter: '/', Prefix: 'b/' }));
    assert.deepEqual(
      under.CommonPrefixes?.map((p) => p.Prefix),
      ['b/x/'],
    );
    assert.equal(under.Versions, undefined);

    // Pages of 2: prefixes count as entries; every entry once.
    const seen: string[] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    for (let pages = 0; pages < 10; pages++) {
      const page = await s3.send(
        new ListObjectVersionsCommand({
          Bucket: 'folders',
          Delimiter: '/',
          MaxKeys: 2,
          KeyMarker: keyMarker,
          VersionIdMarker: versionIdMarker,
        }),
      );
      const entries = [
        ...(page.CommonPrefixes ?? []).map((p) => `prefix ${p.Prefix}`),
        ...[...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => `${v.Key}@${v.VersionId}`),
      ];
      assert.ok(entries.length <= 2);
      seen.push(...entries);
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
    }
    assert.equal(seen.length, 7);
    assert.equal(new Set(seen).size, 7);
    assert.deepEqual(
      seen.filter((entry) => entry.startsWith('prefix')),
      ['prefix a/', 'prefix b/', 'prefix d/'],
    );
  });

  test('lifecycle NoncurrentVersionExpiration for the whole bucket: the bucket’s window', async () => {
    await enabled('windowed');
    assert.equal((await v1Info('windowed')).retentionDays, 30);
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'windowed',
        LifecycleConfiguration: {
          Rules: [
            { ID: 'old-versions', Filter: {}, Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 3 } },
            { ID: 'logs', Filter: { Prefix: 'logs/' }, Status: 'Enabled', Expiration: { Days: 10 } },
          ],
        },
      }),
    );
    assert.equal((await v1Info('windowed')).retentionDays, 3, 'the rule set the retention window');
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'windowed' }));
    assert.deepEqual(
      got.Rules?.map((rule) => [rule.ID, rule.Filter?.Prefix, rule.Expiration?.Days, rule.NoncurrentVersionExpiration?.NoncurrentDays]),
      [
        ['old-versions', '', undefined, 3],
        ['logs', 'logs/', 10, undefined],
      ],
    );
    // A version kept now is purged after 3 days.
    await s3.send(new PutObjectCommand({ Bucket: 'windowed', Key: 'k', Body: '1' }));
    await s3.send(new PutObjectCommand({ Bucket: 'windowed', Key: 'k', Body: '2' }));
    const versions = await (
      await fetch(`${ts.url}/windowed/versions?prefix=k`, { headers: { authorization: `Bearer ${await ts.token('alice')}` } })
    ).json();
    const kept = (versions as { versions: Array<{ current: boolean; purgeAfter: string | null; deletedAt: string | null }> }).versions.find(
      (v) => !v.current,
    );
    assert.ok(kept?.purgeAfter && kept.deletedAt);
    assert.equal(Date.parse(kept.purgeAfter) - Date.parse(kept.deletedAt), 3 * 86_400_000);

    const refused = await s3CodeOf(
      s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: 'windowed',
          LifecycleConfiguration: {
            Rules: [
              {
                ID: 'p',
                Filter: {},
                Status: 'Enabled',
                NoncurrentVersionExpiration: { NoncurrentDays: 1 },
                NoncurrentVersionTransitions: [{ NoncurrentDays: 1, StorageClass: 'GLACIER' }],
              },
            ],
          },
        }),
      ),
    );
    assert.deepEqual(refused, { code: 'NotImplemented', status: 501 });
    assert.equal((await v1Info('windowed')).retentionDays, 3, 'a refused configuration changed nothing');
    // Removing the configuration leaves the window.
    await s3.send(new DeleteBucketLifecycleCommand({ Bucket: 'windowed' }));
    assert.equal((await v1Info('windowed')).retentionDays, 3);

    // On a bucket not versioned, the rule waits for versioning, which then takes its window.
    await s3.send(new CreateBucketCommand({ Bucket: 'later' }));
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'later',
        LifecycleConfiguration: {
          Rules: [{ ID: 'nv', Prefix: '', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 5 } }],
        },
      }),
    );
    assert.equal((await s3.send(new GetBucketVersioningCommand({ Bucket: 'later' }))).Status, undefined);
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'later', VersioningConfiguration: { Status: 'Enabled' } }));
    assert.equal((await v1Info('later')).retentionDays, 5);
  });

  test('DeleteObject of the current version: the one before is current again (its id, bytes and time); of the newest marker: undelete', async () => {
    await enabled('undo');
    const v1 = await s3.send(new PutObjectCommand({ Bucket: 'undo', Key: 'k', Body: 'one', ContentType: 'text/x-one' }));
    const before = await s3.send(new HeadObjectCommand({ Bucket: 'undo', Key: 'k' }));
    const v2 = await s3.send(new PutObjectCommand({ Bucket: 'undo', Key: 'k', Body: 'two' }));
    const removed = await s3.send(new DeleteObjectCommand({ Bucket: 'undo', Key: 'k', VersionId: v2.VersionId }));
    assert.equal(removed.VersionId, v2.VersionId);
    assert.equal(removed.DeleteMarker, undefined);
    const now = await s3.send(new GetObjectCommand({ Bucket: 'undo', Key: 'k' }));
    assert.equal(await now.Body?.transformToString(), 'one');
    assert.equal(now.VersionId, v1.VersionId);
    assert.equal(now.ContentType, 'text/x-one');
    assert.equal(now.LastModified?.getTime(), before.LastModified?.getTime());
    let listed = await s3.send(new ListObjectVersionsCommand({ Bucket: 'undo' }));
    assert.deepEqual(
      listed.Versions?.map((v) => [v.VersionId, v.IsLatest]),
      [[v1.VersionId, true]],
    );
    assert.deepEqual(await s3CodeOf(s3.send(new GetObjectCommand({ Bucket: 'undo', Key: 'k', VersionId: v2.VersionId }))), {
      code: 'NoSuchVersion',
      status: 404,
    });

    // Deleted, then the delete marker deleted: the key is back as it was.
    const deleted = await s3.send(new DeleteObjectCommand({ Bucket: 'undo', Key: 'k' }));
    listed = await s3.send(new ListObjectVersionsCommand({ Bucket: 'undo' }));
    const marker = listed.DeleteMarkers?.[0]?.VersionId;
    assert.ok(marker);
    assert.deepEqual([deleted.DeleteMarker, deleted.VersionId], [true, marker], 'a delete names the marker it left');
    // Two markers: removing the newest, with the older one the newest left, keeps the key deleted.
    const between = await s3.send(new PutObjectCommand({ Bucket: 'undo', Key: 'k', Body: 'between' }));
    await s3.send(new DeleteObjectCommand({ Bucket: 'undo', Key: 'k' }));
    const newer = (await s3.send(new ListObjectVersionsCommand({ Bucket: 'undo' }))).DeleteMarkers?.find((m) => m.IsLatest)?.VersionId;
    assert.ok(newer && newer !== marker);
    await s3.send(new DeleteObjectCommand({ Bucket: 'undo', Key: 'k', VersionId: between.VersionId }));
    assert.equal((await s3.send(new DeleteObjectCommand({ Bucket: 'undo', Key: 'k', VersionId: newer }))).DeleteMarker, true);
    assert.equal((await s3CodeOf(s3.send(new HeadObjectCommand({ Bucket: 'undo', Key: 'k' }))))?.status, 404);
    await s3.send(new DeleteObjectCommand({ Bucket: 'undo', Key: 'k', VersionId: marker }));
    assert.equal((await s3.send(new HeadObjectCommand({ Bucket: 'undo', Key: 'k' }))).VersionId, v1.VersionId);
    // The usage counts the object again, once.
    const usage = (await (
      await fetch(`${ts.url}/buckets/undo`, { headers: { authorization: `Bearer ${await ts.token('alice')}` } })
    ).json()) as {
      objects: number;
      bytes: number;
    };
    assert.deepEqual([usage.objects, usage.bytes], [1, 3]);

    // DeleteObjects of the current version does the same.
    const v3 = await s3.send(new PutObjectCommand({ Bucket: 'undo', Key: 'k', Body: 'three' }));
    const batch = await s3.send(new DeleteObjectsCommand({ Bucket: 'undo', Delete: { Objects: [{ Key: 'k', VersionId: v3.VersionId }] } }));
    assert.deepEqual(
      batch.Deleted?.map((d) => d.VersionId),
      [v3.VersionId],
    );
    assert.equal(await text('undo', 'k'), 'one');
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

// A server of its own: the test moves its clock days ahead, past what S3 signatures allow.
describe('S3 lifecycle NoncurrentVersionExpiration by prefix', () => {
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

  test('its keys keep what every write and prefix operation replaces that long', async () => {
    await createVersioned(s3, 'ruled');
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'ruled',
        LifecycleConfiguration: {
          Rules: [
            { ID: 'logs', Filter: { Prefix: 'logs/' }, Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 1 } },
            // Overlapping rules: the shortest wins, as on S3.
            { ID: 'logs-keep', Filter: { Prefix: 'logs/keep/' }, Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 90 } },
            { ID: 'archive', Prefix: 'archive/', Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 90 } },
            {
              ID: 'archive-fast',
              Filter: { Prefix: 'archive/fast/' },
              Status: 'Enabled',
              NoncurrentVersionExpiration: { NoncurrentDays: 2 },
            },
            { ID: 'off', Filter: { Prefix: 'other/' }, Status: 'Disabled', NoncurrentVersionExpiration: { NoncurrentDays: 2 } },
          ],
        },
      }),
    );
    const v1 = apiClient(ts.origin, await ts.token('alice', 30 * DAY));
    const info = await v1.call('GET', '/buckets/ruled');
    assert.equal(info.json<BucketInfo>().retentionDays, 30, 'rules for prefixes leave the bucket’s window');
    assert.deepEqual(
      info.json<BucketInfo>().retentionRules.map((rule) => [rule.prefix, rule.days, rule.enabled]),
      [
        ['logs/', 1, true],
        ['logs/keep/', 90, true],
        ['archive/', 90, true],
        ['archive/fast/', 2, true],
        ['other/', 2, false],
      ],
    );
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'ruled' }));
    assert.deepEqual(
      got.Rules?.map((rule) => [rule.ID, rule.Filter?.Prefix, rule.Status, rule.NoncurrentVersionExpiration?.NoncurrentDays]),
      [
        ['logs', 'logs/', 'Enabled', 1],
        ['logs-keep', 'logs/keep/', 'Enabled', 90],
        ['archive', 'archive/', 'Enabled', 90],
        ['archive-fast', 'archive/fast/', 'Enabled', 2],
        ['off', 'other/', 'Disabled', 2],
      ],
    );
    const days: Record<string, number> = { 'archive/a': 90, 'archive/fast/a': 2, 'logs/a': 1, 'logs/keep/a': 1, 'other/a': 30, top: 30 };
    const keys = Object.keys(days);
    const writeAll = async (body: string) => {
      for (const key of keys) assert.equal((await v1.put('ruled', key, body)).status, 200);
    };
    /** What one step kept: [key, delete marker?, days kept], of the versions it made noncurrent. */
    const step = async (run: () => Promise<unknown>) => {
      ts.clock.advance(1000);
      const since = ts.clock.nowMs;
      await run();
      const res = await v1.call('GET', '/ruled/versions?prefix=');
      assert.equal(res.status, 200, res.text);
      return res
        .json<VersionsPage>()
        .versions.filter((v) => !v.current && v.deletedAt !== null && Date.parse(v.deletedAt) >= since)
        .map((v) => [v.key, v.isDeleteMarker, (Date.parse(v.purgeAfter as string) - Date.parse(v.deletedAt as string)) / DAY])
        .sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    };
    const expected = (entries: Array<[string, boolean, number]>) =>
      entries.sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)));
    const replaced = (of: string[]) => expected(of.map((key) => [key, false, days[key] as number]));
    const deleted = (of: string[]) =>
      expected(
        of.flatMap((key) => [
          [key, false, days[key] as number],
          [key, true, days[key] as number],
        ]),
      );

    await writeAll('first');
    assert.deepEqual(
      await step(() => Promise.all(keys.map((key) => s3.send(new PutObjectCommand({ Bucket: 'ruled', Key: key, Body: 'second' }))))),
      replaced(keys),
      'PutObject',
    );
    assert.deepEqual(
      await step(() => Promise.all(keys.map((key) => s3.send(new DeleteObjectCommand({ Bucket: 'ruled', Key: key }))))),
      deleted(keys),
      'DeleteObject',
    );
    await writeAll('third');
    assert.deepEqual(await step(() => v1.deletePrefix('ruled', '', '&all=true')), deleted(keys), 'delete by prefix, over every rule');
    await writeAll('fourth');
    assert.deepEqual(
      await step(() => v1.deletePrefix('ruled', 'logs/')),
      deleted(['logs/a', 'logs/keep/a']),
      'delete by prefix, inside a rule',
    );
    await writeAll('fifth');
    assert.deepEqual(await step(() => v1.call('POST', '/ruled/delete_many', { body: { keys } })), deleted(keys), 'delete_many');

    // A move: its sources are kept by their keys' rules, the destinations it replaces by theirs.
    for (const key of ['src/a', 'src/fast/a', 'archive/a', 'archive/fast/a']) await v1.put('ruled', key, 'sixth');
    days['src/a'] = 30;
    days['src/fast/a'] = 30;
    const moved = await step(async () => {
      const res = await v1.move({
        source: { type: 'ruled', prefix: 'src/' },
        destination: { type: 'ruled', prefix: 'archive/' },
        overwrite: true,
      });
      assert.equal(res.status, 200, res.text);
    });
    assert.deepEqual(
      moved,
      expected([...deleted(['src/a', 'src/fast/a']), ...replaced(['archive/a', 'archive/fast/a'])]),
      'move of a prefix',
    );
    const movedOn = await step(async () => {
      const res = await v1.move({ source: { type: 'ruled', prefix: 'archive/' }, destination: { type: 'ruled', prefix: 'logs/' } });
      assert.equal(res.status, 200, res.text);
    });
    days['logs/fast/a'] = 1;
    assert.deepEqual(movedOn, deleted(['archive/a', 'archive/fast/a']), 'a move’s sources, by their rules');
    const one = await step(async () => {
      await v1.put('ruled', 'top', 'seventh');
      const res = await v1.move({
        source: { type: 'ruled', key: 'logs/fast/a' },
        destination: { type: 'ruled', key: 'top' },
        overwrite: true,
      });
      assert.equal(res.status, 200, res.text);
    });
    assert.deepEqual(one, expected([...deleted(['logs/fast/a']), ['top', false, 30]]), 'a move of one key');

    // A copy of a prefix into one a rule covers: the destinations it replaces by that rule, its sources stay.
    for (const key of ['from/a', 'from/b', 'logs/deep/a']) await v1.put('ruled', key, 'eighth');
    days['logs/deep/a'] = 1;
    const copied = await step(async () => {
      const res = await v1.copy({
        source: { type: 'ruled', prefix: 'from/' },
        destination: { type: 'ruled', prefix: 'logs/deep/' },
        overwrite: true,
      });
      assert.equal(res.status, 200, res.text);
    });
    assert.deepEqual(copied, replaced(['logs/deep/a']), 'copy of a prefix');
    // CopyObject and a multipart completion over a value: kept by the key's rule.
    days['archive/fast/b'] = 2;
    await v1.put('ruled', 'archive/fast/b', 'before');
    const overwritten = await step(async () => {
      await s3.send(new CopyObjectCommand({ Bucket: 'ruled', Key: 'logs/deep/a', CopySource: 'ruled/from/b' }));
      const upload = await s3.send(new CreateMultipartUploadCommand({ Bucket: 'ruled', Key: 'archive/fast/b' }));
      const part = await s3.send(
        new UploadPartCommand({ Bucket: 'ruled', Key: 'archive/fast/b', UploadId: upload.UploadId, PartNumber: 1, Body: 'after' }),
      );
      await s3.send(
        new CompleteMultipartUploadCommand({
          Bucket: 'ruled',
          Key: 'archive/fast/b',
          UploadId: upload.UploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: part.ETag }] },
        }),
      );
    });
    assert.deepEqual(overwritten, replaced(['archive/fast/b', 'logs/deep/a']), 'CopyObject, CompleteMultipartUpload');

    // A restore of the bucket as it was: what it replaces is kept by each key's rule.
    await writeAll('eighth');
    ts.clock.advance(1000);
    const at = new Date(ts.clock.nowMs).toISOString();
    ts.clock.advance(1000);
    await writeAll('ninth');
    const restored = await step(async () => {
      const res = await v1.call('POST', '/ruled/restore', { body: { prefix: '', at } });
      assert.equal(res.status, 200, res.text);
    });
    assert.deepEqual(restored, replaced(keys), 'restore of a prefix');
    assert.equal((await v1.get('ruled', 'logs/keep/a')).text, 'eighth');

    // Suspended: nothing is kept, whatever the rules say.
    await s3.send(new PutBucketVersioningCommand({ Bucket: 'ruled', VersioningConfiguration: { Status: 'Suspended' } }));
    assert.deepEqual(await step(() => writeAll('tenth')), []);

    // Past 2 days, the versions of the 1- and 2-day rules are purged; the others stay (through v1: S3's signatures would be skewed).
    const windowsKept = async () => {
      const res = await v1.call('GET', '/ruled/versions?prefix=');
      const left = res.json<VersionsPage>().versions.filter((v) => !v.current);
      return new Set(left.map((v) => Math.round((Date.parse(v.purgeAfter as string) - Date.parse(v.deletedAt as string)) / DAY)));
    };
    assert.deepEqual(
      [...(await windowsKept())].sort((a, b) => a - b),
      [1, 2, 30, 90],
    );
    ts.clock.advance(2 * DAY + 60_000);
    await ts.server.context.objects.sweep();
    assert.deepEqual(
      [...(await windowsKept())].sort((a, b) => a - b),
      [30, 90],
    );
  });
  test('a rule for every key bounds the rules for prefixes, as on S3; the window keeps the other keys', async () => {
    await createVersioned(s3, 'capped');
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'capped',
        LifecycleConfiguration: {
          Rules: [
            { ID: 'all', Filter: {}, Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 3 } },
            { ID: 'logs', Filter: { Prefix: 'logs/' }, Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 90 } },
            { ID: 'tmp', Filter: { Prefix: 'tmp/' }, Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 1 } },
          ],
        },
      }),
    );
    const v1 = apiClient(ts.origin, await ts.token('alice', 30 * DAY));
    // The window stays the bucket's own to change (storage API v1); the rules for prefixes stay bounded by 'all'.
    const patched = await v1.call('PATCH', '/buckets/capped', { body: { retentionDays: 10 } });
    assert.equal(patched.status, 200, patched.text);
    for (const key of ['logs/a', 'tmp/a', 'k']) {
      await s3.send(new PutObjectCommand({ Bucket: 'capped', Key: key, Body: '1' }));
      await s3.send(new PutObjectCommand({ Bucket: 'capped', Key: key, Body: '2' }));
    }
    const res = await v1.call('GET', '/capped/versions?prefix=');
    const kept = res
      .json<VersionsPage>()
      .versions.filter((v) => !v.current)
      .map((v) => [v.key, (Date.parse(v.purgeAfter as string) - Date.parse(v.deletedAt as string)) / DAY]);
    assert.deepEqual(kept, [
      ['k', 10],
      ['logs/a', 3],
      ['tmp/a', 1],
    ]);
    // What storage API v1 tells clients gives the same: the console says what the server does.
    const info = (await v1.call('GET', '/buckets/capped')).json<BucketInfo>();
    assert.deepEqual(
      info.retentionRules.map((rule) => [rule.prefix, rule.days]),
      [
        ['', 3],
        ['logs/', 90],
        ['tmp/', 1],
      ],
    );
    for (const [key, days] of kept) assert.deepEqual(keptDays(info, key as string, true), { least: days, most: days }, key as string);
  });

  test('NewerNoncurrentVersions: each key keeps its newest noncurrent versions past their days, until newer ones push them out', async () => {
    await createVersioned(s3, 'counted');
    const keepTwo = { ID: 'keep', Filter: { Prefix: 'keep/' }, Status: 'Enabled' as const };
    const plain = {
      ID: 'plain',
      Filter: { Prefix: 'plain/' },
      Status: 'Enabled' as const,
      NoncurrentVersionExpiration: { NoncurrentDays: 1 },
    };
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'counted',
        LifecycleConfiguration: {
          Rules: [{ ...keepTwo, NoncurrentVersionExpiration: { NoncurrentDays: 1, NewerNoncurrentVersions: 2 } }, plain],
        },
      }),
    );
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'counted' }));
    assert.deepEqual(got.Rules?.[0]?.NoncurrentVersionExpiration, { NoncurrentDays: 1, NewerNoncurrentVersions: 2 });
    const v1 = apiClient(ts.origin, await ts.token('alice', 30 * DAY));
    const info = (await v1.call('GET', '/buckets/counted')).json<BucketInfo>();
    assert.deepEqual(
      info.retentionRules.map((rule) => [rule.prefix, rule.days, rule.newerVersions]),
      [
        ['keep/', 1, 2],
        ['plain/', 1, undefined],
      ],
    );
    const write = async (key: string, ...bodies: string[]) => {
      for (const body of bodies) assert.equal((await v1.put('counted', key, body)).status, 200);
    };
    /** The bodies of each key's noncurrent values (newest first), and its delete markers as 'marker' (current ones too). */
    const bodyOf = new Map<string, string>();
    const kept = async () => {
      const versions = (await v1.call('GET', '/counted/versions?prefix=')).json<VersionsPage>().versions;
      const byKey: Record<string, string[]> = {};
      for (const v of versions.filter((v) => !v.current || v.isDeleteMarker)) {
        byKey[v.key] = [...(byKey[v.key] ?? []), v.isDeleteMarker ? 'marker' : (bodyOf.get(v.sha256) ?? v.sha256)];
      }
      return byKey;
    };
    const sweepAfter = async (ms: number) => {
      ts.clock.advance(ms);
      await ts.server.context.objects.sweep();
    };
    for (const body of ['a1', 'a2', 'a3', 'a4', 'a5', 'a6', 'd1', 'd2', 'd3', 'p1', 'p2', 'p3'])
      bodyOf.set(createHash('sha256').update(body).digest('hex'), body);
    await write('keep/a', 'a1', 'a2', 'a3', 'a4', 'a5');
    await write('keep/d', 'd1', 'd2', 'd3');
    assert.equal((await v1.call('DELETE', '/counted/keep/d')).status, 204);
    await write('plain/p', 'p1', 'p2', 'p3');
    assert.deepEqual(await kept(), {
      'keep/a': ['a4', 'a3', 'a2', 'a1'],
      'keep/d': ['marker', 'd3', 'd2', 'd1'],
      'plain/p': ['p2', 'p1'],
    });

    // A day on: plain/ keeps nothing; keep/ keeps the two newest noncurrent versions of each key,
    // and a current delete marker is not one of them.
    await sweepAfter(DAY + 60_000);
    const twoNewest = { 'keep/a': ['a4', 'a3'], 'keep/d': ['marker', 'd3', 'd2'] };
    assert.deepEqual(await kept(), twoNewest);
    // Looked at again a day later, they stay while nothing newer comes.
    await sweepAfter(DAY + 60_000);
    assert.deepEqual(await kept(), twoNewest);

    // A newer version pushes the oldest out once it is due itself; the newest two stay.
    await write('keep/a', 'a6');
    assert.deepEqual((await kept())['keep/a'], ['a5', 'a4', 'a3']);
    await sweepAfter(DAY + 60_000);
    assert.deepEqual((await kept())['keep/a'], ['a5', 'a4']);

    // With versioning suspended (a window of 0) nothing more is kept, but what was kept keeps its rules.
    assert.equal((await v1.call('PATCH', '/buckets/counted', { body: { retentionDays: 0 } })).status, 200);
    await write('keep/a', 'a7');
    await sweepAfter(DAY + 60_000);
    assert.deepEqual(await kept(), { 'keep/a': ['a5', 'a4'], 'keep/d': ['marker', 'd3', 'd2'] });

    // Without the count, what it held goes at the next look (the days are long past): the versions,
    // and the delete marker with them, as a marker goes at the end of its time.
    await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: 'counted', LifecycleConfiguration: { Rules: [plain] } }));
    await sweepAfter(DAY + 60_000);
    assert.deepEqual(await kept(), {});
    assert.equal((await v1.get('counted', 'keep/a')).text, 'a7');
  });

  test('ExpiredObjectDeleteMarker: a delete marker that removals leave alone goes an hour later, under the rule; a count does not hold it', async () => {
    await createVersioned(s3, 'markers');
    const tidy = { ID: 'tidy', Filter: { Prefix: 'tidy/' }, Status: 'Enabled' as const };
    await s3.send(
      new PutBucketLifecycleConfigurationCommand({
        Bucket: 'markers',
        LifecycleConfiguration: {
          Rules: [
            {
              ...tidy,
              Expiration: { ExpiredObjectDeleteMarker: true },
              NoncurrentVersionExpiration: { NoncurrentDays: 30, NewerNoncurrentVersions: 1 },
            },
          ],
        },
      }),
    );
    const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: 'markers' }));
    assert.deepEqual(got.Rules?.[0]?.Expiration, { ExpiredObjectDeleteMarker: true });
    const listed = async (key: string) => {
      const page = await s3.send(new ListObjectVersionsCommand({ Bucket: 'markers', Prefix: key }));
      return {
        values: (page.Versions ?? []).map((v) => v.VersionId as string),
        markers: (page.DeleteMarkers ?? []).map((m) => m.VersionId as string),
      };
    };
    /** Writes the bodies in turn, deleting the key after each body named 'delete'. */
    const history = async (key: string, steps: string[]) => {
      for (const step of steps) {
        if (step === 'delete') await s3.send(new DeleteObjectCommand({ Bucket: 'markers', Key: key }));
        else await s3.send(new PutObjectCommand({ Bucket: 'markers', Key: key, Body: step }));
      }
    };
    const removeOneByOne = async (key: string, versionIds: string[]) => {
      for (const versionId of versionIds) await s3.send(new DeleteObjectCommand({ Bucket: 'markers', Key: key, VersionId: versionId }));
    };

    // One by one, the older value first: the marker still hides the newer one meanwhile.
    await history('tidy/a', ['1', '2', 'delete']);
    const a = await listed('tidy/a');
    await removeOneByOne('tidy/a', [a.values[1] as string]);
    assert.equal((await s3CodeOf(s3.send(new HeadObjectCommand({ Bucket: 'markers', Key: 'tidy/a' }))))?.status, 404);
    await removeOneByOne('tidy/a', [a.values[0] as string]);
    assert.deepEqual((await listed('tidy/a')).markers, a.markers, 'the marker stays until the lifecycle’s turn, as on S3');
    // Two markers stacked: removing the values and the older marker leaves the newer one alone.
    await history('tidy/s', ['1', 'delete', '2', 'delete']);
    const stacked = await listed('tidy/s');
    await removeOneByOne('tidy/s', [...stacked.values, stacked.markers[1] as string]);
    // A batch naming the values and then the marker (as scripts that empty a bucket send it): every entry deleted.
    await history('tidy/b', ['1', '2', 'delete']);
    const b = await listed('tidy/b');
    const batch = await s3.send(
      new DeleteObjectsCommand({
        Bucket: 'markers',
        Delete: { Objects: [...b.values, ...b.markers].map((VersionId) => ({ Key: 'tidy/b', VersionId })) },
      }),
    );
    assert.equal(batch.Errors, undefined, JSON.stringify(batch.Errors));
    assert.equal(batch.Deleted?.length, 3);
    // Outside the rule, a marker left alone stays.
    await history('kept/a', ['1', 'delete']);
    await removeOneByOne('kept/a', (await listed('kept/a')).values);

    // Not before the hour.
    ts.clock.advance(3_600_000 - 60_000);
    await ts.server.context.objects.sweep();
    assert.equal((await listed('tidy/a')).markers.length, 1);
    ts.clock.advance(2 * 60_000);
    await ts.server.context.objects.sweep();
    for (const key of ['tidy/a', 'tidy/s', 'tidy/b']) assert.deepEqual(await listed(key), { values: [], markers: [] }, key);
    assert.equal((await listed('kept/a')).markers.length, 1);
  });

  test('a sweep that cannot read one bucket’s rules purges the others and leaves that bucket’s versions for the next', async () => {
    for (const bucket of ['readable', 'unreadable']) await createVersioned(s3, bucket);
    const v1 = apiClient(ts.origin, await ts.token('alice', 90 * DAY));
    for (const bucket of ['readable', 'unreadable'])
      for (const body of ['1', '2']) assert.equal((await v1.put(bucket, 'k', body)).status, 200);
    const noncurrent = async (bucket: string) =>
      (await v1.call('GET', `/${bucket}/versions?prefix=`)).json<VersionsPage>().versions.filter((v) => !v.current).length;
    ts.clock.advance(31 * DAY);
    const objects = ts.server.context.objects;
    await ts.server.backend.sweepExpired(ts.clock.nowMs, (tenant, type) =>
      type === 'unreadable' ? Promise.reject(new Error('index unavailable')) : objects.purgeScheduleFor(tenant, type),
    );
    assert.deepEqual([await noncurrent('readable'), await noncurrent('unreadable')], [0, 1]);
    await objects.sweep();
    assert.equal(await noncurrent('unreadable'), 0);
  });
});
