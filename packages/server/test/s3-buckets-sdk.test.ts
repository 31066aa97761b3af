// Named buckets and sharing through the AWS SDK for JavaScript v3, as terraform's aws_s3_bucket and
// application code use them, on a real server over real sockets, on whichever deployment the suite
// runs: CreateBucket (location constraints, object ownership, canned ACLs), HeadBucket,
// GetBucketLocation, ListBuckets with its paging across built-in and named buckets, DeleteBucket,
// the namespace errors, bucket and object ACLs, bucket policies and their status, the public
// access block and lifecycle expiry. Every grant is checked by what the grantee (or an unsigned
// request) can then do, not only by what the configuration reads back.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteBucketCommand,
  DeleteBucketLifecycleCommand,
  DeleteBucketPolicyCommand,
  DeleteObjectCommand,
  DeletePublicAccessBlockCommand,
  GetBucketAclCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketLocationCommand,
  GetBucketPolicyCommand,
  GetBucketPolicyStatusCommand,
  GetObjectAclCommand,
  GetObjectCommand,
  GetPublicAccessBlockCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  ListPartsCommand,
  PutBucketAclCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketPolicyCommand,
  PutObjectAclCommand,
  PutObjectCommand,
  PutPublicAccessBlockCommand,
  type S3Client,
  UploadPartCommand,
  UploadPartCopyCommand,
} from '@aws-sdk/client-s3';
import { MULTIPART, partPrefix } from '../src/storage/multipart-rows.js';
import { rawRequest } from './helpers/raw-http.js';
import { assertS3Fails, s3ClientOf, s3FailureOf } from './helpers/s3-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const DAY_MS = 86_400_000;
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';

/** A bucket name no other test (or deployment sharing a namespace) uses. */
const uniqueName = (stem: string) => `${stem}-${randomBytes(4).toString('hex')}`;

/** The <Code> of an S3 XML error body. */
const xmlCode = (text: string) => /<Code>([^<]*)<\/Code>/.exec(text)?.[1];

