// Guards `stowage bucket` and bucket paths as users run them: the real binary against a real
// server, two users (two tokens) and an anonymous caller. create, ls, share (with the public
// warning), info, unshare and rm round trip; cp, ls, set, get and du against a bucket, by
// stowage://BUCKET/KEY and by -t BUCKET; exit codes of refusals and usage mistakes.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PutBucketLifecycleConfigurationCommand } from '@aws-sdk/client-s3';
import { s3ClientOf } from '../../server/test/helpers/s3-client.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';

const CLI = fileURLToPath(new URL('../bin/stowage.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('stowage bucket', () => {
  let ts: TestServer;
  let dir: string;
  let env: Record<string, string>;
  let tokens: Record<'alice' | 'bob', string>;
  before(async () => {
    ts = await startTestServer();
    dir = await mkdtemp(path.join(tmpdir(), 'stowage-cli-bucket-'));
    tokens = { alice: await ts.token('alice'), bob: await ts.token('bob') };
    env = { STOWAGE_URL: ts.url, HOME: dir, STOWAGE_TOKEN_INFO_PATH: path.join(dir, '.stowage', 'token_info.json') };
  });
  after(async () => {
    await ts.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** Runs stowage as `user` (its token in STOWAGE_TOKEN), or with no credentials at all. */
  const run = (user: 'alice' | 'bob' | 'nobody', args: string[], input?: string): Promise<Run> => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env, STOWAGE_TOKEN: user === 'nobody' ? '' : tokens[user] },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdin.end(input);
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  };
  const ok = async (user: 'alice' | 'bob' | 'nobody', args: string[], input?: string): Promise<Run> => {
    const result = await run(user, args, input);
    assert.equal(result.code, 0, `${user}: stowage ${args.join(' ')}: ${result.stderr}`);
    return result;
  };
  const fails = async (user: 'alice' | 'bob' | 'nobody', args: string[], code: number, message?: RegExp): Promise<Run> => {
    const result = await run(user, args);
    assert.equal(result.code, code, `${user}: stowage ${args.join(' ')} exited ${result.code}: ${result.stderr}`);
    if (message) assert.match(result.stderr, message);
    return result;
  };

  test('create, ls, share, info, unshare and rm with two users; cp and ls against the bucket', async () => {
    await ok('alice', ['bucket', 'create', 'team-cli', '--quota', '1MiB', '--expire-days', '30']);
    await fails('bob', ['bucket', 'create', 'team-cli'], 4, /BucketAlreadyExists|taken/);
    await fails('alice', ['bucket', 'create', 'team-cli'], 4, /already own/);

    const own = JSON.parse((await ok('alice', ['bucket', 'ls', '--json'])).stdout);
    assert.deepEqual(
      own.map((b: { name: string; owner: string; access: string }) => [b.name, b.owner, b.access]),
      [['team-cli', 'alice', 'owner']],
    );
    assert.match(
      (await ok('alice', ['bucket', 'ls'])).stdout,
      /^NAME\s+OWNER\s+CREATED\s+ACCESS\nteam-cli\s+alice\s+\d{4}-\d\d-\d\dT\S+\s+owner\n$/,
    );
    assert.equal((await ok('bob', ['bucket', 'ls'])).stdout, '', 'nothing is shared with bob yet');

    // Writing into the bucket: cp to a stowage://BUCKET/ path, set with -t BUCKET.
    const local = path.join(dir, 'report.csv');
    await writeFile(local, 'region,total\nnorth,42\n');
    await ok('alice', ['cp', local, 'stowage://team-cli/q1/']);
    await ok('alice', ['set', 'q1/notes.txt', '-t', 'team-cli'], 'q1 notes');
    await ok('alice', ['set', 'q2/plan.txt', '-t', 'team-cli'], 'q2 plan');
    assert.equal((await ok('alice', ['ls', 'stowage://team-cli/q1/'])).stdout, 'q1/notes.txt\nq1/report.csv\n');
    assert.equal((await ok('alice', ['ls', '-t', 'team-cli'])).stdout, 'q1/\nq2/\n');
    assert.equal((await ok('alice', ['ls', 'stowage://team-cli/', '-R'])).stdout, 'q1/notes.txt\nq1/report.csv\nq2/plan.txt\n');
    assert.match((await ok('alice', ['du', '-t', 'team-cli'])).stdout, /^37\t3 objects\tstowage:\/\/team-cli\/\n$/);

    // Bob: nothing until alice shares q1/.
    await fails('bob', ['get', 'q1/notes.txt', '-t', 'team-cli'], 3, /AccessDenied|grants/i);
    const shared = await ok('alice', ['bucket', 'share', 'team-cli', '--user', 'bob', '--prefix', 'q1/']);
    assert.equal(shared.stderr, '', 'sharing with one user warns of nothing');

    const info = (await ok('alice', ['bucket', 'info', 'team-cli'])).stdout;
    assert.match(info, /^name:\s+team-cli$/m);
    assert.match(info, /^owner:\s+alice$/m);
    assert.match(info, /^created:\s+\d{4}-\d\d-\d\dT/m);
    assert.match(info, /^usage:\s+37 B \(37 bytes\) in 3 objects$/m);
    assert.match(info, /^quota:\s+1\.0 MiB \(1048576 bytes\)$/m);
    assert.match(info, /^public:\s+no$/m);
    assert.match(info, /^grant:\s+user bob: READ on keys under q1\/$/m);
    assert.match(info, /^expiry:\s+30 days after each write$/m);
    const infoJson = JSON.parse((await ok('alice', ['bucket', 'info', 'team-cli', '--json'])).stdout);
    assert.deepEqual(infoJson.grants, [{ grantee: { user: 'bob' }, permission: 'READ', prefix: 'q1/' }]);
    assert.equal(infoJson.quotaBytes, 1048576);

    const bobs = JSON.parse((await ok('bob', ['bucket', 'ls', '--json'])).stdout);
    assert.deepEqual(
      bobs.map((b: { name: string; owner: string; access: string }) => [b.name, b.owner, b.access]),
      [['team-cli', 'alice', 'shared']],
    );
    assert.match((await ok('bob', ['bucket', 'ls'])).stdout, /^team-cli\s+alice\s+\S+\s+shared$/m);
    await fails('bob', ['bucket', 'info', 'team-cli'], 3, /AccessDenied|grants/i);

    // Bob reads and lists under q1/, by either form, and copies down; nothing outside q1/, no writes.
    const copy = path.join(dir, 'bob-report.csv');
    await ok('bob', ['cp', 'stowage://team-cli/q1/report.csv', copy]);
    assert.equal(await readFile(copy, 'utf8'), 'region,total\nnorth,42\n');
    assert.equal((await ok('bob', ['get', 'q1/notes.txt', '-t', 'team-cli'])).stdout, 'q1 notes');
    assert.equal((await ok('bob', ['ls', 'stowage://team-cli/q1/'])).stdout, 'q1/notes.txt\nq1/report.csv\n');
    await ok('bob', ['cp', 'stowage://team-cli/q1/notes.txt', 'stowage://data/from-alice/notes.txt']);
    assert.equal((await ok('bob', ['get', 'from-alice/notes.txt'])).stdout, 'q1 notes');
    await fails('bob', ['get', 'q2/plan.txt', '-t', 'team-cli'], 3);
    await fails('bob', ['ls', 'stowage://team-cli/'], 3);
    await fails('bob', ['cp', local, 'stowage://team-cli/q1/from-bob.csv'], 3);
    await fails('bob', ['bucket', 'share', 'team-cli', '--user', 'bob', '--permission', 'WRITE'], 3);

    // WRITE under q1/: bob writes there.
    await ok('alice', ['bucket', 'share', 'team-cli', '--user', 'bob', '--permission', 'WRITE', '--prefix', 'q1/']);
    await ok('bob', ['cp', local, 'stowage://team-cli/q1/from-bob.csv']);
    assert.equal((await ok('alice', ['get', 'q1/from-bob.csv', '-t', 'team-cli'])).stdout, 'region,total\nnorth,42\n');
    await fails('bob', ['set', 'q2/from-bob.txt', '-t', 'team-cli'], 3);

    // Public: a warning on stderr, and an anonymous caller reads under the prefix only.
    const made = await ok('alice', ['bucket', 'share', 'team-cli', '--everyone', '--prefix', 'q1/']);
    assert.match(made.stderr, /warning: anyone, without credentials, now has READ on the keys under q1\/ in bucket team-cli/);
    assert.match((await ok('alice', ['bucket', 'info', 'team-cli'])).stdout, /^public:\s+yes$/m);
    assert.equal((await ok('nobody', ['get', 'q1/notes.txt', '-t', 'team-cli', '--anonymous'])).stdout, 'q1 notes');
    assert.equal(
      (await ok('nobody', ['ls', 'stowage://team-cli/q1/', '--anonymous'])).stdout,
      'q1/from-bob.csv\nq1/notes.txt\nq1/report.csv\n',
    );
    await fails('nobody', ['get', 'q2/plan.txt', '-t', 'team-cli', '--anonymous'], 3, /not public|credentials/);
    await fails('nobody', ['get', 'q1/notes.txt', '-t', 'team-cli'], 3, /STOWAGE_TOKEN/);

    // Unshare: the public grant, then everything of bob's.
    await ok('alice', ['bucket', 'unshare', 'team-cli', '--everyone']);
    await fails('nobody', ['get', 'q1/notes.txt', '-t', 'team-cli', '--anonymous'], 3);
    const unshared = JSON.parse((await ok('alice', ['bucket', 'unshare', 'team-cli', '--user', 'bob', '--json'])).stdout);
    assert.deepEqual(unshared.grants, []);
    await fails('bob', ['get', 'q1/notes.txt', '-t', 'team-cli'], 3);
    assert.equal((await ok('bob', ['bucket', 'ls'])).stdout, '');
    assert.match((await ok('alice', ['bucket', 'info', 'team-cli'])).stdout, /^grants:\s+none/m);

    // rm: refused while it holds keys (with the way out), then done.
    await fails('bob', ['bucket', 'rm', 'team-cli'], 3);
    await fails('alice', ['bucket', 'rm', 'team-cli'], 4, /stowage rm -r --all -t team-cli/);
    await ok('alice', ['rm', '-r', '--all', '-t', 'team-cli']);
    await ok('alice', ['bucket', 'rm', 'team-cli']);
    assert.equal((await ok('alice', ['bucket', 'ls'])).stdout, '');
    await fails('alice', ['bucket', 'info', 'team-cli'], 1, /No bucket/);
    await fails('alice', ['ls', '-t', 'team-cli'], 1, /No bucket/);
  });

  test('create --public warns and makes the bucket readable without credentials', async () => {
    const created = await ok('alice', ['bucket', 'create', 'open-cli', '--public', '--json']);
    assert.match(created.stderr, /warning: anyone, without credentials, now has READ on the bucket open-cli/);
    const info = JSON.parse(created.stdout);
    assert.equal(info.public, true);
    assert.deepEqual(info.grants, [{ grantee: { group: 'everyone' }, permission: 'READ', prefix: '' }]);
    await ok('alice', ['set', 'hello.txt', '-t', 'open-cli'], 'hello, world');
    assert.equal((await ok('nobody', ['get', 'hello.txt', '-t', 'open-cli', '--anonymous'])).stdout, 'hello, world');
    assert.equal((await ok('bob', ['ls', '-t', 'open-cli'])).stdout, 'hello.txt\n');
    await fails('bob', ['rm', 'hello.txt', '-t', 'open-cli'], 4, /AccessDenied|grants/i);
    const writable = await ok('alice', ['bucket', 'share', 'open-cli', '--authenticated', '--permission', 'WRITE', '--prefix', 'drop/']);
    assert.match(writable.stderr, /warning: every user with credentials now has WRITE on the keys under drop\/ in bucket open-cli/);
    await ok('bob', ['set', 'drop/from-bob.txt', '-t', 'open-cli'], 'dropped');
    await ok('alice', ['rm', 'hello.txt', 'drop/from-bob.txt', '-t', 'open-cli']);
    await ok('alice', ['bucket', 'rm', 'open-cli']);
  });

  test('info names the retention of its prefixes (S3 lifecycle NoncurrentVersionExpiration), as the server keeps them', async () => {
    await ok('alice', ['bucket', 'create', 'kept-cli']);
    const s3 = await s3ClientOf(ts, 'alice');
    try {
      await s3.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: 'kept-cli',
          LifecycleConfiguration: {
            Rules: [
              { ID: 'logs', Filter: { Prefix: 'logs/' }, Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 2 } },
              {
                ID: 'archive',
                Filter: { Prefix: 'archive/' },
                Status: 'Enabled',
                NoncurrentVersionExpiration: { NoncurrentDays: 90, NewerNoncurrentVersions: 5 },
              },
              { ID: 'all', Filter: {}, Status: 'Enabled', NoncurrentVersionExpiration: { NoncurrentDays: 3, NewerNoncurrentVersions: 2 } },
              { ID: 'off', Filter: { Prefix: 'old/' }, Status: 'Disabled', NoncurrentVersionExpiration: { NoncurrentDays: 5 } },
            ],
          },
        }),
      );
    } finally {
      s3.destroy();
    }
    // Not versioned: the bucket follows the server's retention, and the rules apply while it keeps anything.
    let info = (await ok('alice', ['bucket', 'info', 'kept-cli'])).stdout;
    assert.match(info, /^retention:\s+2 days, keys under logs\/ \(while the server's retention is on\)$/m);
    assert.match(
      info,
      /^retention:\s+3 days \(the 2 newest kept longer, until replaced\), keys under archive\/ /m,
      'the rule for every key bounds the one for archive/, with its NewerNoncurrentVersions',
    );
    assert.match(info, /^retention:\s+the server's default \(the 2 newest kept longer, until replaced\); /m);
    assert.doesNotMatch(info, /keys under old\//, 'a disabled rule keeps nothing');
    const json = JSON.parse((await ok('alice', ['bucket', 'info', 'kept-cli', '--json'])).stdout);
    assert.deepEqual(json.retentionRules, [
      { id: 'logs', prefix: 'logs/', enabled: true, days: 2 },
      { id: 'archive', prefix: 'archive/', enabled: true, days: 90, newerVersions: 5 },
      { id: 'all', prefix: '', enabled: true, days: 3, newerVersions: 2 },
      { id: 'off', prefix: 'old/', enabled: false, days: 5 },
    ]);
    const off = await fetch(`${ts.url}/buckets/kept-cli`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${tokens.alice}`, 'content-type': 'application/json' },
      body: JSON.stringify({ retentionDays: 0 }),
    });
    assert.equal(off.status, 200);
    info = (await ok('alice', ['bucket', 'info', 'kept-cli'])).stdout;
    assert.match(info, /^retention:\s+2 days, keys under logs\/ \(not in force: retention is off\)$/m);
  });

  test('usage mistakes exit 2 before any request', async () => {
    await fails('alice', ['bucket', 'share', 'x-bucket'], 2, /--user ID, --authenticated or --everyone/);
    await fails('alice', ['bucket', 'share', 'x-bucket', '--user', 'bob', '--everyone'], 2, /one grantee/);
    await fails('alice', ['bucket', 'share', 'x-bucket', '--user', 'bob', '--permission', 'ALL'], 2);
    await fails('alice', ['bucket', 'create', 'x-bucket', '--quota', 'lots'], 2, /not a size/);
    await fails('alice', ['bucket', 'create', 'x-bucket', '--expire-days', '0'], 2, /whole number/);
    await fails('alice', ['ls', '-t', 'Not_A_Bucket'], 2, /neither a storage type \(data, tmp, result\) nor a bucket name/);
    await fails(
      'alice',
      ['cp', 'stowage://Not_A_Bucket/x', path.join(dir, 'x')],
      2,
      /neither a storage type \(data, tmp, result\) nor a bucket name/,
    );
    await fails('alice', ['get', 'x', '--anonymous', '--token', tokens.alice], 2, /--anonymous/);
    assert.equal((await ok('nobody', ['whoami', '--anonymous'])).stdout, '(anonymous)\n');
    assert.equal((await run('alice', ['bucket', 'ls'])).code, 0, 'nothing was created by the mistakes');
  });
});
