// Guards the stowage CLI as users run it: the real binary against a real server, pipes in and
// out, recursive copies both ways, exit codes, --json, and progress only on a terminal.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';

const CLI = fileURLToPath(new URL('../bin/stowage.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

describe('stowage CLI', () => {
  let ts: TestServer;
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    ts = await startTestServer();
    dir = await mkdtemp(path.join(tmpdir(), 'stowage-cli-'));
    env = {
      STOWAGE_URL: ts.url,
      STOWAGE_TOKEN: await ts.token('cli-user'),
      HOME: dir,
      STOWAGE_TOKEN_INFO_PATH: path.join(dir, '.stowage', 'token_info.json'),
    };
  });
  after(async () => {
    await ts.close();
    await rm(dir, { recursive: true, force: true });
  });

  const run = (args: string[], input?: Buffer | string, extraEnv: Record<string, string> = {}): Promise<Run> => {
    const child = spawn(process.execPath, [CLI, ...args], {
      env: { ...process.env, ...env, ...extraEnv },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.stdin.end(input);
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout: Buffer.concat(stdout), stderr })));
  };

  test('set from a file and from a pipe; get to stdout and to a file', async () => {
    const file = path.join(dir, 'in.bin');
    const data = Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 256));
    await writeFile(file, data);
    assert.equal((await run(['set', 'bin/file', file])).code, 0);
    assert.equal((await run(['set', 'piped', '-'], 'from stdin')).code, 0);
    assert.equal((await run(['set', 'piped-implicit'], 'implicit stdin')).code, 0);
    assert.deepEqual((await run(['get', 'bin/file'])).stdout, data);
    assert.equal((await run(['get', 'piped', '-o', '-'])).stdout.toString(), 'from stdin');
    assert.equal((await run(['get', 'piped-implicit'])).stdout.toString(), 'implicit stdin');
    const out = path.join(dir, 'out.bin');
    const toFile = await run(['get', 'bin/file', '-o', out]);
    assert.equal(toFile.code, 0);
    assert.equal(toFile.stdout.length, 0, 'nothing but data on stdout');
    assert.deepEqual(await readFile(out), data);
  });

  test('storage types with -t', async () => {
    await run(['set', 'typed', '-t', 'tmp'], 'in tmp');
    assert.equal((await run(['get', 'typed', '-t', 'tmp'])).stdout.toString(), 'in tmp');
    assert.equal((await run(['get', 'typed'])).code, 1);
  });

  test('exists, rm and their exit codes', async () => {
    await run(['set', 'doomed'], 'x');
    assert.equal((await run(['exists', 'doomed'])).code, 0);
    const removed = await run(['rm', 'doomed', 'never-was']);
    assert.equal(removed.code, 1);
    assert.match(removed.stderr, /never-was: no such key/);
    assert.equal((await run(['exists', 'doomed'])).code, 1);
    const missing = await run(['get', 'doomed']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /No object/);
  });

  test('ls, ls -l and --json parse', async () => {
    for (const key of ['list/a', 'list/b', 'list/c']) await run(['set', key], key);
    assert.equal((await run(['ls', 'list/'])).stdout.toString(), 'list/a\nlist/b\nlist/c\n');
    assert.deepEqual(JSON.parse((await run(['ls', 'list/', '--json'])).stdout.toString()), ['list/a', 'list/b', 'list/c']);
    const long = JSON.parse((await run(['ls', 'list/', '-l', '--json', '--all'])).stdout.toString());
    assert.equal(long.length, 3);
    assert.deepEqual(Object.keys(long[0]).sort(), [
      'cacheControl',
      'contentDisposition',
      'etag',
      'key',
      'metadata',
      'modified',
      'sha256',
      'size',
      'type',
    ]);
    assert.ok(!Number.isNaN(Date.parse(long[0].modified)));
    assert.equal(long[0].size, 6);
    assert.match((await run(['ls', 'list/', '-l'])).stdout.toString(), /6 B\s+\d{4}-\d\d-\d\dT.*application\/octet-stream\s+list\/a/);
  });

  test('url and upload-url print URLs that work without credentials', async () => {
    await run(['set', 'shared'], 'shared bytes');
    const url = (await run(['url', 'shared', '--expires', '15m'])).stdout.toString().trim();
    assert.equal(await (await fetch(url)).text(), 'shared bytes');
    const uploadUrl = (await run(['upload-url', 'dropbox'])).stdout.toString().trim();
    assert.equal((await fetch(uploadUrl, { method: 'PUT', body: 'dropped' })).status, 200);
    assert.equal((await run(['get', 'dropbox'])).stdout.toString(), 'dropped');
  });

  test('cp -r copies a tree of 200 files up and back down, byte-equal', async () => {
    const tree = path.join(dir, 'tree');
    const files: Array<[string, Buffer]> = [];
    for (let i = 0; i < 200; i++) {
      const relative = path.join(`d${i % 7}`, `sub${i % 3}`, `file-${i}.bin`);
      const content = Buffer.alloc(100 + i * 37, i % 256);
      files.push([relative, content]);
      await mkdir(path.dirname(path.join(tree, relative)), { recursive: true });
      await writeFile(path.join(tree, relative), content);
    }
    const up = await run(['cp', tree, 'stowage://result/backup', '-r', '-j', '4']);
    assert.equal(up.code, 0, up.stderr);
    const listed = JSON.parse((await run(['ls', 'backup/', '-R', '--all', '--json', '-t', 'result'])).stdout.toString());
    assert.equal(listed.length, 200);
    const level = JSON.parse((await run(['ls', 'backup/', '--json', '-t', 'result'])).stdout.toString());
    assert.deepEqual(level, ['backup/d0/', 'backup/d1/', 'backup/d2/', 'backup/d3/', 'backup/d4/', 'backup/d5/', 'backup/d6/']);
    const copy = path.join(dir, 'copy');
    const down = await run(['cp', 'stowage://result/backup', copy, '-r']);
    assert.equal(down.code, 0, down.stderr);
    for (const [relative, content] of files) assert.deepEqual(await readFile(path.join(copy, relative)), content, relative);
  });

  test('single-file cp both ways', async () => {
    const file = path.join(dir, 'single.txt');
    await writeFile(file, 'one file');
    assert.equal((await run(['cp', file, 'stowage://data/singles/'])).code, 0);
    assert.equal((await run(['get', 'singles/single.txt'])).stdout.toString(), 'one file');
    const back = path.join(dir, 'single-back.txt');
    assert.equal((await run(['cp', 'stowage://data/singles/single.txt', back])).code, 0);
    assert.equal(await readFile(back, 'utf8'), 'one file');
  });

  test('--version prints the version of the stowage package', async () => {
    const manifest = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const result = await run([flag]);
      assert.equal(result.code, 0);
      assert.equal(result.stdout.toString(), `${manifest.version}\n`);
    }
  });

  test('usage errors exit 2, auth errors 3', async () => {
    assert.equal((await run(['get'])).code, 2);
    assert.equal((await run(['set', 'x', '-t', 'Not_A_Bucket'])).code, 2);
    assert.equal((await run(['frobnicate'])).code, 2);
    assert.equal((await run(['cp', 'a', 'b'])).code, 2);
    const denied = await run(['get', 'x', '--token', 'not.a.token']);
    assert.equal(denied.code, 3);
    assert.match(denied.stderr, /token/i);
    const nothing = await run(['ls'], undefined, { STOWAGE_TOKEN: '' });
    assert.equal(nothing.code, 3);
    assert.match(nothing.stderr, /STOWAGE_TOKEN/);
  });

  test('login stores credentials with mode 0600 and whoami reads them', async () => {
    const token = await ts.token('logged-in');
    assert.equal((await run(['login', '--token', token])).code, 0);
    const file = env.STOWAGE_TOKEN_INFO_PATH as string;
    assert.equal((await stat(file)).mode & 0o777, 0o600);
    const who = await run(['whoami'], undefined, { STOWAGE_TOKEN: '' });
    assert.equal(who.stdout.toString(), 'logged-in\n');
  });

  test('no progress output when stderr is not a terminal; a progress bar under a pseudo-terminal', async () => {
    const file = path.join(dir, 'progress.bin');
    await writeFile(file, Buffer.alloc(3 * 1024 * 1024, 1));
    const quiet = await run(['set', 'progress', file]);
    assert.equal(quiet.code, 0);
    assert.equal(quiet.stderr, '');
    const command = [process.execPath, CLI, 'set', 'progress-tty', file].map((part) => `'${part}'`).join(' ');
    const tty = spawn('script', ['-qec', command, '/dev/null'], { env: { ...process.env, ...env } });
    let output = '';
    tty.stdout.on('data', (chunk) => {
      output += chunk;
    });
    const code = await new Promise((resolve) => tty.on('close', resolve));
    assert.equal(code, 0, output);
    assert.match(output, /set progress-tty \[.*\] 100% \| 3\.0 MiB\/3\.0 MiB/);
  });
});