describe('named buckets and sharing through the AWS SDK for JavaScript v3', () => {
  let ts: TestServer;
  let alice: S3Client;
  let bob: S3Client;
  /** An unsigned request to the S3 API: the anonymous caller. */
  const anonymous = (method: string, path: string) => rawRequest(ts.origin, method, `/s3${path}`);

  before(async () => {
    ts = await startTestServer();
    alice = await s3ClientOf(ts, 'alice');
    bob = await s3ClientOf(ts, 'bob');
  });
  after(async () => {
    alice?.destroy();
    bob?.destroy();
    await ts?.close();
  });

  describe('CreateBucket as terraform sends it', () => {
    test('us-east-1 named, empty or left out is this server; another region is IllegalLocationConstraintException', async () => {
      const omitted = uniqueName('tf-omitted');
      const created = await alice.send(new CreateBucketCommand({ Bucket: omitted }));
      assert.equal(created.$metadata.httpStatusCode, 200);
      assert.equal(created.Location, `/${omitted}`);
      const empty = uniqueName('tf-empty');
      await alice.send(new CreateBucketCommand({ Bucket: empty, CreateBucketConfiguration: {} }));
      const named = uniqueName('tf-named');
      await alice.send(new CreateBucketCommand({ Bucket: named, CreateBucketConfiguration: { LocationConstraint: 'us-east-1' as never } }));
      for (const bucket of [omitted, empty, named])
        assert.equal((await alice.send(new HeadBucketCommand({ Bucket: bucket }))).$metadata.httpStatusCode, 200, bucket);

      const elsewhere = uniqueName('tf-elsewhere');
      const refused = await assertS3Fails(
        alice.send(new CreateBucketCommand({ Bucket: elsewhere, CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' } })),
        'IllegalLocationConstraintException',
        400,
      );
      assert.match(refused.message, /eu-west-1/);
      await assertS3Fails(alice.send(new HeadBucketCommand({ Bucket: elsewhere })), 'NotFound', 404);
    });

    test('x-amz-object-ownership BucketOwnerEnforced is accepted; an unknown value is InvalidArgument', async () => {
      const bucket = uniqueName('tf-owner');
      await alice.send(new CreateBucketCommand({ Bucket: bucket, ObjectOwnership: 'BucketOwnerEnforced' }));
      await alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'v' }));
      assert.equal(await (await alice.send(new GetObjectCommand({ Bucket: bucket, Key: 'k' }))).Body?.transformToString(), 'v');
      await assertS3Fails(
        alice.send(new CreateBucketCommand({ Bucket: uniqueName('tf-owner-bad'), ObjectOwnership: 'Nobody' as never })),
        'InvalidArgument',
        400,
      );
    });

    test("ACL public-read: unsigned requests read the bucket's objects and list it, and cannot write", async () => {
      const bucket = uniqueName('tf-public');
      await alice.send(new CreateBucketCommand({ Bucket: bucket, ACL: 'public-read' }));
      await alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'site/index.html', Body: '<p>hi</p>', ContentType: 'text/html' }));
      const read = await anonymous('GET', `/${bucket}/site/index.html`);
      assert.equal(read.status, 200);
      assert.equal(read.text, '<p>hi</p>');
      assert.equal(read.headers['content-type'], 'text/html');
      const listed = await anonymous('GET', `/${bucket}?list-type=2&prefix=site%2F`);
      assert.equal(listed.status, 200);
      assert.match(listed.text, /<Key>site\/index\.html<\/Key>/);
      const written = await anonymous('PUT', `/${bucket}/site/evil.html`);
      assert.equal(written.status, 403);
      assert.equal(xmlCode(written.text), 'AccessDenied');
      await assertS3Fails(alice.send(new HeadObjectCommand({ Bucket: bucket, Key: 'site/evil.html' })), 'NotFound', 404);

      const acl = await alice.send(new GetBucketAclCommand({ Bucket: bucket }));
      assert.equal(acl.Owner?.ID, 'alice');
      assert.deepEqual(
        acl.Grants?.map((grant) => [grant.Grantee?.Type, grant.Grantee?.ID ?? grant.Grantee?.URI, grant.Permission]),
        [
          ['CanonicalUser', 'alice', 'FULL_CONTROL'],
          ['Group', ALL_USERS, 'READ'],
        ],
      );
    });

    test('HeadBucket names the region; GetBucketLocation is empty for us-east-1, as S3 answers', async () => {
      const bucket = uniqueName('tf-where');
      await alice.send(new CreateBucketCommand({ Bucket: bucket }));
      const head = await alice.send(new HeadBucketCommand({ Bucket: bucket }));
      assert.equal(head.BucketRegion, 'us-east-1');
      const location = await alice.send(new GetBucketLocationCommand({ Bucket: bucket }));
      assert.ok(location.LocationConstraint === undefined || location.LocationConstraint === '', String(location.LocationConstraint));
      // Someone the bucket was not shared with is refused.
      // A HEAD answer has no body: the SDK names a 403 by nothing but its status.
      assert.equal((await s3FailureOf(bob.send(new HeadBucketCommand({ Bucket: bucket }))))?.status, 403);
      await assertS3Fails(bob.send(new GetBucketLocationCommand({ Bucket: bucket })), 'AccessDenied', 403);
      await assertS3Fails(alice.send(new GetBucketLocationCommand({ Bucket: uniqueName('nowhere') })), 'NoSuchBucket', 404);
    });
  });

  describe('ListBuckets', () => {
    test('the built-in buckets, owned and shared ones with their creation dates; paged by 2, every name once', async () => {
      const stem = uniqueName('lb');
      const owned = [0, 1, 2, 3, 4].map((i) => `${stem}-${i}`);
      // The server's clock moves on between creations: each bucket's date is the moment it was made.
      const createdAt = new Map<string, number>();
      for (const bucket of owned) {
        ts.clock.advance(7_000);
        await alice.send(new CreateBucketCommand({ Bucket: bucket }));
        createdAt.set(bucket, ts.clock.now());
      }
      // bob's buckets: one shared with alice (a grant to her id), one not.
      const shared = `${stem}-bob-shared`;
      const notShared = `${stem}-bob-private`;
      ts.clock.advance(7_000);
      await bob.send(new CreateBucketCommand({ Bucket: shared, GrantRead: 'id="alice"' }));
      createdAt.set(shared, ts.clock.now());
      await bob.send(new CreateBucketCommand({ Bucket: notShared }));

      const all = await alice.send(new ListBucketsCommand({}));
      assert.equal(all.Owner?.ID, 'alice');
      const names = all.Buckets?.map((bucket) => bucket.Name ?? '') ?? [];
      assert.deepEqual(
        names,
        [...names].sort((a, b) => (a < b ? -1 : 1)),
        'in name order',
      );
      for (const name of ['data', 'tmp', 'result', ...owned, shared]) assert.ok(names.includes(name), `${name} is listed`);
      assert.equal(names.includes(notShared), false, "bob's private bucket is not alice's to see");
      assert.deepEqual(
        all.Buckets?.filter((bucket) => createdAt.has(bucket.Name ?? '')).map((bucket) => [
          bucket.Name,
          bucket.CreationDate?.toISOString(),
        ]),
        [...createdAt].sort(([a], [b]) => (a < b ? -1 : 1)).map(([name, at]) => [name, new Date(at).toISOString()]),
      );
      assert.ok(!(await bob.send(new ListBucketsCommand({}))).Buckets?.some((bucket) => owned.includes(bucket.Name ?? '')));

      // Pages of two, built-in and named buckets mixed, until no token follows.
      const paged: string[] = [];
      let token: string | undefined;
      let pages = 0;
      do {
        const page = await alice.send(new ListBucketsCommand({ MaxBuckets: 2, ContinuationToken: token }));
        const got = page.Buckets?.map((bucket) => bucket.Name ?? '') ?? [];
        assert.ok(got.length >= 1 && got.length <= 2, `page ${pages}: ${got.join(', ')}`);
        paged.push(...got);
        token = page.ContinuationToken;
        pages++;
        assert.ok(pages <= names.length, 'the pages end');
      } while (token);
      assert.deepEqual(paged, names, 'every bucket once, in order');
      assert.equal(pages, Math.ceil(names.length / 2));

      // The prefix narrows it, and pages the same way.
      const byPrefix = await alice.send(new ListBucketsCommand({ Prefix: `${stem}-`, MaxBuckets: 3 }));
      assert.deepEqual(
        byPrefix.Buckets?.map((bucket) => bucket.Name),
        owned.slice(0, 3),
      );
      const rest = await alice.send(
        new ListBucketsCommand({ Prefix: `${stem}-`, MaxBuckets: 3, ContinuationToken: byPrefix.ContinuationToken }),
      );
      assert.deepEqual(
        rest.Buckets?.map((bucket) => bucket.Name),
        [...owned.slice(3), shared].sort(),
      );
      assert.equal(rest.ContinuationToken, undefined, 'no more buckets with the prefix');
      // A prefix far down the list, one bucket a page: every page holds the next match.
      const last = await alice.send(new ListBucketsCommand({ Prefix: `${stem}-4`, MaxBuckets: 1 }));
      assert.deepEqual(
        last.Buckets?.map((bucket) => bucket.Name),
        [`${stem}-4`],
      );
      assert.equal(last.ContinuationToken, undefined);
      const matched: string[] = [];
      token = undefined;
      do {
        const page = await alice.send(new ListBucketsCommand({ Prefix: stem, MaxBuckets: 1, ContinuationToken: token }));
        matched.push(...(page.Buckets?.map((bucket) => bucket.Name ?? '') ?? []));
        token = page.ContinuationToken;
      } while (token && matched.length < 20);
      assert.deepEqual(matched, [...owned, shared].sort());
      assert.deepEqual((await alice.send(new ListBucketsCommand({ Prefix: 'zzzz-none-' }))).Buckets ?? [], []);
      assert.deepEqual(
        (await alice.send(new ListBucketsCommand({ Prefix: 't' }))).Buckets?.map((bucket) => bucket.Name).filter(
          (name) => !name?.startsWith('t'),
        ),
        [],
      );
    });
  });

  describe('DeleteBucket and the namespace', () => {
    test('a bucket with an object is BucketNotEmpty; emptied, it goes (204) and is NoSuchBucket after', async () => {
      const bucket = uniqueName('del');
      await alice.send(new CreateBucketCommand({ Bucket: bucket }));
      await alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'one/file.txt', Body: '1' }));
      await assertS3Fails(alice.send(new DeleteBucketCommand({ Bucket: bucket })), 'BucketNotEmpty', 409);
      await assertS3Fails(bob.send(new DeleteBucketCommand({ Bucket: bucket })), 'AccessDenied', 403);
      assert.equal((await alice.send(new HeadObjectCommand({ Bucket: bucket, Key: 'one/file.txt' }))).ContentLength, 1);
      await alice.send(new DeleteObjectCommand({ Bucket: bucket, Key: 'one/file.txt' }));
      const deleted = await alice.send(new DeleteBucketCommand({ Bucket: bucket }));
      assert.equal(deleted.$metadata.httpStatusCode, 204);
      await assertS3Fails(alice.send(new DeleteBucketCommand({ Bucket: bucket })), 'NoSuchBucket', 404);
      await assertS3Fails(alice.send(new HeadBucketCommand({ Bucket: bucket })), 'NotFound', 404);
      await assertS3Fails(alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'late', Body: 'x' })), 'NoSuchBucket', 404);
      await assertS3Fails(alice.send(new ListObjectsV2Command({ Bucket: bucket })), 'NoSuchBucket', 404);
      assert.ok(!(await alice.send(new ListBucketsCommand({}))).Buckets?.some((entry) => entry.Name === bucket));
      await assertS3Fails(alice.send(new DeleteBucketCommand({ Bucket: 'data' })), 'InvalidRequest', 400);
    });

    test('creating a name again: BucketAlreadyOwnedByYou for its owner, BucketAlreadyExists for anyone else; the built-in names answer 200', async () => {
      const bucket = uniqueName('taken');
      await alice.send(new CreateBucketCommand({ Bucket: bucket }));
      await assertS3Fails(alice.send(new CreateBucketCommand({ Bucket: bucket })), 'BucketAlreadyOwnedByYou', 409);
      await assertS3Fails(bob.send(new CreateBucketCommand({ Bucket: bucket })), 'BucketAlreadyExists', 409);
      // bob got nothing: the bucket is still alice's alone.
      await assertS3Fails(bob.send(new PutObjectCommand({ Bucket: bucket, Key: 'k', Body: 'x' })), 'AccessDenied', 403);
      for (const builtIn of ['data', 'tmp', 'result'])
        assert.equal((await bob.send(new CreateBucketCommand({ Bucket: builtIn }))).$metadata.httpStatusCode, 200, builtIn);
    });

    test("names outside S3's rules are InvalidBucketName, and nothing is created", async () => {
      const bad = ['ab', 'UPPER-case', 'under_score', 'dots..twice', '-leading', 'trailing-', '192.168.10.20', 'x'.repeat(64), 'buckets'];
      const wrong: string[] = [];
      for (const name of bad) {
        try {
          await assertS3Fails(alice.send(new CreateBucketCommand({ Bucket: name })), 'InvalidBucketName', 400);
        } catch (error) {
          wrong.push(`${name}: ${(error as Error).message}`);
        }
      }
      assert.deepEqual(wrong, []);
      const listed = (await alice.send(new ListBucketsCommand({}))).Buckets?.map((bucket) => bucket.Name) ?? [];
      assert.deepEqual(
        listed.filter((name) => bad.includes(name ?? '')),
        [],
      );
    });
  });

  describe('ACLs', () => {
    test('PutBucketAcl with a grant to a canonical user id: bob lists and reads, cannot write; GetBucketAcl round-trips it', async () => {
      const bucket = uniqueName('acl');
      await alice.send(new CreateBucketCommand({ Bucket: bucket }));
      await alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'reports/q1.csv', Body: 'a,b\n1,2\n' }));
      await assertS3Fails(bob.send(new GetObjectCommand({ Bucket: bucket, Key: 'reports/q1.csv' })), 'AccessDenied', 403);

      const current = await alice.send(new GetBucketAclCommand({ Bucket: bucket }));
      assert.deepEqual(
        current.Grants?.map((grant) => [grant.Grantee?.ID, grant.Permission]),
        [['alice', 'FULL_CONTROL']],
      );
      // What terraform's aws_s3_bucket_acl and the console send: the whole policy, owner included.
      await alice.send(
        new PutBucketAclCommand({
          Bucket: bucket,
          AccessControlPolicy: {
            Owner: current.Owner,
            Grants: [
              ...(current.Grants ?? []),
              { Grantee: { Type: 'CanonicalUser', ID: 'bob' }, Permission: 'READ' },
              { Grantee: { Type: 'CanonicalUser', ID: 'bob' }, Permission: 'READ_ACP' },
            ],
          },
        }),
      );
      const acl = await alice.send(new GetBucketAclCommand({ Bucket: bucket }));
      assert.deepEqual(
        acl.Grants?.map((grant) => [grant.Grantee?.Type, grant.Grantee?.ID, grant.Permission]),
        [
          ['CanonicalUser', 'alice', 'FULL_CONTROL'],
          ['CanonicalUser', 'bob', 'READ'],
          ['CanonicalUser', 'bob', 'READ_ACP'],
        ],
      );

      const read = await bob.send(new GetObjectCommand({ Bucket: bucket, Key: 'reports/q1.csv' }));
      assert.equal(await read.Body?.transformToString(), 'a,b\n1,2\n');
      const listed = await bob.send(new ListObjectsV2Command({ Bucket: bucket }));
      assert.deepEqual(
        listed.Contents?.map((entry) => entry.Key),
        ['reports/q1.csv'],
      );
      assert.equal((await bob.send(new HeadBucketCommand({ Bucket: bucket }))).$metadata.httpStatusCode, 200);
      // READ_ACP: bob reads the ACL too, but READ is not WRITE and not WRITE_ACP.
      assert.equal((await bob.send(new GetBucketAclCommand({ Bucket: bucket }))).Grants?.length, 3);
      await assertS3Fails(bob.send(new PutObjectCommand({ Bucket: bucket, Key: 'reports/q2.csv', Body: 'x' })), 'AccessDenied', 403);
      await assertS3Fails(bob.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' })), 'AccessDenied', 403);
      // The bucket shows among bob's.
      assert.ok((await bob.send(new ListBucketsCommand({}))).Buckets?.some((entry) => entry.Name === bucket));

      // The header form replaces the bucket-wide grants: bob is down to nothing.
      await alice.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'private' }));
      await assertS3Fails(bob.send(new GetObjectCommand({ Bucket: bucket, Key: 'reports/q1.csv' })), 'AccessDenied', 403);
      await alice.send(new PutBucketAclCommand({ Bucket: bucket, GrantRead: 'id="bob"' }));
      assert.equal((await bob.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount, 1, 'GrantRead id="bob" lets bob list again');
    });

    test('PutObjectAcl public-read opens one object to unsigned reads; GetObjectAcl shows it; private closes it', async () => {
      const bucket = uniqueName('oacl');
      await alice.send(new CreateBucketCommand({ Bucket: bucket }));
      await alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'pics/cat.jpg', Body: 'meow' }));
      await alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'pics/dog.jpg', Body: 'woof' }));
      assert.equal((await anonymous('GET', `/${bucket}/pics/cat.jpg`)).status, 403);

      await alice.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'pics/cat.jpg', ACL: 'public-read' }));
      const acl = await alice.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'pics/cat.jpg' }));
      assert.equal(acl.Owner?.ID, 'alice');
      assert.deepEqual(
        acl.Grants?.map((grant) => [grant.Grantee?.ID ?? grant.Grantee?.URI, grant.Permission]),
        [
          ['alice', 'FULL_CONTROL'],
          [ALL_USERS, 'READ'],
        ],
      );
      const cat = await anonymous('GET', `/${bucket}/pics/cat.jpg`);
      assert.equal(cat.status, 200);
      assert.equal(cat.text, 'meow');
      assert.equal((await anonymous('HEAD', `/${bucket}/pics/cat.jpg`)).status, 200);
      assert.equal((await anonymous('GET', `/${bucket}/pics/dog.jpg`)).status, 403);
      assert.equal((await anonymous('GET', `/${bucket}?list-type=2`)).status, 403, 'one public object does not open the listing');
      // Its bytes and metadata are unchanged by the ACL.
      assert.equal(
        await (await alice.send(new GetObjectCommand({ Bucket: bucket, Key: 'pics/cat.jpg' }))).Body?.transformToString(),
        'meow',
      );

      // A grant to bob by id in the AccessControlPolicy form.
      await alice.send(
        new PutObjectAclCommand({
          Bucket: bucket,
          Key: 'pics/dog.jpg',
          AccessControlPolicy: {
            Owner: { ID: 'alice' },
            Grants: [{ Grantee: { Type: 'CanonicalUser', ID: 'bob' }, Permission: 'READ' }],
          },
        }),
      );
      assert.equal(await (await bob.send(new GetObjectCommand({ Bucket: bucket, Key: 'pics/dog.jpg' }))).Body?.transformToString(), 'woof');
      // public-read is everyone's, bob's too; the dog is bob's alone.
      assert.equal(await (await bob.send(new GetObjectCommand({ Bucket: bucket, Key: 'pics/cat.jpg' }))).Body?.transformToString(), 'meow');
      assert.equal((await anonymous('GET', `/${bucket}/pics/dog.jpg`)).status, 403);
      await assertS3Fails(bob.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'pics/dog.jpg' })), 'AccessDenied', 403);

      await alice.send(new PutObjectAclCommand({ Bucket: bucket, Key: 'pics/cat.jpg', ACL: 'private' }));
      assert.equal((await anonymous('GET', `/${bucket}/pics/cat.jpg`)).status, 403);
      assert.deepEqual(
        (await alice.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'pics/cat.jpg' }))).Grants?.map((grant) => grant.Permission),
        ['FULL_CONTROL'],
      );
    });
    test('a WRITE grantee uploads with a private ACL (what rclone sends); granting anything needs WRITE_ACP', async () => {
      const bucket = uniqueName('wacl');
      await alice.send(new CreateBucketCommand({ Bucket: bucket, GrantWrite: 'id="bob"' }));
      for (const ACL of ['private', 'bucket-owner-full-control'] as const) {
        const put = await bob.send(new PutObjectCommand({ Bucket: bucket, Key: `in/${ACL}.txt`, Body: ACL, ACL }));
        assert.equal(put.$metadata.httpStatusCode, 200, ACL);
        const acl = await alice.send(new GetObjectAclCommand({ Bucket: bucket, Key: `in/${ACL}.txt` }));
        assert.deepEqual(
          acl.Grants?.map((grant) => [grant.Grantee?.ID, grant.Permission]),
          [['alice', 'FULL_CONTROL']],
        );
      }
      // A grant to the owner is implicit: it grants nothing either.
      await bob.send(new PutObjectCommand({ Bucket: bucket, Key: 'in/owner.txt', Body: 'x', GrantFullControl: 'id="alice"' }));
      for (const command of [
        new PutObjectCommand({ Bucket: bucket, Key: 'in/public.txt', Body: 'x', ACL: 'public-read' }),
        new PutObjectCommand({ Bucket: bucket, Key: 'in/bob.txt', Body: 'x', GrantRead: 'id="bob"' }),
      ])
        await assertS3Fails(bob.send(command), 'AccessDenied', 403);
      assert.deepEqual(
        (await alice.send(new ListObjectsV2Command({ Bucket: bucket }))).Contents?.map((entry) => entry.Key),
        ['in/bucket-owner-full-control.txt', 'in/owner.txt', 'in/private.txt'],
      );
      // With WRITE_ACP as well, bob may share what he writes.
      await alice.send(new PutBucketAclCommand({ Bucket: bucket, GrantWrite: 'id="bob"', GrantWriteACP: 'id="bob"' }));
      await bob.send(new PutObjectCommand({ Bucket: bucket, Key: 'in/public.txt', Body: 'open', ACL: 'public-read' }));
      assert.equal((await anonymous('GET', `/${bucket}/in/public.txt`)).text, 'open');
      // A stranger's private ACL does not make up for having no WRITE.
      const carol = await s3ClientOf(ts, 'carol');
      try {
        await assertS3Fails(
          carol.send(new PutObjectCommand({ Bucket: bucket, Key: 'in/c.txt', Body: 'x', ACL: 'private' })),
          'AccessDenied',
          403,
        );
      } finally {
        carol.destroy();
      }
    });
  });

  describe('bucket policies', () => {
    test('Put/Get/DeleteBucketPolicy; GetBucketPolicyStatus is public for Principal "*" only; the policy opens what it names', async () => {
      const bucket = uniqueName('pol');
      await alice.send(new CreateBucketCommand({ Bucket: bucket }));
      await alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'public/a.txt', Body: 'open' }));
      await alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'private/b.txt', Body: 'closed' }));
      await assertS3Fails(alice.send(new GetBucketPolicyCommand({ Bucket: bucket })), 'NoSuchBucketPolicy', 404);
      await assertS3Fails(alice.send(new GetBucketPolicyStatusCommand({ Bucket: bucket })), 'NoSuchBucketPolicy', 404);

      const policy = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Sid: 'PublicRead', Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/public/*` },
        ],
      });
      const put = await alice.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy }));
      assert.equal(put.$metadata.httpStatusCode, 204);
      assert.equal((await alice.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy, policy);
      assert.equal((await alice.send(new GetBucketPolicyStatusCommand({ Bucket: bucket }))).PolicyStatus?.IsPublic, true);
      const open = await anonymous('GET', `/${bucket}/public/a.txt`);
      assert.equal(open.status, 200);
      assert.equal(open.text, 'open');
      assert.equal((await anonymous('GET', `/${bucket}/private/b.txt`)).status, 403);
      assert.equal((await anonymous('GET', `/${bucket}?list-type=2&prefix=public%2F`)).status, 403, 's3:GetObject does not list');
      assert.equal(await (await bob.send(new GetObjectCommand({ Bucket: bucket, Key: 'public/a.txt' }))).Body?.transformToString(), 'open');
      // Only the owner reads or changes a policy.
      await assertS3Fails(bob.send(new GetBucketPolicyCommand({ Bucket: bucket })), 'AccessDenied', 403);
      await assertS3Fails(bob.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: policy })), 'AccessDenied', 403);

      // A policy for bob alone is not public, and lets bob list and write where it says.
      const forBob = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { AWS: ['bob'] }, Action: 's3:ListBucket', Resource: `arn:aws:s3:::${bucket}` },
          {
            Effect: 'Allow',
            Principal: { AWS: 'arn:aws:iam::bob:root' },
            Action: 's3:PutObject',
            Resource: `arn:aws:s3:::${bucket}/inbox/*`,
          },
        ],
      });
      await alice.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: forBob }));
      assert.equal((await alice.send(new GetBucketPolicyStatusCommand({ Bucket: bucket }))).PolicyStatus?.IsPublic, false);
      assert.equal((await anonymous('GET', `/${bucket}/public/a.txt`)).status, 403, 'the new policy replaced the public one');
      assert.equal((await bob.send(new ListObjectsV2Command({ Bucket: bucket }))).KeyCount, 2);
      await bob.send(new PutObjectCommand({ Bucket: bucket, Key: 'inbox/from-bob.txt', Body: 'hi alice' }));
      await assertS3Fails(bob.send(new PutObjectCommand({ Bucket: bucket, Key: 'public/x.txt', Body: 'x' })), 'AccessDenied', 403);
      await assertS3Fails(bob.send(new GetObjectCommand({ Bucket: bucket, Key: 'inbox/from-bob.txt' })), 'AccessDenied', 403);
      assert.equal(
        await (await alice.send(new GetObjectCommand({ Bucket: bucket, Key: 'inbox/from-bob.txt' }))).Body?.transformToString(),
        'hi alice',
      );

      const deleted = await alice.send(new DeleteBucketPolicyCommand({ Bucket: bucket }));
      assert.equal(deleted.$metadata.httpStatusCode, 204);
      await assertS3Fails(alice.send(new GetBucketPolicyCommand({ Bucket: bucket })), 'NoSuchBucketPolicy', 404);
      await assertS3Fails(bob.send(new ListObjectsV2Command({ Bucket: bucket })), 'AccessDenied', 403);
    });

    test('a policy with a Condition is MalformedPolicy, saying so, and the policy in place stays', async () => {
      const bucket = uniqueName('polcond');
      await alice.send(new CreateBucketCommand({ Bucket: bucket }));
      const kept = JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: { AWS: 'bob' }, Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }],
      });
      await alice.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: kept }));
      const conditional = JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          {
            Effect: 'Allow',
            Principal: '*',
            Action: 's3:GetObject',
            Resource: `arn:aws:s3:::${bucket}/*`,
            Condition: { IpAddress: { 'aws:SourceIp': '10.0.0.0/8' } },
          },
        ],
      });
      const refused = await assertS3Fails(
        alice.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: conditional })),
        'MalformedPolicy',
        400,
      );
      assert.match(refused.message, /Condition/);
      assert.equal((await alice.send(new GetBucketPolicyCommand({ Bucket: bucket }))).Policy, kept);
      await assertS3Fails(alice.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: '{"Statement": [' })), 'MalformedPolicy', 400);
      await assertS3Fails(
        alice.send(
          new PutBucketPolicyCommand({
            Bucket: bucket,
            Policy: JSON.stringify({
              Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::someone-else/*' }],
            }),
          }),
        ),
        'MalformedPolicy',
        400,
      );
    });
  });

  describe('the public access block', () => {
    test('Put/Get/DeletePublicAccessBlock; IgnorePublicAcls hides a public-read object from unsigned GETs until removed', async () => {
      const bucket = uniqueName('pab');
      await alice.send(new CreateBucketCommand({ Bucket: bucket }));
      await alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'shown.txt', Body: 'shown', ACL: 'public-read' }));
      assert.equal((await anonymous('GET', `/${bucket}/shown.txt`)).text, 'shown');
      await assertS3Fails(alice.send(new GetPublicAccessBlockCommand({ Bucket: bucket })), 'NoSuchPublicAccessBlockConfiguration', 404);

      const ignore = { BlockPublicAcls: false, IgnorePublicAcls: true, BlockPublicPolicy: false, RestrictPublicBuckets: false };
      await alice.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: ignore }));
      assert.deepEqual((await alice.send(new GetPublicAccessBlockCommand({ Bucket: bucket }))).PublicAccessBlockConfiguration, ignore);
      const hidden = await anonymous('GET', `/${bucket}/shown.txt`);
      assert.equal(hidden.status, 403);
      assert.equal(xmlCode(hidden.text), 'AccessDenied');
      assert.equal((await anonymous('HEAD', `/${bucket}/shown.txt`)).status, 403);
      // The grant is kept: the ACL still says public-read.
      const acl = await alice.send(new GetObjectAclCommand({ Bucket: bucket, Key: 'shown.txt' }));
      assert.ok(acl.Grants?.some((grant) => grant.Grantee?.URI === ALL_USERS));
      await assertS3Fails(bob.send(new GetPublicAccessBlockCommand({ Bucket: bucket })), 'AccessDenied', 403);

      // BlockPublicAcls and BlockPublicPolicy refuse new public grants and policies.
      const blockAll = { BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true };
      await alice.send(new PutPublicAccessBlockCommand({ Bucket: bucket, PublicAccessBlockConfiguration: blockAll }));
      await assertS3Fails(
        alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'more.txt', Body: 'x', ACL: 'public-read' })),
        'AccessDenied',
        403,
      );
      await assertS3Fails(alice.send(new PutBucketAclCommand({ Bucket: bucket, ACL: 'public-read' })), 'AccessDenied', 403);
      const publicPolicy = JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: `arn:aws:s3:::${bucket}/*` }],
      });
      await assertS3Fails(alice.send(new PutBucketPolicyCommand({ Bucket: bucket, Policy: publicPolicy })), 'AccessDenied', 403);

      const removed = await alice.send(new DeletePublicAccessBlockCommand({ Bucket: bucket }));
      assert.equal(removed.$metadata.httpStatusCode, 204);
      await assertS3Fails(alice.send(new GetPublicAccessBlockCommand({ Bucket: bucket })), 'NoSuchPublicAccessBlockConfiguration', 404);
      assert.equal((await anonymous('GET', `/${bucket}/shown.txt`)).text, 'shown', 'the public grant counts again');
    });
  });

  describe('the built-in buckets', () => {
    test('have no policy, public access block or lifecycle to read (404, as s3cmd info expects) and take none', async () => {
      for (const bucket of ['data', 'tmp', 'result']) {
        await assertS3Fails(alice.send(new GetBucketPolicyCommand({ Bucket: bucket })), 'NoSuchBucketPolicy', 404);
        await assertS3Fails(alice.send(new GetBucketPolicyStatusCommand({ Bucket: bucket })), 'NoSuchBucketPolicy', 404);
        await assertS3Fails(alice.send(new GetPublicAccessBlockCommand({ Bucket: bucket })), 'NoSuchPublicAccessBlockConfiguration', 404);
        await assertS3Fails(
          alice.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })),
          'NoSuchLifecycleConfiguration',
          404,
        );
      }
      const publicPolicy = JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Allow', Principal: '*', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/*' }],
      });
      await assertS3Fails(alice.send(new PutBucketPolicyCommand({ Bucket: 'data', Policy: publicPolicy })), 'InvalidRequest', 400);
      await assertS3Fails(
        alice.send(
          new PutBucketLifecycleConfigurationCommand({
            Bucket: 'data',
            LifecycleConfiguration: { Rules: [{ ID: 'x', Filter: { Prefix: '' }, Status: 'Enabled', Expiration: { Days: 1 } }] },
          }),
        ),
        'InvalidRequest',
        400,
      );
      const unsigned = await anonymous('GET', '/data?policy');
      assert.equal(unsigned.status, 403);
      assert.equal(xmlCode(unsigned.text), 'AccessDenied');
    });
  });

  describe('lifecycle expiry', () => {
    test('Expiration Days 1 on a prefix: new objects under it report x-amz-expiration a day ahead, others none', async () => {
      const bucket = uniqueName('life');
      await alice.send(new CreateBucketCommand({ Bucket: bucket }));
      await alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'logs/before-rule.txt', Body: 'early' }));
      await assertS3Fails(alice.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })), 'NoSuchLifecycleConfiguration', 404);
      await alice.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: bucket,
          LifecycleConfiguration: {
            Rules: [{ ID: 'expire-logs', Filter: { Prefix: 'logs/' }, Status: 'Enabled', Expiration: { Days: 1 } }],
          },
        }),
      );
      const configured = await alice.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
      assert.deepEqual(
        configured.Rules?.map((rule) => [rule.ID, rule.Filter?.Prefix, rule.Status, rule.Expiration?.Days]),
        [['expire-logs', 'logs/', 'Enabled', 1]],
      );
      await assertS3Fails(bob.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })), 'AccessDenied', 403);

      const written = ts.clock.now();
      await alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'logs/today.log', Body: 'line\n' }));
      await alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'keep/forever.txt', Body: 'kept' }));
      const expiring = await alice.send(new HeadObjectCommand({ Bucket: bucket, Key: 'logs/today.log' }));
      const expiryOf = (header: string | undefined) => {
        const date = /expiry-date="([^"]+)"/.exec(header ?? '')?.[1];
        assert.ok(date, `x-amz-expiration: ${header}`);
        return Date.parse(date);
      };
      const at = expiryOf(expiring.Expiration);
      // A day after the write (by the server's clock), to the second of the HTTP date.
      assert.equal(at, Math.floor((written + DAY_MS) / 1000) * 1000, new Date(at).toISOString());
      const got = await alice.send(new GetObjectCommand({ Bucket: bucket, Key: 'logs/today.log' }));
      assert.equal(expiryOf(got.Expiration), at);
      assert.equal(await got.Body?.transformToString(), 'line\n');
      assert.equal((await alice.send(new HeadObjectCommand({ Bucket: bucket, Key: 'keep/forever.txt' }))).Expiration, undefined);
      // The rule applies to what is written after it.
      assert.equal((await alice.send(new HeadObjectCommand({ Bucket: bucket, Key: 'logs/before-rule.txt' }))).Expiration, undefined);

      await alice.send(new DeleteBucketLifecycleCommand({ Bucket: bucket }));
      await assertS3Fails(alice.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket })), 'NoSuchLifecycleConfiguration', 404);
      await alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'logs/after-rule.log', Body: 'x' }));
      assert.equal((await alice.send(new HeadObjectCommand({ Bucket: bucket, Key: 'logs/after-rule.log' }))).Expiration, undefined);
    });

    test("AbortIncompleteMultipartUpload: an upload begun under its prefix goes after its days, with its parts; others keep the server's 7", async () => {
      const bucket = uniqueName('abort');
      await alice.send(new CreateBucketCommand({ Bucket: bucket }));
      await alice.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: bucket,
          LifecycleConfiguration: {
            Rules: [
              {
                ID: 'staging',
                Filter: { Prefix: 'staging/' },
                Status: 'Enabled',
                AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
              },
              // An ID no header can carry as it is (not ASCII, a line break): the date alone is told.
              {
                ID: 'règle\r\n',
                Filter: { Prefix: 'brouillon/' },
                Status: 'Enabled',
                AbortIncompleteMultipartUpload: { DaysAfterInitiation: 2 },
              },
              // A source that outlives the upload: a part copied from it still goes with the upload.
              { ID: 'sources', Filter: { Prefix: 'src/' }, Status: 'Enabled', Expiration: { Days: 30 } },
            ],
          },
        }),
      );
      const configured = await alice.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
      assert.deepEqual(configured.Rules?.[0]?.AbortIncompleteMultipartUpload, { DaysAfterInitiation: 1 });
      await alice.send(new PutObjectCommand({ Bucket: bucket, Key: 'src/part.bin', Body: 'a copied part' }));
      const began = ts.clock.now();
      const begin = async (key: string) => {
        const created = await alice.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
        const UploadId = created.UploadId as string;
        const part = await alice.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: 1, Body: `part of ${key}` }));
        return { key, uploadId: UploadId, etag: part.ETag as string, created };
      };
      const staged = await begin('staging/big.bin');
      await alice.send(
        new UploadPartCopyCommand({
          Bucket: bucket,
          Key: staged.key,
          UploadId: staged.uploadId,
          PartNumber: 2,
          CopySource: `${bucket}/src/part.bin`,
        }),
      );
      const kept = await begin('final/big.bin');
      // As S3 tells it: when the upload goes, and by which rule; none for an upload the rule does not cover.
      assert.equal(staged.created.AbortDate?.getTime(), Math.floor((began + DAY_MS) / 1000) * 1000);
      assert.equal(staged.created.AbortRuleId, 'staging');
      assert.equal(kept.created.AbortDate, undefined);
      const draft = await alice.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: 'brouillon/a.bin' }));
      assert.equal(draft.AbortDate?.getTime(), Math.floor((began + 2 * DAY_MS) / 1000) * 1000);
      assert.equal(draft.AbortRuleId, undefined);
      await alice.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: 'brouillon/a.bin', UploadId: draft.UploadId }));
      const open = async () =>
        ((await alice.send(new ListMultipartUploadsCommand({ Bucket: bucket }))).Uploads ?? []).map((upload) => upload.Key).sort();
      assert.deepEqual(await open(), ['final/big.bin', 'staging/big.bin']);
      // The part rows of the staged upload, as the index holds them (listed as at the start: expired or not).
      const stagedParts = async () =>
        (await ts.server.backend.list('alice', MULTIPART, { prefix: partPrefix(staged.uploadId), after: undefined, limit: 10, now: began }))
          .keys;
      assert.equal((await stagedParts()).length, 2);

      ts.clock.advance(DAY_MS + 60_000);
      // Gone a day after it began, before any sweep.
      assert.deepEqual(await open(), ['final/big.bin'], 'the upload under staging/ is gone a day after it began');
      await assertS3Fails(
        alice.send(new UploadPartCommand({ Bucket: bucket, Key: staged.key, UploadId: staged.uploadId, PartNumber: 3, Body: 'late' })),
        'NoSuchUpload',
        404,
      );
      await ts.server.context.objects.sweep();
      await assertS3Fails(
        alice.send(new ListPartsCommand({ Bucket: bucket, Key: staged.key, UploadId: staged.uploadId })),
        'NoSuchUpload',
        404,
      );
      // Its parts went with it, the one copied from a source that lives 30 days too.
      assert.deepEqual(await stagedParts(), []);
      const completed = await alice.send(
        new CompleteMultipartUploadCommand({
          Bucket: bucket,
          Key: kept.key,
          UploadId: kept.uploadId,
          MultipartUpload: { Parts: [{ PartNumber: 1, ETag: kept.etag }] },
        }),
      );
      assert.ok(completed.ETag);
      const body = await (await alice.send(new GetObjectCommand({ Bucket: bucket, Key: kept.key }))).Body?.transformToString();
      assert.equal(body, 'part of final/big.bin');
    });
  });
});
