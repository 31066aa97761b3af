// Guards the S3-compatible API (docs/s3.md) with the clients people point at it: the AWS CLI
// (s3 cp, ls, rm, sync, presign; s3api), rclone (sync both ways, check, md5sum, lsf, delete),
// boto3, and s3cmd on the S3 port (it takes an endpoint as host:port only), each run as its own
// process against a real server, on whichever deployment the suite runs.
// A tool that is not installed skips its tests with a reason (scripts/services/s3-tools.sh
// installs them; CI sets STOWAGE_TEST_S3_TOOLS=1, making a missing tool an error).
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ApiClient, apiClient } from './helpers/api-client.js';
import { etagOf, multipartEtagOf, partsOf, v1EtagOf } from './helpers/s3-etags.js';
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
import { startTestServer, type TestServer } from './helpers/test-server.js';

const MiB = 1024 * 1024;
const sha256 = (data: Buffer | string) => createHash('sha256').update(data).digest('hex');
const versions = toolVersions();

/** Asserts the tool exited 0 and gives its stdout. */
function ok(result: ToolResult, what: string): string {
  assert.equal(result.code, 0, `${what} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  return result.stdout;
}

/** Every file under `dir`, as sorted relative paths with `/`, mapped to its bytes. */
async function treeOf(dir: string): Promise<Map<string, Buffer>> {
  const files = new Map<string, Buffer>();
  const walk = async (at: string) => {
    for (const entry of await readdir(at, { withFileTypes: true })) {
      const full = path.join(at, entry.name);
      if (entry.isDirectory()) await walk(full);
      else files.set(path.relative(dir, full).split(path.sep).join('/'), await readFile(full));
    }
  };
  await walk(dir);
  return new Map([...files].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function assertSameTree(actual: Map<string, Buffer>, expected: Map<string, Buffer>, what: string): void {
  assert.deepEqual([...actual.keys()], [...expected.keys()], `${what}: the same files`);
  for (const [name, bytes] of expected) assert.ok(actual.get(name)?.equals(bytes), `${what}: ${name} has the same bytes`);
}

/** Writes files (relative path → bytes) under `dir`, dated a day back so syncs see them as older than any upload. */
async function writeTree(dir: string, files: Map<string, Buffer>): Promise<void> {
  const dayAgo = new Date(Date.now() - 24 * 3_600_000);
  for (const [name, bytes] of files) {
    const full = path.join(dir, ...name.split('/'));
    await mkdir(path.dirname(full), { recursive: true });
    await writeFile(full, bytes);
    await utimes(full, dayAgo, dayAgo);
  }
}

describe('S3 API through the AWS CLI, rclone and boto3', () => {
  let ts: TestServer;
  let tools: S3Tools;
  let api: ApiClient;
  let work: string;

  before(async () => {
    ts = await startTestServer({ s3Port: 0 });
    const key = await ts.server.createApiKey('alice');
    tools = await s3Tools({
      endpoint: `${ts.origin}/s3`,
      rootEndpoint: ts.server.s3RootUrl(),
      accessKeyId: key.clientId,
      secretAccessKey: key.secret,
    });
    api = apiClient(ts.origin, await ts.token('alice', 24 * 3_600_000));
    work = path.join(tools.dir, 'work');
    await mkdir(work);
  });
  after(async () => {
    await tools?.close();
    await ts?.close();
  });

  describe(`aws-cli (${versions.aws})`, { skip: awsSkip }, () => {
    const aws = (...args: string[]) => tools.aws(args, { cwd: work });
    const awsJson = async <T>(what: string, ...args: string[]): Promise<T> => {
      const out = ok(await aws(...args), what);
      return (out.trim() ? JSON.parse(out) : {}) as T;
    };

    test('s3 cp up and down with a 20 MiB file (multipart), checked through storage API v1', async () => {
      const big = randomBytes(20 * MiB);
      await writeFile(path.join(work, 'big.bin'), big);
      const up = ok(await aws('s3', 'cp', 'big.bin', 's3://data/cli/big.bin', '--no-progress'), 's3 cp up');
      assert.match(up, /upload: \.\/big\.bin to s3:\/\/data\/cli\/big\.bin/);

      const head = await awsJson<{ ContentLength: number; ETag: string }>(
        'head-object',
        's3api',
        'head-object',
        '--bucket',
        'data',
        '--key',
        'cli/big.bin',
      );
      assert.equal(head.ContentLength, 20 * MiB);
      // aws-cli's default: 8 MiB parts above an 8 MiB threshold, so three parts.
      assert.equal(head.ETag, multipartEtagOf(partsOf(big, 8 * MiB)));
      // One part alone, by its number.
      const third = await awsJson<{ ContentLength: number; PartsCount: number }>(
        'get-object --part-number',
        's3api',
        'get-object',
        '--bucket',
        'data',
        '--key',
        'cli/big.bin',
        '--part-number',
        '3',
        'part3.bin',
      );
      assert.deepEqual([third.ContentLength, third.PartsCount], [4 * MiB, 3]);
      assert.ok((await readFile(path.join(work, 'part3.bin'))).equals(big.subarray(16 * MiB)));
      const v1 = await api.get('data', 'cli/big.bin');
      assert.equal(v1.status, 200);
      assert.equal(sha256(v1.body), sha256(big));

      const down = ok(await aws('s3', 'cp', 's3://data/cli/big.bin', 'down.bin', '--no-progress'), 's3 cp down');
      assert.match(down, /download: s3:\/\/data\/cli\/big\.bin to \.\/down\.bin/);
      assert.ok((await readFile(path.join(work, 'down.bin'))).equals(big));
    });

    test('s3 ls: buckets, a folder level with PRE lines, --recursive', async () => {
      for (const [key, body] of [
        ['cli/ls/a.txt', 'aaaaa'],
        ['cli/ls/sub/b.txt', 'bb'],
        ['cli/ls/sub/deeper/c.txt', 'c'],
      ] as const) {
        assert.equal((await api.put('data', key, body)).status, 200);
      }
      const buckets = ok(await aws('s3', 'ls'), 's3 ls');
      assert.deepEqual(
        buckets
          .trim()
          .split('\n')
          .map((line) => line.trim().split(/\s+/).at(-1))
          .sort(),
        ['data', 'result', 'tmp'],
      );

      const level = ok(await aws('s3', 'ls', 's3://data/cli/ls/'), 's3 ls level');
      const lines = level
        .trim()
        .split('\n')
        .map((line) => line.trim().split(/\s+/));
      assert.deepEqual(
        lines.map((fields) => (fields[0] === 'PRE' ? ['PRE', fields[1]] : [fields[2], fields[3]])),
        [
          ['PRE', 'sub/'],
          ['5', 'a.txt'],
        ],
      );

      const recursive = ok(await aws('s3', 'ls', 's3://data/cli/ls/', '--recursive'), 's3 ls --recursive');
      assert.deepEqual(
        recursive
          .trim()
          .split('\n')
          .map((line) => line.trim().split(/\s+/).slice(2)),
        [
          ['5', 'cli/ls/a.txt'],
          ['2', 'cli/ls/sub/b.txt'],
          ['1', 'cli/ls/sub/deeper/c.txt'],
        ],
      );
    });

    test('s3 rm of one key, then --recursive of a folder', async () => {
      await api.put('data', 'cli/rm/one', '1');
      await api.put('data', 'cli/rm/two/2', '2');
      await api.put('data', 'cli/rm/two/3', '3');
      assert.match(ok(await aws('s3', 'rm', 's3://data/cli/rm/one'), 's3 rm'), /delete: s3:\/\/data\/cli\/rm\/one/);
      assert.equal((await api.get('data', 'cli/rm/one')).status, 404);
      assert.deepEqual(await api.keys('data', 'cli/rm/'), ['cli/rm/two/2', 'cli/rm/two/3']);
      const removed = ok(await aws('s3', 'rm', 's3://data/cli/rm/', '--recursive'), 's3 rm --recursive');
      assert.equal(removed.trim().split('\n').length, 2, removed);
      assert.deepEqual(await api.keys('data', 'cli/rm/'), []);
    });

    test('s3 sync of a tree up (with --delete) and down; a second sync has nothing to do', async () => {
      const files = new Map<string, Buffer>();
      for (let i = 0; i < 12; i++) files.set(`f${i}.txt`, Buffer.from(`file ${i}\n`));
      for (let i = 0; i < 8; i++) files.set(`sub dir/g${i}.bin`, randomBytes(1000 + i * 3000));
      files.set('deep/a/b/c.txt', Buffer.from('deep'));
      files.set('ünï/ç.txt', Buffer.from('unicode'));
      files.set('empty', Buffer.alloc(0));
      const src = path.join(work, 'sync-src');
      await writeTree(src, files);

      ok(await aws('s3', 'sync', src, 's3://data/synced/', '--no-progress'), 's3 sync up');
      assert.deepEqual(await api.keys('data', 'synced/'), [...files.keys()].map((name) => `synced/${name}`).sort());
      assert.equal(ok(await aws('s3', 'sync', src, 's3://data/synced/', '--no-progress'), 's3 sync up again').trim(), '');

      // One file changed, one gone, one new.
      files.set('f1.txt', Buffer.from('file 1, longer now\n'));
      files.delete('f2.txt');
      await rm(path.join(src, 'f2.txt'));
      files.set('new/one.txt', Buffer.from('new'));
      await writeTree(src, new Map([...files].filter(([name]) => name === 'f1.txt' || name === 'new/one.txt')));
      const second = ok(await aws('s3', 'sync', src, 's3://data/synced/', '--delete', '--no-progress'), 's3 sync --delete');
      assert.deepEqual(
        second
          .trim()
          .split('\n')
          .map((line) => line.split(':')[0])
          .sort(),
        ['delete', 'upload', 'upload'],
        second,
      );
      assert.deepEqual(await api.keys('data', 'synced/'), [...files.keys()].map((name) => `synced/${name}`).sort());
      assert.equal((await api.get('data', 'synced/f1.txt')).text, 'file 1, longer now\n');

      const down = path.join(work, 'sync-down');
      ok(await aws('s3', 'sync', 's3://data/synced/', down, '--no-progress'), 's3 sync down');
      assertSameTree(await treeOf(down), await treeOf(src), 'synced down');
      assert.equal(ok(await aws('s3', 'sync', 's3://data/synced/', down, '--no-progress'), 's3 sync down again').trim(), '');
    });

    test('s3 presign: the URL works with plain fetch, with SigV4 and with Signature Version 2 (aws-cli v1 without s3v4)', async () => {
      assert.equal((await api.put('data', 'cli/presigned file.txt', 'presigned body')).status, 200);
      const url = ok(await aws('s3', 'presign', 's3://data/cli/presigned file.txt', '--expires-in', '300'), 's3 presign').trim();
      assert.match(url, /X-Amz-Signature=/);
      const answer = await fetch(url);
      assert.equal(answer.status, 200);
      assert.equal(await answer.text(), 'presigned body');

      // Without signature_version = s3v4, aws-cli v1 presigns with Signature Version 2.
      const plainConfig = path.join(tools.dir, 'aws-config-default-signature');
      await writeFile(plainConfig, '[default]\nregion = us-east-1\ns3 =\n  addressing_style = path\n');
      const byDefault = ok(
        await tools.aws(['s3', 'presign', 's3://data/cli/presigned file.txt', '--expires-in', '300'], {
          env: { AWS_CONFIG_FILE: plainConfig },
        }),
        's3 presign (default signature)',
      ).trim();
      if (!byDefault.includes('X-Amz-Signature=')) assert.match(byDefault, /AWSAccessKeyId=.*Signature=/);
      const byDefaultAnswer = await fetch(byDefault);
      assert.equal(byDefaultAnswer.status, 200);
      assert.equal(await byDefaultAnswer.text(), 'presigned body');
    });

    test("s3api put-object --if-none-match '*' creates once, the second is PreconditionFailed", async (t) => {
      const skeleton = ok(await aws('s3api', 'put-object', '--generate-cli-skeleton', 'input'), 'put-object skeleton');
      if (!skeleton.includes('"IfNoneMatch"')) {
        t.skip(`this aws-cli (${versions.aws}) has no --if-none-match on put-object`);
        return;
      }
      await writeFile(path.join(work, 'once.txt'), 'once');
      const args = ['s3api', 'put-object', '--bucket', 'data', '--key', 'cli/once.txt', '--body', 'once.txt', '--if-none-match', '*'];
      const first = JSON.parse(ok(await aws(...args), 'first put-object')) as { ETag: string };
      assert.equal(first.ETag, etagOf('once'));
      const second = await aws(...args);
      assert.notEqual(second.code, 0, second.stdout);
      assert.match(second.stderr, /PreconditionFailed/);
    });

    test('s3api copy-object, within and across buckets', async () => {
      assert.equal((await api.put('data', 'cli/copy-src', 'copy me', { 'content-type': 'text/x-copy' })).status, 200);
      const copied = await awsJson<{ CopyObjectResult: { ETag: string } }>(
        'copy-object',
        's3api',
        'copy-object',
        '--bucket',
        'data',
        '--key',
        'cli/copy-dest',
        '--copy-source',
        'data/cli/copy-src',
      );
      // The source was written through storage API v1: the copy has its sha256 ETag.
      assert.equal(copied.CopyObjectResult.ETag, v1EtagOf('copy me'));
      const read = await api.get('data', 'cli/copy-dest');
      assert.equal(read.text, 'copy me');
      assert.equal(read.headers['content-type'], 'text/x-copy');
      await awsJson(
        'copy-object across',
        's3api',
        'copy-object',
        '--bucket',
        'result',
        '--key',
        'cli/copied',
        '--copy-source',
        'data/cli/copy-src',
      );
      assert.equal((await api.get('result', 'cli/copied')).text, 'copy me');
    });

    test('s3api create-multipart-upload, list-multipart-uploads, abort-multipart-upload', async () => {
      const created = await awsJson<{ UploadId: string }>(
        'create-multipart-upload',
        's3api',
        'create-multipart-upload',
        '--bucket',
        'data',
        '--key',
        'cli/mpu/open',
      );
      assert.ok(created.UploadId);
      const listed = await awsJson<{ Uploads?: Array<{ Key: string; UploadId: string }> }>(
        'list-multipart-uploads',
        's3api',
        'list-multipart-uploads',
        '--bucket',
        'data',
        '--prefix',
        'cli/mpu/',
      );
      assert.deepEqual(
        (listed.Uploads ?? []).map((u) => [u.Key, u.UploadId]),
        [['cli/mpu/open', created.UploadId]],
      );
      ok(
        await aws('s3api', 'abort-multipart-upload', '--bucket', 'data', '--key', 'cli/mpu/open', '--upload-id', created.UploadId),
        'abort-multipart-upload',
      );
      const after = await awsJson<{ Uploads?: unknown[] }>(
        'list-multipart-uploads after abort',
        's3api',
        'list-multipart-uploads',
        '--bucket',
        'data',
        '--prefix',
        'cli/mpu/',
      );
      assert.deepEqual(after.Uploads ?? [], []);
    });

    test('s3 mv across buckets, and s3 cp to stdout', async () => {
      assert.equal((await api.put('data', 'cli/mv/from.txt', 'moving')).status, 200);
      const moved = ok(await aws('s3', 'mv', 's3://data/cli/mv/from.txt', 's3://tmp/cli/mv/to.txt'), 's3 mv');
      assert.match(moved, /move: s3:\/\/data\/cli\/mv\/from\.txt to s3:\/\/tmp\/cli\/mv\/to\.txt/);
      assert.equal((await api.get('data', 'cli/mv/from.txt')).status, 404);
      assert.equal((await api.get('tmp', 'cli/mv/to.txt')).text, 'moving');
      assert.equal(ok(await aws('s3', 'cp', 's3://tmp/cli/mv/to.txt', '-'), 's3 cp to stdout'), 'moving');
    });

    test('errors come back as S3 codes: a missing key, a bucket that does not exist', async () => {
      const missing = await aws('s3api', 'get-object', '--bucket', 'data', '--key', 'cli/absent', path.join(work, 'absent'));
      assert.notEqual(missing.code, 0);
      assert.match(missing.stderr, /NoSuchKey/);
      const noBucket = await aws('s3', 'ls', 's3://nope/');
      assert.notEqual(noBucket.code, 0);
      assert.match(noBucket.stderr, /NoSuchBucket/);
    });
  });

  describe(`rclone (${versions.rclone})`, { skip: rcloneSkip }, () => {
    const rclone = (...args: string[]) => tools.rclone(args, { cwd: work });
    const remote = `${RCLONE_REMOTE}:data/rc`;
    const files = new Map<string, Buffer>();
    for (let i = 0; i < 200; i++) {
      const dir = `d${i % 10}${i % 10 === 3 ? ' space' : ''}${i % 10 === 5 ? " +&%='~" : ''}${i % 10 === 7 ? '/ünï' : ''}`;
      files.set(`${dir}/file-${String(i).padStart(3, '0')}.dat`, i === 0 ? Buffer.alloc(0) : randomBytes((i * 997) % 70_000));
    }
    let src: string;
    let down: string;
    before(async () => {
      src = path.join(work, 'rc-src');
      down = path.join(work, 'rc-down');
      await writeTree(src, files);
    });

    test('sync a tree of 200 files up, then down into another directory', async () => {
      ok(await rclone('sync', src, remote), 'rclone sync up');
      assert.deepEqual(await api.keys('data', 'rc/'), [...files.keys()].map((name) => `rc/${name}`).sort());
      const sample = [...files.keys()][42] as string;
      assert.ok((await api.get('data', `rc/${sample}`)).body.equals(files.get(sample) as Buffer));

      ok(await rclone('sync', remote, down), 'rclone sync down');
      assertSameTree(await treeOf(down), await treeOf(src), 'rclone sync down');
      // Nothing left to copy either way.
      const again = await rclone('sync', src, remote, '-v');
      ok(again, 'rclone sync up again');
      assert.doesNotMatch(again.stderr, /: Copied/);
    });

    test('md5sum gives every file its MD5 from the listing (no download), so check compares by MD5', async () => {
      const sums = ok(await rclone('md5sum', remote), 'rclone md5sum');
      const listed = new Map(
        sums
          .trim()
          .split('\n')
          .map((line): [string, string] => [line.slice(34), line.slice(0, 32)]),
      );
      const expected = new Map([...files].map(([name, bytes]) => [name, createHash('md5').update(bytes).digest('hex')]));
      assert.deepEqual([...listed.keys()].sort(), [...expected.keys()].sort());
      for (const [name, md5] of expected) assert.equal(listed.get(name), md5, name);
      const checked = await rclone('check', src, remote, '-v');
      ok(checked, 'rclone check');
      assert.doesNotMatch(checked.stderr, /no hashes in common/i);
    });

    test('check both ways, by content too; a changed byte is one difference', async () => {
      ok(await rclone('check', src, remote), 'rclone check local → remote');
      ok(await rclone('check', remote, down, '--download'), 'rclone check remote → down (--download)');
      const name = [...files.keys()][57] as string;
      const changed = Buffer.from(files.get(name) as Buffer);
      changed[0] = ((changed[0] ?? 0) + 1) % 256;
      const full = path.join(down, ...name.split('/'));
      const { mtime } = await stat(full);
      await writeFile(full, changed);
      await utimes(full, mtime, mtime);
      const differs = await rclone('check', remote, down, '--download', '--combined', '-');
      assert.notEqual(differs.code, 0, differs.stderr);
      assert.match(differs.stderr, /1 differences found/);
      const marks = differs.stdout.trim().split('\n');
      assert.deepEqual(
        marks.filter((line) => !line.startsWith('= ')),
        [`* ${name}`],
      );
      assert.equal(marks.length, files.size);
      await writeFile(full, files.get(name) as Buffer);
    });

    test('lsf lists a level (folders with a slash) and every file with -R (both listing versions, encoded or not); cat', async () => {
      const level = ok(await rclone('lsf', remote), 'rclone lsf');
      assert.deepEqual(level.trim().split('\n').sort(), [
        'd0/',
        'd1/',
        'd2/',
        'd3 space/',
        'd4/',
        "d5 +&%='~/",
        'd6/',
        'd7/',
        'd8/',
        'd9/',
      ]);
      const all = ok(await rclone('lsf', '-R', '--files-only', '--format', 'ps', remote), 'rclone lsf -R');
      assert.deepEqual(all.trim().split('\n').sort(), [...files].map(([name, bytes]) => `${name};${bytes.length}`).sort());
      // The same through ListObjects v1 and v2, with and without encoding-type=url.
      for (const flags of [
        ['--s3-list-version', '1'],
        ['--s3-list-version', '2'],
        ['--s3-list-version', '1', '--s3-list-url-encode', 'false'],
        ['--s3-list-version', '2', '--s3-list-url-encode', 'false'],
      ]) {
        assert.equal(
          ok(await rclone('lsf', '-R', '--files-only', '--format', 'ps', ...flags, remote), `rclone lsf ${flags.join(' ')}`),
          all,
        );
      }
      assert.equal((await api.put('data', 'rc-cat/hello.txt', 'hello rclone\n')).status, 200);
      assert.equal(ok(await rclone('cat', `${RCLONE_REMOTE}:data/rc-cat/hello.txt`), 'rclone cat'), 'hello rclone\n');
    });

    test('a 12 MiB file goes up in 5 MiB parts (multipart) and comes back the same', async () => {
      const big = randomBytes(12 * MiB);
      await mkdir(path.join(work, 'rc-big'));
      await writeFile(path.join(work, 'rc-big', 'big.bin'), big);
      ok(
        await rclone(
          'copyto',
          path.join(work, 'rc-big', 'big.bin'),
          `${RCLONE_REMOTE}:data/rc-big/big.bin`,
          '--s3-upload-cutoff',
          '5M',
          '--s3-chunk-size',
          '5M',
        ),
        'rclone copyto (multipart)',
      );
      const v1 = await api.get('data', 'rc-big/big.bin');
      assert.equal(v1.status, 200);
      assert.equal(sha256(v1.body), sha256(big));
      const head = ok(await rclone('lsjson', '--stat', '--hash', `${RCLONE_REMOTE}:data/rc-big/big.bin`), 'rclone lsjson --stat');
      assert.equal((JSON.parse(head) as { Size: number }).Size, 12 * MiB);
      ok(await rclone('copyto', `${RCLONE_REMOTE}:data/rc-big/big.bin`, path.join(work, 'rc-big.down')), 'rclone copyto down');
      assert.ok((await readFile(path.join(work, 'rc-big.down'))).equals(big));
      ok(await rclone('check', path.join(work, 'rc-big'), `${RCLONE_REMOTE}:data/rc-big`, '--download'), 'rclone check big');
      ok(await rclone('deletefile', `${RCLONE_REMOTE}:data/rc-big/big.bin`), 'rclone deletefile');
      assert.deepEqual(await api.keys('data', 'rc-big/'), []);
    });

    test('delete a folder, then everything', async () => {
      ok(await rclone('delete', `${remote}/d3 space`), 'rclone delete d3');
      assert.deepEqual(await api.keys('data', 'rc/d3 space/'), []);
      assert.deepEqual(
        await api.keys('data', 'rc/'),
        [...files.keys()]
          .filter((name) => !name.startsWith('d3 space/'))
          .map((name) => `rc/${name}`)
          .sort(),
      );
      ok(await rclone('delete', remote), 'rclone delete all');
      assert.deepEqual(await api.keys('data', 'rc/'), []);
    });
  });

  describe(`s3cmd (${versions.s3cmd}) on the S3 port`, { skip: s3cmdSkip }, () => {
    // s3cmd takes an endpoint as host:port only, and checks every upload's MD5 against its ETag.
    const s3cmd = (...args: string[]) => tools.s3cmd(args, { cwd: work });
    const tree = new Map<string, Buffer>();
    for (let i = 0; i < 12; i++) tree.set(`dir ${i % 3}/file-${i}.bin`, randomBytes(1000 + i * 777));

    test('ls of the buckets; put, info, get of a file and of a 12 MiB file in 5 MiB parts', async () => {
      const buckets = ok(await s3cmd('ls'), 's3cmd ls');
      assert.deepEqual(
        buckets
          .trim()
          .split('\n')
          .map((line) => line.trim().split(/\s+/).at(-1)),
        ['s3://data', 's3://result', 's3://tmp'],
      );
      const small = randomBytes(70_000);
      await writeFile(path.join(work, 's3cmd-small.bin'), small);
      const put = await s3cmd('put', 's3cmd-small.bin', 's3://data/s3cmd/small.bin');
      ok(put, 's3cmd put');
      assert.doesNotMatch(put.stderr, /MD5 Sums don't match/);
      const info = ok(await s3cmd('info', 's3://data/s3cmd/small.bin'), 's3cmd info');
      assert.match(info, new RegExp(`MD5 sum:\\s+${createHash('md5').update(small).digest('hex')}`));
      ok(await s3cmd('get', '--force', 's3://data/s3cmd/small.bin', 's3cmd-small.down'), 's3cmd get');
      assert.ok((await readFile(path.join(work, 's3cmd-small.down'))).equals(small));
      assert.ok((await api.get('data', 's3cmd/small.bin')).body.equals(small));

      const big = randomBytes(12 * MiB);
      await writeFile(path.join(work, 's3cmd-big.bin'), big);
      ok(await s3cmd('put', '--multipart-chunk-size-mb=5', 's3cmd-big.bin', 's3://data/s3cmd/big.bin'), 's3cmd put (multipart)');
      const head = await api.get('data', 's3cmd/big.bin');
      assert.equal(sha256(head.body), sha256(big));
      ok(await s3cmd('get', '--force', 's3://data/s3cmd/big.bin', 's3cmd-big.down'), 's3cmd get (multipart)');
      assert.ok((await readFile(path.join(work, 's3cmd-big.down'))).equals(big));
    });

    test('sync a tree up; a second sync finds every MD5 equal and uploads nothing; del --recursive', async () => {
      const local = path.join(work, 's3cmd-tree');
      await writeTree(local, tree);
      const first = ok(await s3cmd('sync', `${local}/`, 's3://data/s3cmd/tree/'), 's3cmd sync');
      assert.equal((first.match(/upload: /g) ?? []).length, tree.size, first);
      assert.deepEqual(await api.keys('data', 's3cmd/tree/'), [...tree.keys()].map((name) => `s3cmd/tree/${name}`).sort());
      const again = ok(await s3cmd('sync', `${local}/`, 's3://data/s3cmd/tree/'), 's3cmd sync again');
      assert.doesNotMatch(again, /upload: /);
      ok(await s3cmd('del', '--recursive', '--force', 's3://data/s3cmd/'), 's3cmd del --recursive');
      assert.deepEqual(await api.keys('data', 's3cmd/'), []);
    });
  });

  describe('multipart completions that answer with spaces before their result (STOWAGE_S3_KEEPALIVE_INTERVAL)', () => {
    // A server whose completions start their 200 answer after 1 ms: every tool must read the
    // result after the spaces, as it does from S3 for a long completion.
    let slow: TestServer;
    let slowTools: S3Tools;
    const big = randomBytes(12 * MiB);
    before(async () => {
      slow = await startTestServer({ s3KeepAliveMs: 1 });
      const key = await slow.server.createApiKey('alice');
      slowTools = await s3Tools({ endpoint: `${slow.origin}/s3`, accessKeyId: key.clientId, secretAccessKey: key.secret });
      await writeFile(path.join(slowTools.dir, 'big.bin'), big);
    });
    after(async () => {
      await slowTools?.close();
      await slow?.close();
    });
    const storedEtag = async (key: string) => {
      const answer = await slowTools.aws(['s3api', 'head-object', '--bucket', 'data', '--key', key]);
      return (JSON.parse(ok(answer, 'head-object')) as { ETag: string }).ETag;
    };

    test("aws s3 cp in aws-cli's 8 MiB parts", { skip: awsSkip }, async () => {
      ok(await slowTools.aws(['s3', 'cp', 'big.bin', 's3://data/slow/aws.bin', '--no-progress']), 'aws s3 cp');
      assert.equal(await storedEtag('slow/aws.bin'), multipartEtagOf(partsOf(big, 8 * MiB)));
    });

    test('rclone copyto in 5 MiB parts', { skip: rcloneSkip }, async () => {
      ok(
        await slowTools.rclone([
          'copyto',
          path.join(slowTools.dir, 'big.bin'),
          `${RCLONE_REMOTE}:data/slow/rclone.bin`,
          '--s3-upload-cutoff',
          '5M',
          '--s3-chunk-size',
          '5M',
        ]),
        'rclone copyto',
      );
      assert.equal(await storedEtag('slow/rclone.bin'), multipartEtagOf(partsOf(big, 5 * MiB)));
    });

    test('boto3 upload_file in 5 MiB parts', { skip: boto3Skip }, async () => {
      const script = `
from boto3.s3.transfer import TransferConfig
config = TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024)
s3.upload_file(os.path.join(os.environ["HOME"], "big.bin"), "data", "slow/boto3.bin", Config=config)
print(s3.head_object(Bucket="data", Key="slow/boto3.bin")["ETag"])
`;
      const printed = ok(await slowTools.python(script), 'boto3 upload_file').trim();
      assert.equal(printed, multipartEtagOf(partsOf(big, 5 * MiB)));
    });
  });

  describe(`boto3 (${versions.boto3})`, { skip: boto3Skip }, () => {
    test('buckets, put, get, head, list (v2 and v1 paginators), copy, delete, a managed multipart upload and presigned URLs', async () => {
      const script = `
import hashlib, urllib.request, urllib.error
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError
out = {}
put = s3.put_object(Bucket="data", Key="py/hello.txt", Body=b"hello from boto3", ContentType="text/plain", Metadata={"lang": "python"})
out["put_etag"] = put["ETag"]
got = s3.get_object(Bucket="data", Key="py/hello.txt")
out["get"] = [got["Body"].read().decode(), got["ContentType"], got["Metadata"], got["ContentLength"]]
out["range"] = s3.get_object(Bucket="data", Key="py/hello.txt", Range="bytes=6-9")["Body"].read().decode()
out["head_bucket"] = s3.head_bucket(Bucket="data")["ResponseMetadata"]["HTTPStatusCode"]
out["location"] = s3.get_bucket_location(Bucket="data").get("LocationConstraint")
out["buckets"] = sorted(b["Name"] for b in s3.list_buckets()["Buckets"])
for i in range(3):
    s3.put_object(Bucket="data", Key="py/list/%d" % i, Body=b"x" * i)
listed = s3.list_objects_v2(Bucket="data", Prefix="py/", Delimiter="/")
out["list"] = [[o["Key"], o["Size"]] for o in listed.get("Contents", [])]
out["prefixes"] = [p["Prefix"] for p in listed.get("CommonPrefixes", [])]
pages = s3.get_paginator("list_objects_v2").paginate(Bucket="data", Prefix="py/list/", PaginationConfig={"PageSize": 2})
out["pages"] = [[o["Key"] for o in page.get("Contents", [])] for page in pages]
pages_v1 = s3.get_paginator("list_objects").paginate(Bucket="data", Prefix="py/list/", PaginationConfig={"PageSize": 2})
out["pages_v1"] = [[o["Key"] for o in page.get("Contents", [])] for page in pages_v1]
copied = s3.copy_object(Bucket="tmp", Key="py/copy.txt", CopySource={"Bucket": "data", "Key": "py/hello.txt"})
out["copy_etag"] = copied["CopyObjectResult"]["ETag"]
out["copy_body"] = s3.get_object(Bucket="tmp", Key="py/copy.txt")["Body"].read().decode()
s3.delete_object(Bucket="data", Key="py/hello.txt")
try:
    s3.get_object(Bucket="data", Key="py/hello.txt")
    out["after_delete"] = "still there"
except ClientError as e:
    out["after_delete"] = e.response["Error"]["Code"]
try:
    s3.head_object(Bucket="data", Key="py/hello.txt")
except ClientError as e:
    out["head_after_delete"] = e.response["Error"]["Code"]
deleted = s3.delete_objects(Bucket="data", Delete={"Objects": [{"Key": "py/list/%d" % i} for i in range(3)]})
out["deleted"] = sorted(d["Key"] for d in deleted.get("Deleted", []))
big = bytes(range(256)) * (12 * 1024 * 1024 // 256)
path = os.path.join(os.environ["HOME"], "py-big.bin")
with open(path, "wb") as f:
    f.write(big)
s3.upload_file(path, "data", "py/big.bin", Config=TransferConfig(multipart_threshold=5 * 1024 * 1024, multipart_chunksize=5 * 1024 * 1024))
head = s3.head_object(Bucket="data", Key="py/big.bin")
out["big"] = [head["ContentLength"], head["ETag"], hashlib.sha256(big).hexdigest()]
down = os.path.join(os.environ["HOME"], "py-big.down")
s3.download_file("data", "py/big.bin", down)
with open(down, "rb") as f:
    out["big_down_same"] = f.read() == big
url = s3v4.generate_presigned_url("get_object", Params={"Bucket": "tmp", "Key": "py/copy.txt"}, ExpiresIn=300)
out["presigned_v4"] = urllib.request.urlopen(url).read().decode()
put_url = s3v4.generate_presigned_url("put_object", Params={"Bucket": "data", "Key": "py/presigned-put.txt"}, ExpiresIn=300)
request = urllib.request.Request(put_url, data=b"put by url", method="PUT")
out["presigned_put"] = urllib.request.urlopen(request).status
out["presigned_put_body"] = s3.get_object(Bucket="data", Key="py/presigned-put.txt")["Body"].read().decode()
default_url = s3.generate_presigned_url("get_object", Params={"Bucket": "tmp", "Key": "py/copy.txt"}, ExpiresIn=300)
out["default_presign_is_v2"] = "AWSAccessKeyId=" in default_url
try:
    out["presigned_default"] = [200, urllib.request.urlopen(default_url).read().decode()]
except urllib.error.HTTPError as e:
    out["presigned_default"] = [e.code, e.read().decode()]
print(json.dumps(out))
`;
      const result = await tools.python(script);
      const out = JSON.parse(ok(result, 'boto3 script').trim().split('\n').at(-1) ?? '{}');
      const big = Buffer.alloc(12 * MiB);
      for (let i = 0; i < big.length; i++) big[i] = i % 256;
      assert.equal(out.put_etag, etagOf('hello from boto3'));
      assert.deepEqual(out.get, ['hello from boto3', 'text/plain', { lang: 'python' }, 16]);
      assert.equal(out.range, 'from');
      assert.equal(out.head_bucket, 200);
      assert.equal(out.location, null);
      assert.deepEqual(out.buckets, ['data', 'result', 'tmp']);
      assert.deepEqual(out.list, [['py/hello.txt', 16]]);
      assert.deepEqual(out.prefixes, ['py/list/']);
      assert.deepEqual(out.pages, [['py/list/0', 'py/list/1'], ['py/list/2']]);
      assert.deepEqual(out.pages_v1, [['py/list/0', 'py/list/1'], ['py/list/2']]);
      assert.equal(out.copy_etag, etagOf('hello from boto3'));
      assert.equal(out.copy_body, 'hello from boto3');
      assert.equal(out.after_delete, 'NoSuchKey');
      assert.equal(out.head_after_delete, '404');
      assert.deepEqual(out.deleted, ['py/list/0', 'py/list/1', 'py/list/2']);
      // 12 MiB in 5 MiB parts: three.
      assert.deepEqual(out.big, [12 * MiB, multipartEtagOf(partsOf(big, 5 * MiB)), sha256(big)]);
      assert.equal(out.big_down_same, true);
      assert.equal(out.presigned_v4, 'hello from boto3');
      assert.equal(out.presigned_put, 200);
      assert.equal(out.presigned_put_body, 'put by url');
      // Signature Version 2 (boto3's default presigner) or SigV4, the URL works.
      assert.deepEqual(out.presigned_default, [200, 'hello from boto3']);
      assert.deepEqual(await api.keys('data', 'py/'), ['py/big.bin', 'py/presigned-put.txt']);
    });
  });
});
