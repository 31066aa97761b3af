// Named buckets and sharing with the tools people use, each run as its own process against a real
// server, on whichever deployment the suite runs: the AWS CLI (s3 mb, ls, cp, rb; s3api ACLs,
// policies, the public access block and lifecycle), rclone (mkdir, copy, rmdir), s3cmd (mb, ls,
// setacl, rb), boto3 (a bucket shared with a second user, and an unsigned client) and curl (no
// credentials at all, on storage API v1 and S3). Each user has their own credentials and
// configuration (a tool's own HOME), as two people on two machines would.
// A tool that is not installed skips its tests with a reason (scripts/services/s3-tools.sh
// installs them; CI sets STOWAGE_TEST_S3_TOOLS=1, making a missing tool an error).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ApiClient, apiClient } from './helpers/api-client.js';
import {
  awsSkip,
  boto3Skip,
  RCLONE_REMOTE,
  rcloneSkip,
  type S3Tools,
  s3cmdSkip,
  s3Tools,
  type ToolResult,
  toolVersions,
} from './helpers/s3-tools.js';
import { runProcess } from './helpers/server-process.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const versions = toolVersions();
const ALL_USERS = 'http://acs.amazonaws.com/groups/global/AllUsers';
const CURL = ['/usr/bin/curl', '/bin/curl'].find((candidate) => existsSync(candidate));
const curlSkip: string | false = CURL ? false : 'curl not found';

/** A bucket name no other test (or deployment sharing a namespace) uses. */
const uniqueName = (stem: string) => `${stem}-${randomBytes(4).toString('hex')}`;

/** Asserts the tool exited 0 and gives its stdout. */
function ok(result: ToolResult, what: string): string {
  assert.equal(result.code, 0, `${what} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result.stdout;
}

/** Asserts the tool failed, saying `why` (an S3 error code) on stderr, and gives its stderr. */
function failed(result: ToolResult, why: RegExp, what: string): string {
  assert.notEqual(result.code, 0, `${what} should have failed\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  assert.match(result.stderr, why, what);
  return result.stderr;
}

/** The last whitespace-separated field of each line: the names `aws s3 ls` and `s3cmd ls` print. */
const lastFields = (out: string) =>
  out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => line.trim().split(/\s+/).at(-1) ?? '');

interface CurlAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

