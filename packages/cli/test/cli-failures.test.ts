// The CLI's answers when something is off, as a script or a person meets them: one table of exit
// codes (0 done, 1 not there, 2 wrong call, 3 not allowed, 4 failed, 141 reader gone), messages
// in the user's terms (no temp file names, no stack traces), content types from file names, and
// ls saying when a page is not everything.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { type CliRun, runCli } from './helpers/run-cli.js';

describe('stowage CLI failures, exit codes and content types', () => {
  let ts: TestServer;
  let dir: string;
  let env: Record<string, string>;
  let token: string;
  before(async () => {
    ts = await startTestServer();
    dir = await mkdtemp(path.join(tmpdir(), 'stowage-cli-failures-'));
    token = await ts.token('failures');
    env = { STOWAGE_URL: ts.url, STOWAGE_TOKEN: token, HOME: dir, STOWAGE_TOKEN_INFO_PATH: path.join(dir, 'token_info.json') };
  });
  after(async () => {
    await ts.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** The CLI with stdout a pipe; `closeStdout` closes the reading end before it writes anything. */
  const run = (args: string[], { input, extraEnv = {}, closeStdout = false }: RunOptions = {}): Promise<CliRun> =>
    runCli(args, { env: { ...process.env, ...env, ...extraEnv }, input, closeStdout });

  const put = async (key: string, body: string | Buffer) => {
    const answer = await fetch(`${ts.url}/data/set/${encodeURIComponent(key)}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}` },
      body,
    });
    assert.equal(answer.status, 200, await answer.text());
  };

  test('a reader that goes away ends the command quietly with 141, as SIGPIPE ends a Unix tool', async () => {
    await put('big.bin', Buffer.alloc(3 * 2 ** 20, 7));
    for (const args of [['get', 'big.bin'], ['stat', 'big.bin'], ['ls']]) {
      const cut = await run(args, { closeStdout: true });
      assert.equal(cut.code, 141, `${args.join(' ')}: ${cut.stderr}`);
      assert.equal(cut.stderr, '', `${args.join(' ')} says nothing on stderr`);
    }
  });

  test('content types come from the file name, or the key for stdin; --content-type wins', async () => {
    const tree = path.join(dir, 'site');
    await mkdir(path.join(tree, 'img'), { recursive: true });
    await writeFile(path.join(tree, 'index.html'), '<h1>hi</h1>');
    await writeFile(path.join(tree, 'img', 'logo.png'), Buffer.from([0x89, 0x50, 0x4e, 0x47]));
    await writeFile(path.join(tree, 'notes'), 'no extension');
    await writeFile(path.join(dir, 'table.csv'), 'a,b\n1,2\n');
    assert.equal((await run(['set', 'from-file', path.join(dir, 'table.csv')])).code, 0);
    assert.equal((await run(['set', 'piped.json'], { input: '{}' })).code, 0);
    assert.equal((await run(['set', 'forced.csv', path.join(dir, 'table.csv'), '--content-type', 'text/x-mine'])).code, 0);
    assert.equal((await run(['cp', '-r', tree, 'stowage://data/site'])).code, 0);
    const listed = await run(['ls', '-R', '-l', '--json']);
    const types = Object.fromEntries((JSON.parse(listed.stdout) as Array<{ key: string; type: string }>).map((row) => [row.key, row.type]));
    assert.equal(types['from-file'], 'text/csv');
    assert.equal(types['piped.json'], 'application/json');
    assert.equal(types['forced.csv'], 'text/x-mine');
    assert.equal(types['site/index.html'], 'text/html');
    assert.equal(types['site/img/logo.png'], 'image/png');
    assert.equal(types['site/notes'], 'application/octet-stream');
  });

  test('what is not there exits 1 with a message in the user terms, whatever the command', async () => {
    const stat = await run(['stat', 'never-was']);
    assert.deepEqual([stat.code, stat.stderr], [1, 'stowage stat: No object at data/never-was\n']);
    const get = await run(['get', 'never-was']);
    assert.equal(get.code, 1);
    assert.match(get.stderr, /^stowage get: No object at data\/never-was/);
    const missingFile = path.join(dir, 'no-such-file');
    const set = await run(['set', 'k', missingFile]);
    assert.deepEqual([set.code, set.stderr], [1, `stowage set: ${missingFile}: no such file or directory\n`]);
    const cp = await run(['cp', missingFile, 'stowage://data/k']);
    assert.deepEqual([cp.code, cp.stderr], [1, `stowage cp: ${missingFile}: no such file or directory\n`]);
    // The value is written beside the output first: the message names the directory, not that file.
    await put('present', 'here');
    const nowhere = path.join(dir, 'no-dir', 'out');
    const into = await run(['get', 'present', '-o', nowhere]);
    assert.deepEqual([into.code, into.stderr], [1, `stowage get: ${path.dirname(nowhere)}: no such file or directory\n`]);
    assert.deepEqual(
      (await readdir(dir)).filter((name) => name.includes('.part')),
      [],
    );
  });

  test('a wrong call exits 2 and says how to make it right', async () => {
    const badKey = await run(['set', 'bad\u0001key'], { input: 'x' });
    assert.equal(badKey.code, 2);
    assert.match(badKey.stderr, /control characters/);
    const tooLong = await run(['url', 'present', '--expires', '30d']);
    assert.deepEqual(
      [tooLong.code, tooLong.stderr],
      [2, 'stowage url: --expires 30d is longer than this server signs URLs for: at most 7d\n'],
    );
    const notADuration = await run(['url', 'present', '--expires', 'soon']);
    assert.equal(notADuration.code, 2);
    assert.match(notADuration.stderr, /^stowage url: --expires: /);
    const noApi = await run(['ls'], { extraEnv: { STOWAGE_URL: ts.origin } });
    assert.equal(noApi.code, 2);
    assert.match(noApi.stderr, new RegExp(`${ts.origin} is not the storage API; its URL ends in /storage/v1`));
    await put('folder/a', 'a');
    const mv = await run(['mv', 'folder', 'elsewhere']);
    assert.deepEqual([mv.code, mv.stderr], [2, 'stowage mv: data/folder is a folder: use -r to move every key under it\n']);
    const removed = await run(['rm', '-r', 'folder']);
    assert.deepEqual([removed.code, removed.stdout], [0, 'folder/: 1 key, 1 B (1 bytes) deleted\n']);
  });

  test('ls says on stderr when one page is not everything, and --all lists it all', async () => {
    const keys = Array.from({ length: 1001 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
    for (let at = 0; at < keys.length; at += 50) await Promise.all(keys.slice(at, at + 50).map((key) => put(key, 'x')));
    const page = await run(['ls', 'many/']);
    assert.equal(page.code, 0);
    assert.equal(page.stdout.split('\n').filter(Boolean).length, 1000);
    assert.match(page.stderr, /the first 1000 entries; there are more: --all lists every one/);
    const all = await run(['ls', 'many/', '--all']);
    assert.equal(all.stdout.split('\n').filter(Boolean).length, 1001);
    assert.equal(all.stderr, '');
    await run(['rm', 'many/1000']);
    const exact = await run(['ls', 'many/']);
    assert.equal(exact.stdout.split('\n').filter(Boolean).length, 1000);
    assert.equal(exact.stderr, '', 'exactly one page: nothing more to say');
  });
});

interface RunOptions {
  input?: string;
  extraEnv?: Record<string, string>;
  closeStdout?: boolean;
}

describe('every storage command answers the same failures the same way', () => {
  let ts: TestServer;
  let home: string;
  before(async () => {
    ts = await startTestServer();
    home = await mkdtemp(path.join(tmpdir(), 'stowage-cli-table-'));
  });
  after(async () => {
    await ts.close();
    await rm(home, { recursive: true, force: true });
  });

  // Each command with arguments that would otherwise work.
  const COMMANDS: string[][] = [
    ['set', 'k'],
    ['get', 'k'],
    ['rm', 'k'],
    ['exists', 'k'],
    ['ls'],
    ['stat', 'k'],
    ['du'],
    ['mv', 'a', 'b'],
    ['url', 'k'],
    ['upload-url', 'k'],
    ['cp', 'stowage://data/a', 'stowage://data/b'],
    ['sync', '.', 'stowage://data/synced', '--dry-run'],
    ['restore', 'k'],
    ['versions'],
    ['whoami'],
    ['keys', 'ls'],
    ['bucket', 'ls'],
  ];
  const clean = () => {
    const env: Record<string, string | undefined> = { ...process.env, HOME: home };
    for (const name of Object.keys(env)) if (name.startsWith('STOWAGE_') || name.startsWith('DESCARTESLABS_')) delete env[name];
    return env;
  };

  test('without credentials: exit 3, one line naming the command and how to sign in', async () => {
    for (const args of COMMANDS) {
      const result = await runCli(args, { env: { ...clean(), STOWAGE_URL: ts.url }, cwd: home, input: 'x' });
      const name = args[0] === 'keys' || args[0] === 'bucket' ? `${args[0]} ${args[1]}` : args[0];
      assert.equal(result.code, 3, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, new RegExp(`^stowage ${name}: No storage credentials found\\..*stowage login`), args.join(' '));
      assert.equal(result.stderr.split('\n').filter(Boolean).length, 1, `${args.join(' ')}: one line, no stack`);
    }
  });

  test('a URL that is not the API: exit 2, and the message says what the URL should end in', async () => {
    for (const args of COMMANDS) {
      const result = await runCli(args, {
        env: { ...clean(), STOWAGE_URL: ts.origin, STOWAGE_TOKEN: await ts.token('table') },
        cwd: home,
        input: 'x',
      });
      assert.equal(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, /is not the storage API; its URL ends in \/storage\/v1/, args.join(' '));
    }
  });
});