describe('named buckets and sharing with the AWS CLI, rclone, s3cmd, boto3 and curl', () => {
  let ts: TestServer;
  /** alice's tools (her key in their config), and bob's, with a HOME of their own. */
  let alice: S3Tools;
  let bob: S3Tools;
  let aliceApi: ApiClient;
  let work: string;

  /** curl with no credentials: what anyone on the network can do. */
  const curl = async (method: 'GET' | 'HEAD', pathAndQuery: string): Promise<CurlAnswer> => {
    if (!CURL) throw new Error('curl is not installed');
    // -I prints a HEAD's headers; -D - the headers of a GET, before its body.
    const args = ['-sS', '--max-time', '30', ...(method === 'HEAD' ? ['-I'] : ['-D', '-', '-o', '-']), `${ts.origin}${pathAndQuery}`];
    const result = await runProcess(CURL, args);
    assert.equal(result.code, 0, `curl ${pathAndQuery}: ${result.stderr}`);
    const split = result.stdout.indexOf('\r\n\r\n');
    const head = split < 0 ? result.stdout : result.stdout.slice(0, split);
    const [statusLine = '', ...lines] = head.split('\r\n');
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      if (colon > 0) headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    return { status: Number(statusLine.split(' ')[1]), headers, body: split < 0 ? '' : result.stdout.slice(split + 4) };
  };

  before(async () => {
    ts = await startTestServer({ s3Port: 0 });
    const toolsOf = async (user: string) => {
      const key = await ts.server.createApiKey(user);
      return s3Tools({
        endpoint: `${ts.origin}/s3`,
        rootEndpoint: ts.server.s3RootUrl(),
        accessKeyId: key.clientId,
        secretAccessKey: key.secret,
      });
    };
    alice = await toolsOf('alice');
    bob = await toolsOf('bob');
    aliceApi = apiClient(ts.origin, await ts.token('alice', 24 * 3_600_000));
    work = path.join(alice.dir, 'work');
    await mkdir(work);
  });
  after(async () => {
    await alice?.close();
    await bob?.close();
    await ts?.close();
  });

  /** The bucket as storage API v1 tells it to its owner: 404 when it does not exist. */
  const bucketInfo = async (name: string) => {
    const answer = await aliceApi.call('GET', `/buckets/${name}`);
    return { status: answer.status, info: answer.status === 200 ? answer.json<{ owner: string }>() : undefined };
  };

  describe(`aws-cli (${versions.aws})`, { skip: awsSkip }, () => {
    const aws = (...args: string[]) => alice.aws(args, { cwd: work });
    const bobAws = (...args: string[]) => bob.aws(args, { cwd: work });
    const awsJson = async <T>(what: string, ...args: string[]): Promise<T> => {
      const out = ok(await aws(...args), what);
      return (out.trim() ? JSON.parse(out) : {}) as T;
    };

    test('s3 mb, s3 ls, s3 cp into it; s3 rb refused while it holds an object; s3 rb --force', async () => {
      const name = uniqueName('cli-mb');
      assert.match(ok(await aws('s3', 'mb', `s3://${name}`), 's3 mb'), new RegExp(`make_bucket: ${name}`));
      assert.equal((await bucketInfo(name)).info?.owner, 'alice');
      // Taken: for bob, the name belongs to someone else.
      failed(await bobAws('s3', 'mb', `s3://${name}`), /BucketAlreadyExists/, 'bob: s3 mb of a taken name');
      failed(await aws('s3', 'mb', `s3://${name}`), /BucketAlreadyOwnedByYou/, 'alice: s3 mb again');

      const listed = ok(await aws('s3', 'ls'), 's3 ls');
      const names = lastFields(listed);
      for (const expected of ['data', 'result', 'tmp', name]) assert.ok(names.includes(expected), `${expected} in\n${listed}`);
      // Its creation date, as aws-cli prints it (local time of the tool's process: compare the day only).
      const line = listed.split('\n').find((entry) => entry.trim().endsWith(` ${name}`)) ?? '';
      assert.match(line, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d /);
      assert.ok(!lastFields(ok(await bobAws('s3', 'ls'), 'bob: s3 ls')).includes(name), "alice's bucket is not bob's to see");

      await writeFile(path.join(work, 'report.csv'), 'a,b\n1,2\n');
      ok(await aws('s3', 'cp', 'report.csv', `s3://${name}/reports/report.csv`), 's3 cp into it');
      assert.equal((await aliceApi.get(name, 'reports/report.csv')).text, 'a,b\n1,2\n');
      assert.deepEqual(lastFields(ok(await aws('s3', 'ls', `s3://${name}/reports/`), 's3 ls of the bucket')), ['report.csv']);

      failed(await aws('s3', 'rb', `s3://${name}`), /BucketNotEmpty/, 's3 rb of a bucket with an object');
      assert.equal((await bucketInfo(name)).status, 200, 'still there');
      failed(await bobAws('s3', 'rb', `s3://${name}`), /AccessDenied/, "bob: s3 rb of alice's bucket");

      const forced = ok(await aws('s3', 'rb', `s3://${name}`, '--force'), 's3 rb --force');
      assert.match(forced, new RegExp(`delete: s3://${name}/reports/report\\.csv`));
      assert.match(forced, new RegExp(`remove_bucket: ${name}`));
      assert.equal((await bucketInfo(name)).status, 404);
      assert.ok(!lastFields(ok(await aws('s3', 'ls'), 's3 ls after rb')).includes(name));
      failed(await aws('s3', 'ls', `s3://${name}/`), /NoSuchBucket/, 's3 ls of the removed bucket');
    });

    test("s3api put-bucket-acl --grant-read id=bob: bob's own aws-cli copies to stdout and lists; it cannot write", async () => {
      const name = uniqueName('cli-acl');
      ok(await aws('s3', 'mb', `s3://${name}`), 's3 mb');
      await writeFile(path.join(work, 'notes.txt'), 'shared notes\n');
      ok(await aws('s3', 'cp', 'notes.txt', `s3://${name}/team/notes.txt`), 's3 cp');
      failed(await bobAws('s3', 'cp', `s3://${name}/team/notes.txt`, '-'), /403|Forbidden|AccessDenied/, 'bob before the grant');

      ok(await aws('s3api', 'put-bucket-acl', '--bucket', name, '--grant-read', 'id=bob'), 'put-bucket-acl --grant-read');
      const acl = await awsJson<{ Owner: { ID: string }; Grants: { Grantee: { ID?: string; Type: string }; Permission: string }[] }>(
        'get-bucket-acl',
        's3api',
        'get-bucket-acl',
        '--bucket',
        name,
      );
      assert.equal(acl.Owner.ID, 'alice');
      assert.deepEqual(
        acl.Grants.map((grant) => [grant.Grantee.Type, grant.Grantee.ID, grant.Permission]),
        [
          ['CanonicalUser', 'alice', 'FULL_CONTROL'],
          ['CanonicalUser', 'bob', 'READ'],
        ],
      );

      assert.equal(ok(await bobAws('s3', 'cp', `s3://${name}/team/notes.txt`, '-'), 'bob: s3 cp to stdout'), 'shared notes\n');
      assert.deepEqual(lastFields(ok(await bobAws('s3', 'ls', `s3://${name}/team/`), 'bob: s3 ls')), ['notes.txt']);
      assert.ok(lastFields(ok(await bobAws('s3', 'ls'), 'bob: s3 ls of buckets')).includes(name), "a shared bucket is among bob's");
      await writeFile(path.join(work, 'bob.txt'), 'from bob');
      failed(await bobAws('s3', 'cp', 'bob.txt', `s3://${name}/team/bob.txt`), /AccessDenied/, 'bob: s3 cp into it');
      assert.equal((await aliceApi.get(name, 'team/bob.txt')).status, 404);
      failed(
        await bobAws('s3api', 'put-bucket-acl', '--bucket', name, '--grant-full-control', 'id=bob'),
        /AccessDenied/,
        'bob: put-bucket-acl',
      );
    });

    test('s3 cp --acl public-read: curl without credentials gets the bytes; the rest stays private', { skip: curlSkip }, async () => {
      const name = uniqueName('cli-pub');
      ok(await aws('s3', 'mb', `s3://${name}`), 's3 mb');
      await writeFile(path.join(work, 'logo.svg'), '<svg/>');
      ok(await aws('s3', 'cp', 'logo.svg', `s3://${name}/img/logo.svg`, '--acl', 'public-read'), 's3 cp --acl public-read');
      ok(await aws('s3', 'cp', 'logo.svg', `s3://${name}/img/draft.svg`), 's3 cp (private)');
      const got = await curl('GET', `/s3/${name}/img/logo.svg`);
      assert.equal(got.status, 200);
      assert.equal(got.body, '<svg/>');
      assert.equal(got.headers['content-type'], 'image/svg+xml', 'aws-cli guesses the type from the name');
      const draft = await curl('GET', `/s3/${name}/img/draft.svg`);
      assert.equal(draft.status, 403);
      assert.match(draft.body, /<Code>AccessDenied<\/Code>/);
      assert.equal((await curl('GET', `/s3/${name}?list-type=2`)).status, 403);
      const acl = await awsJson<{ Grants: { Grantee: { URI?: string }; Permission: string }[] }>(
        'get-object-acl',
        's3api',
        'get-object-acl',
        '--bucket',
        name,
        '--key',
        'img/logo.svg',
      );
      assert.ok(acl.Grants.some((grant) => grant.Grantee.URI === ALL_USERS && grant.Permission === 'READ'));
    });

    test('s3api put-bucket-policy from a file: get-bucket-policy, get-bucket-policy-status, curl reads what it opens', async () => {
      const name = uniqueName('cli-pol');
      ok(await aws('s3', 'mb', `s3://${name}`), 's3 mb');
      await writeFile(path.join(work, 'index.html'), '<h1>site</h1>');
      ok(await aws('s3', 'cp', 'index.html', `s3://${name}/site/index.html`), 's3 cp');
      ok(await aws('s3', 'cp', 'index.html', `s3://${name}/drafts/index.html`), 's3 cp');
      const policy = `{"Version": "2012-10-17",
 "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                "Resource": "arn:aws:s3:::${name}/site/*"}]}
`;
      await writeFile(path.join(work, 'policy.json'), policy);
      ok(await aws('s3api', 'put-bucket-policy', '--bucket', name, '--policy', 'file://policy.json'), 'put-bucket-policy');
      const stored = await awsJson<{ Policy: string }>('get-bucket-policy', 's3api', 'get-bucket-policy', '--bucket', name);
      assert.equal(stored.Policy, policy, 'the text as sent');
      const status = await awsJson<{ PolicyStatus: { IsPublic: boolean } }>(
        'get-bucket-policy-status',
        's3api',
        'get-bucket-policy-status',
        '--bucket',
        name,
      );
      assert.equal(status.PolicyStatus.IsPublic, true);
      if (!curlSkip) {
        assert.equal((await curl('GET', `/s3/${name}/site/index.html`)).body, '<h1>site</h1>');
        assert.equal((await curl('GET', `/s3/${name}/drafts/index.html`)).status, 403);
      }
      assert.equal(ok(await bobAws('s3', 'cp', `s3://${name}/site/index.html`, '-'), 'bob: s3 cp'), '<h1>site</h1>');

      await writeFile(
        path.join(work, 'conditional.json'),
        policy.replace('"Resource"', '"Condition": {"Bool": {"aws:SecureTransport": "true"}}, "Resource"'),
      );
      failed(
        await aws('s3api', 'put-bucket-policy', '--bucket', name, '--policy', 'file://conditional.json'),
        /MalformedPolicy.*Condition/,
        'put-bucket-policy with a Condition',
      );
      ok(await aws('s3api', 'delete-bucket-policy', '--bucket', name), 'delete-bucket-policy');
      failed(await aws('s3api', 'get-bucket-policy', '--bucket', name), /NoSuchBucketPolicy/, 'get-bucket-policy after delete');
      if (!curlSkip) assert.equal((await curl('GET', `/s3/${name}/site/index.html`)).status, 403);
    });

    test('s3api put-public-access-block and put-bucket-lifecycle-configuration, and what they do', async () => {
      const name = uniqueName('cli-conf');
      ok(await aws('s3', 'mb', `s3://${name}`), 's3 mb');
      ok(
        await aws(
          's3api',
          'put-public-access-block',
          '--bucket',
          name,
          '--public-access-block-configuration',
          'BlockPublicAcls=true,IgnorePublicAcls=false,BlockPublicPolicy=false,RestrictPublicBuckets=false',
        ),
        'put-public-access-block',
      );
      const block = await awsJson<{ PublicAccessBlockConfiguration: Record<string, boolean> }>(
        'get-public-access-block',
        's3api',
        'get-public-access-block',
        '--bucket',
        name,
      );
      assert.deepEqual(block.PublicAccessBlockConfiguration, {
        BlockPublicAcls: true,
        IgnorePublicAcls: false,
        BlockPublicPolicy: false,
        RestrictPublicBuckets: false,
      });
      await writeFile(path.join(work, 'x.txt'), 'x');
      failed(await aws('s3', 'cp', 'x.txt', `s3://${name}/x.txt`, '--acl', 'public-read'), /AccessDenied/, 'cp --acl public-read');
      assert.equal((await aliceApi.get(name, 'x.txt')).status, 404, 'nothing stored');
      ok(await aws('s3api', 'delete-public-access-block', '--bucket', name), 'delete-public-access-block');
      ok(await aws('s3', 'cp', 'x.txt', `s3://${name}/x.txt`, '--acl', 'public-read'), 'cp --acl public-read, unblocked');

      await writeFile(
        path.join(work, 'lifecycle.json'),
        JSON.stringify({
          Rules: [{ ID: 'tmp-files', Filter: { Prefix: 'scratch/' }, Status: 'Enabled', Expiration: { Days: 3 } }],
        }),
      );
      ok(
        await aws('s3api', 'put-bucket-lifecycle-configuration', '--bucket', name, '--lifecycle-configuration', 'file://lifecycle.json'),
        'put-bucket-lifecycle-configuration',
      );
      const lifecycle = await awsJson<{ Rules: unknown[] }>(
        'get-bucket-lifecycle-configuration',
        's3api',
        'get-bucket-lifecycle-configuration',
        '--bucket',
        name,
      );
      assert.deepEqual(lifecycle.Rules, [{ ID: 'tmp-files', Filter: { Prefix: 'scratch/' }, Status: 'Enabled', Expiration: { Days: 3 } }]);
      const written = ts.clock.now();
      ok(await aws('s3', 'cp', 'x.txt', `s3://${name}/scratch/x.txt`), 's3 cp under the prefix');
      const head = await awsJson<{ Expiration?: string }>(
        'head-object',
        's3api',
        'head-object',
        '--bucket',
        name,
        '--key',
        'scratch/x.txt',
      );
      const expiry = Date.parse(/expiry-date="([^"]+)"/.exec(head.Expiration ?? '')?.[1] ?? '');
      assert.equal(expiry, Math.floor((written + 3 * 86_400_000) / 1000) * 1000, head.Expiration);
      const outside = await awsJson<{ Expiration?: string }>('head-object', 's3api', 'head-object', '--bucket', name, '--key', 'x.txt');
      assert.equal(outside.Expiration, undefined);
      failed(
        await bobAws('s3api', 'get-bucket-lifecycle-configuration', '--bucket', name),
        /AccessDenied/,
        "bob: get-bucket-lifecycle-configuration of alice's bucket",
      );
    });
  });

  describe(`rclone (${versions.rclone})`, { skip: rcloneSkip }, () => {
    const rclone = (...args: string[]) => alice.rclone(args, { cwd: work });
    const bobRclone = (...args: string[]) => bob.rclone(args, { cwd: work });

    test('mkdir makes a bucket (and again, on its own bucket, does not fail); copy into it; rmdir once it is empty', async () => {
      const name = uniqueName('rc-mk');
      ok(await rclone('mkdir', `${RCLONE_REMOTE}:${name}`), 'rclone mkdir');
      assert.equal((await bucketInfo(name)).info?.owner, 'alice');
      ok(await rclone('mkdir', `${RCLONE_REMOTE}:${name}`), 'rclone mkdir of an existing bucket of its own');
      const buckets = ok(await rclone('lsf', `${RCLONE_REMOTE}:`), 'rclone lsf of the buckets');
      assert.ok(buckets.split('\n').includes(`${name}/`), buckets);

      const src = path.join(work, 'rc-src');
      await mkdir(path.join(src, 'sub'), { recursive: true });
      await writeFile(path.join(src, 'a.txt'), 'aaa');
      await writeFile(path.join(src, 'sub', 'b.txt'), 'bb');
      ok(await rclone('copy', src, `${RCLONE_REMOTE}:${name}/up`), 'rclone copy');
      assert.deepEqual(await aliceApi.keys(name, ''), ['up/a.txt', 'up/sub/b.txt']);
      assert.equal((await aliceApi.get(name, 'up/sub/b.txt')).text, 'bb');
      ok(await rclone('check', src, `${RCLONE_REMOTE}:${name}/up`), 'rclone check');

      const notEmpty = await rclone('rmdir', `${RCLONE_REMOTE}:${name}`);
      assert.notEqual(notEmpty.code, 0, 'rmdir of a bucket with objects fails');
      assert.match(notEmpty.stderr, /BucketNotEmpty/);
      assert.equal((await bucketInfo(name)).status, 200);
      ok(await rclone('delete', `${RCLONE_REMOTE}:${name}`), 'rclone delete');
      assert.deepEqual(await aliceApi.keys(name, ''), []);
      ok(await rclone('rmdir', `${RCLONE_REMOTE}:${name}`), 'rclone rmdir');
      assert.equal((await bucketInfo(name)).status, 404);
    });

    test("bob's rclone: nothing in alice's bucket until she shares it; then WRITE lets it copy in and READ lets it copy out", async () => {
      const name = uniqueName('rc-share');
      ok(await rclone('mkdir', `${RCLONE_REMOTE}:${name}`), 'rclone mkdir');
      const src = path.join(work, 'rc-bob');
      await mkdir(src, { recursive: true });
      await writeFile(path.join(src, 'from-bob.txt'), 'hello alice');
      const refused = await bobRclone('copy', src, `${RCLONE_REMOTE}:${name}/inbox`);
      assert.notEqual(refused.code, 0, refused.stderr);
      assert.match(refused.stderr, /AccessDenied|403/);
      assert.deepEqual(await aliceApi.keys(name, ''), []);

      for (const permission of ['WRITE', 'READ']) {
        const share = await aliceApi.call('POST', `/buckets/${name}/share`, {
          body: { grantee: { user: 'bob' }, permission, prefix: 'inbox/' },
        });
        assert.equal(share.status, 200, share.text);
      }
      ok(await bobRclone('copy', src, `${RCLONE_REMOTE}:${name}/inbox`), 'bob: rclone copy with WRITE');
      assert.equal((await aliceApi.get(name, 'inbox/from-bob.txt')).text, 'hello alice');
      assert.equal(
        ok(await bobRclone('lsf', `${RCLONE_REMOTE}:${name}/inbox`), 'bob: rclone lsf with READ on the prefix').trim(),
        'from-bob.txt',
      );
      assert.equal(ok(await bobRclone('cat', `${RCLONE_REMOTE}:${name}/inbox/from-bob.txt`), 'bob: rclone cat'), 'hello alice');
      // Outside the prefix, nothing.
      const outside = await bobRclone('copy', src, `${RCLONE_REMOTE}:${name}/elsewhere`);
      assert.notEqual(outside.code, 0, outside.stderr);
      assert.deepEqual(await aliceApi.keys(name, ''), ['inbox/from-bob.txt']);
      // The bucket's objects are alice's: rclone rmdir by bob cannot remove it.
      ok(await rclone('delete', `${RCLONE_REMOTE}:${name}`), 'rclone delete');
      const bobRmdir = await bobRclone('rmdir', `${RCLONE_REMOTE}:${name}`);
      assert.notEqual(bobRmdir.code, 0, bobRmdir.stderr);
      assert.equal((await bucketInfo(name)).status, 200);
    });
  });

  describe(`s3cmd (${versions.s3cmd}) on the S3 port`, { skip: s3cmdSkip }, () => {
    const s3cmd = (...args: string[]) => alice.s3cmd(args, { cwd: work });

    test('mb, ls, put, setacl --acl-public, rb refused while it holds an object, rb', async () => {
      const name = uniqueName('s3cmd-mb');
      assert.match(ok(await s3cmd('mb', `s3://${name}`), 's3cmd mb'), new RegExp(`Bucket 's3://${name}/' created`));
      assert.equal((await bucketInfo(name)).info?.owner, 'alice');
      const listed = lastFields(ok(await s3cmd('ls'), 's3cmd ls'));
      for (const expected of ['s3://data', 's3://result', 's3://tmp', `s3://${name}`]) assert.ok(listed.includes(expected), expected);
      failed(await bob.s3cmd(['mb', `s3://${name}`], { cwd: work }), /BucketAlreadyExists/, 'bob: s3cmd mb of a taken name');

      await writeFile(path.join(work, 's3cmd.txt'), 'from s3cmd');
      ok(await s3cmd('put', 's3cmd.txt', `s3://${name}/docs/s3cmd.txt`), 's3cmd put');
      assert.deepEqual(lastFields(ok(await s3cmd('ls', '--recursive', `s3://${name}`), 's3cmd ls of the bucket')), [
        `s3://${name}/docs/s3cmd.txt`,
      ]);
      if (!curlSkip) assert.equal((await curl('GET', `/s3/${name}/docs/s3cmd.txt`)).status, 403);
      // setacl reads the object's ACL and puts it back with AllUsers READ added (an AccessControlPolicy body).
      ok(await s3cmd('setacl', '--acl-public', `s3://${name}/docs/s3cmd.txt`), 's3cmd setacl --acl-public');
      const info = ok(await s3cmd('info', `s3://${name}/docs/s3cmd.txt`), 's3cmd info');
      assert.match(info, /ACL:\s+\*anon\*: READ/);
      if (!curlSkip) assert.equal((await curl('GET', `/s3/${name}/docs/s3cmd.txt`)).body, 'from s3cmd');
      ok(await s3cmd('setacl', '--acl-private', `s3://${name}/docs/s3cmd.txt`), 's3cmd setacl --acl-private');
      if (!curlSkip) assert.equal((await curl('GET', `/s3/${name}/docs/s3cmd.txt`)).status, 403);

      failed(await s3cmd('rb', `s3://${name}`), /BucketNotEmpty/, 's3cmd rb of a bucket with an object');
      ok(await s3cmd('del', `s3://${name}/docs/s3cmd.txt`), 's3cmd del');
      assert.match(ok(await s3cmd('rb', `s3://${name}`), 's3cmd rb'), new RegExp(`Bucket 's3://${name}/' removed`));
      assert.equal((await bucketInfo(name)).status, 404);
      assert.ok(!lastFields(ok(await s3cmd('ls'), 's3cmd ls after rb')).includes(`s3://${name}`));
    });
  });

  describe(`s3cmd (${versions.s3cmd}) sharing and expiry`, { skip: s3cmdSkip }, () => {
    const s3cmd = (...args: string[]) => alice.s3cmd(args, { cwd: work });
    const bobS3cmd = (...args: string[]) => bob.s3cmd(args, { cwd: work });

    test("setacl --acl-grant=read:bob: bob's s3cmd lists and gets; --acl-revoke takes it back; expire sets a lifecycle rule", async () => {
      const name = uniqueName('s3cmd-share');
      ok(await s3cmd('mb', `s3://${name}`), 's3cmd mb');
      await writeFile(path.join(work, 'shared.txt'), 'for bob');
      ok(await s3cmd('put', 'shared.txt', `s3://${name}/logs/shared.txt`), 's3cmd put');
      failed(await bobS3cmd('ls', `s3://${name}`), /AccessDenied/, 'bob: s3cmd ls before the grant');

      ok(await s3cmd('setacl', `s3://${name}`, '--acl-grant=read:bob'), 's3cmd setacl --acl-grant');
      const info = ok(await s3cmd('info', `s3://${name}`), 's3cmd info of the bucket');
      assert.match(info, /ACL:\s+alice: FULL_CONTROL/);
      assert.match(info, /ACL:\s+bob: READ/);
      assert.deepEqual(lastFields(ok(await bobS3cmd('ls', '--recursive', `s3://${name}`), 'bob: s3cmd ls')), [
        `s3://${name}/logs/shared.txt`,
      ]);
      assert.equal(ok(await bobS3cmd('get', `s3://${name}/logs/shared.txt`, '-'), 'bob: s3cmd get'), 'for bob');
      failed(await bobS3cmd('put', 'shared.txt', `s3://${name}/logs/bob.txt`), /AccessDenied/, 'bob: s3cmd put');
      ok(await s3cmd('setacl', `s3://${name}`, '--acl-revoke=read:bob'), 's3cmd setacl --acl-revoke');
      failed(await bobS3cmd('get', `s3://${name}/logs/shared.txt`, '-'), /AccessDenied|403/, 'bob: s3cmd get after the revoke');

      ok(await s3cmd('expire', `s3://${name}`, '--expiry-days=2', '--expiry-prefix=logs/'), 's3cmd expire');
      const lifecycle = ok(await s3cmd('getlifecycle', `s3://${name}`), 's3cmd getlifecycle');
      assert.match(lifecycle, /<Prefix>logs\/<\/Prefix>/);
      assert.match(lifecycle, /<Days>2<\/Days>/);
      const written = ts.clock.now();
      ok(await s3cmd('put', 'shared.txt', `s3://${name}/logs/later.txt`), 's3cmd put under the rule');
      // Storage API v1 tells the expiry the rule gave: two days after the write (to the second of an HTTP date).
      const expiring = await aliceApi.head(name, 'logs/later.txt');
      assert.equal(Date.parse(String(expiring.headers['x-stowage-expires-at'])), Math.floor((written + 2 * 86_400_000) / 1000) * 1000);
      assert.equal((await aliceApi.head(name, 'logs/shared.txt')).headers['x-stowage-expires-at'], undefined, 'written before the rule');
      ok(await s3cmd('dellifecycle', `s3://${name}`), 's3cmd dellifecycle');
      failed(await s3cmd('getlifecycle', `s3://${name}`), /NoSuchLifecycleConfiguration/, 's3cmd getlifecycle after dellifecycle');
    });
  });

  describe(`boto3 (${versions.boto3})`, { skip: boto3Skip }, () => {
    test('alice shares a bucket with bob by put_bucket_acl; bob reads and lists, cannot write; an unsigned client reads only the public object', async () => {
      const name = uniqueName('py-share');
      const bobKey = await ts.server.createApiKey('bob');
      const script = `
from botocore import UNSIGNED
from botocore.exceptions import ClientError
bucket = sys.argv[1]
def client(**extra):
    return boto3.client("s3", endpoint_url=endpoint, region_name=os.environ["S3_REGION"],
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}, **extra.pop("config", {})), **extra)
bob = client(aws_access_key_id=os.environ["BOB_KEY_ID"], aws_secret_access_key=os.environ["BOB_SECRET"])
anonymous = client(config={"signature_version": UNSIGNED})
def code(call):
    try:
        call()
        return "ok"
    except ClientError as e:
        return e.response["Error"]["Code"]
out = {}
out["create"] = s3.create_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"]
s3.put_object(Bucket=bucket, Key="private/plan.txt", Body=b"the plan")
s3.put_object(Bucket=bucket, Key="public/readme.txt", Body=b"read me", ACL="public-read")
out["bob_before"] = code(lambda: bob.get_object(Bucket=bucket, Key="private/plan.txt"))
s3.put_bucket_acl(Bucket=bucket, GrantRead='id="bob"')
acl = s3.get_bucket_acl(Bucket=bucket)
out["acl"] = [[g["Grantee"].get("ID") or g["Grantee"].get("URI"), g["Permission"]] for g in acl["Grants"]]
out["bob_get"] = bob.get_object(Bucket=bucket, Key="private/plan.txt")["Body"].read().decode()
out["bob_list"] = [o["Key"] for o in bob.list_objects_v2(Bucket=bucket).get("Contents", [])]
out["bob_buckets"] = bucket in [b["Name"] for b in bob.list_buckets()["Buckets"]]
out["bob_head_bucket"] = bob.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"]
out["bob_put"] = code(lambda: bob.put_object(Bucket=bucket, Key="private/bob.txt", Body=b"bob"))
out["bob_delete"] = code(lambda: bob.delete_object(Bucket=bucket, Key="private/plan.txt"))
out["bob_put_acl"] = code(lambda: bob.put_bucket_acl(Bucket=bucket, ACL="public-read"))
out["anon_public"] = anonymous.get_object(Bucket=bucket, Key="public/readme.txt")["Body"].read().decode()
out["anon_private"] = code(lambda: anonymous.get_object(Bucket=bucket, Key="private/plan.txt"))
out["anon_list"] = code(lambda: anonymous.list_objects_v2(Bucket=bucket))
out["anon_put"] = code(lambda: anonymous.put_object(Bucket=bucket, Key="public/evil.txt", Body=b"x"))
print(json.dumps(out))
`;
      const result = await alice.python(script, [name], { env: { BOB_KEY_ID: bobKey.clientId, BOB_SECRET: bobKey.secret } });
      const out = JSON.parse(ok(result, 'boto3 script').trim().split('\n').at(-1) ?? '{}');
      assert.deepEqual(out, {
        create: 200,
        bob_before: 'AccessDenied',
        acl: [
          ['alice', 'FULL_CONTROL'],
          ['bob', 'READ'],
        ],
        bob_get: 'the plan',
        bob_list: ['private/plan.txt', 'public/readme.txt'],
        bob_buckets: true,
        bob_head_bucket: 200,
        bob_put: 'AccessDenied',
        bob_delete: 'AccessDenied',
        bob_put_acl: 'AccessDenied',
        anon_public: 'read me',
        anon_private: 'AccessDenied',
        anon_list: 'AccessDenied',
        anon_put: 'AccessDenied',
      });
      assert.deepEqual(await aliceApi.keys(name, ''), ['private/plan.txt', 'public/readme.txt'], 'the refused writes changed nothing');
    });
  });

  describe('curl, with no credentials at all', { skip: curlSkip }, () => {
    const publicBucket = uniqueName('curl-pub');
    const privateBucket = uniqueName('curl-priv');
    before(async () => {
      const everyone = [{ grantee: { group: 'everyone' }, permission: 'READ', prefix: '' }];
      assert.equal((await aliceApi.call('POST', '/buckets', { body: { name: publicBucket, grants: everyone } })).status, 201);
      assert.equal((await aliceApi.call('POST', '/buckets', { body: { name: privateBucket } })).status, 201);
      for (const bucket of [publicBucket, privateBucket]) {
        const put = await aliceApi.put(bucket, 'www/index.html', '<h1>home</h1>', {
          'content-type': 'text/html',
          'cache-control': 'public, max-age=300',
        });
        assert.equal(put.status, 200);
        await aliceApi.put(bucket, 'www/css/site.css', 'body{}', { 'content-type': 'text/css' });
      }
    });

    test('GET and HEAD of a public object on storage API v1 (with its Cache-Control) and on S3', async () => {
      const v1 = await curl('GET', `/storage/v1/${publicBucket}/get/www/index.html`);
      assert.equal(v1.status, 200);
      assert.equal(v1.body, '<h1>home</h1>');
      assert.equal(v1.headers['cache-control'], 'public, max-age=300');
      assert.match(v1.headers['content-type'] ?? '', /^text\/html/);
      const v1Head = await curl('HEAD', `/storage/v1/${publicBucket}/get/www/index.html`);
      assert.equal(v1Head.status, 200);
      assert.equal(v1Head.headers['content-length'], '13');
      assert.equal(v1Head.headers['cache-control'], 'public, max-age=300');
      assert.equal(v1Head.body, '');

      const s3 = await curl('GET', `/s3/${publicBucket}/www/index.html`);
      assert.equal(s3.status, 200);
      assert.equal(s3.body, '<h1>home</h1>');
      assert.equal(s3.headers['cache-control'], 'public, max-age=300');
      const s3Head = await curl('HEAD', `/s3/${publicBucket}/www/index.html`);
      assert.equal(s3Head.status, 200);
      assert.equal(s3Head.headers['content-length'], '13');
      assert.equal(s3Head.headers['content-type'], 'text/html');
      // The public may list, so a missing key is plainly missing.
      assert.equal((await curl('GET', `/storage/v1/${publicBucket}/get/www/none.html`)).status, 404);
      assert.match((await curl('GET', `/s3/${publicBucket}/www/none.html`)).body, /<Code>NoSuchKey<\/Code>/);
    });

    test('list of a public bucket on storage API v1 and S3', async () => {
      const v1 = await curl('GET', `/storage/v1/${publicBucket}/list?prefix=www/`);
      assert.equal(v1.status, 200);
      assert.deepEqual(JSON.parse(v1.body), ['www/css/site.css', 'www/index.html']);
      const s3 = await curl('GET', `/s3/${publicBucket}?list-type=2&prefix=www%2F&delimiter=%2F`);
      assert.equal(s3.status, 200);
      assert.deepEqual(
        [...s3.body.matchAll(/<Key>([^<]*)<\/Key>/g)].map((match) => match[1]),
        ['www/index.html'],
      );
      assert.match(s3.body, /<CommonPrefixes><Prefix>www\/css\/<\/Prefix><\/CommonPrefixes>/);
    });

    test('a private bucket: 401 with a challenge on storage API v1, 403 AccessDenied on S3; a missing key is refused the same', async () => {
      for (const key of ['www/index.html', 'www/none.html']) {
        const v1 = await curl('GET', `/storage/v1/${privateBucket}/get/${key}`);
        assert.equal(v1.status, 401, key);
        assert.equal(JSON.parse(v1.body).code, 'MissingToken');
        assert.match(v1.headers['www-authenticate'] ?? '', /^Bearer/);
        assert.equal((await curl('HEAD', `/storage/v1/${privateBucket}/get/${key}`)).status, 401, key);
        const s3 = await curl('GET', `/s3/${privateBucket}/${key}`);
        assert.equal(s3.status, 403, key);
        assert.match(s3.body, /<Code>AccessDenied<\/Code>/);
        assert.equal(s3.headers['www-authenticate'], undefined, 'no storage API v1 challenge to an S3 client');
        assert.equal((await curl('HEAD', `/s3/${privateBucket}/${key}`)).status, 403, key);
      }
      assert.equal((await curl('GET', `/storage/v1/${privateBucket}/list?prefix=www/`)).status, 401);
      assert.equal((await curl('GET', `/s3/${privateBucket}?list-type=2`)).status, 403);
      // A bucket that does not exist is no secret.
      assert.equal((await curl('GET', `/s3/${uniqueName('curl-none')}/x`)).status, 404);
    });

    test('no credentials, no buckets: ListBuckets and CreateBucket are AccessDenied, saying to sign the request', async () => {
      const list = await curl('GET', '/s3/');
      assert.equal(list.status, 403);
      assert.match(list.body, /<Code>AccessDenied<\/Code><Message>ListBuckets needs a signed request/);
      assert.doesNotMatch(list.body, /Bearer/, 'an S3 client is not told about storage API v1 tokens');
      const name = uniqueName('curl-mb');
      const result = await runProcess(CURL as string, ['-sS', '-X', 'PUT', '-w', '\n%{http_code}', `${ts.origin}/s3/${name}`]);
      assert.match(result.stdout, /<Code>AccessDenied<\/Code><Message>CreateBucket needs a signed request[\s\S]*\n403$/);
      assert.equal((await bucketInfo(name)).status, 404);
      assert.equal((await curl('GET', '/storage/v1/buckets')).status, 401);
    });
  });
});
