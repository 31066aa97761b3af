// Guards the CLI's folder, batch, copy/move and metadata commands as users run them: the real
// binary against a real server. ls shows one level with folders (and -R everything), ls -l reads
// details from the listing, rm -r and its --all guard, rm of many keys, du per type with -h, mv and
// server-side cp with -r and conflicts, stat with metadata, and set --meta with non-ASCII values.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';

const CLI = fileURLToPath(new URL('../bin/stowage.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('stowage folders, batch operations, copy and move, metadata', () => {
  let ts: TestServer;
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    ts = await startTestServer();
    dir = await mkdtemp(path.join(tmpdir(), 'stowage-cli-folders-'));
    env = {
      STOWAGE_URL: ts.url,
      STOWAGE_TOKEN: await ts.token('cli-folders'),
      HOME: dir,
      STOWAGE_TOKEN_INFO_PATH: path.join(dir, '.stowage', 'token_info.json'),
    };
  });
  after(async () => {
    await ts.close();
    await rm(dir, { recursive: true, force: true });
  });

  const run = (args: string[], input?: string): Promise<Run> => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
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
  const ok = async (args: string[], input?: string): Promise<string> => {
    const result = await run(args, input);
    assert.equal(result.code, 0, `stowage ${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };

  test('ls shows one level with folders; -R every key; -l from the detailed listing', async () => {
    for (const key of ['tree/a.txt', 'tree/sub/b.txt', 'tree/sub/deeper/c.txt', 'tree/z.txt']) await ok(['set', key], key);
    assert.equal(await ok(['ls', 'tree/']), 'tree/a.txt\ntree/sub/\ntree/z.txt\n');
    assert.deepEqual(JSON.parse(await ok(['ls', 'tree/', '--json'])), ['tree/a.txt', 'tree/sub/', 'tree/z.txt']);
    assert.equal(await ok(['ls', 'tree/', '-R']), 'tree/a.txt\ntree/sub/b.txt\ntree/sub/deeper/c.txt\ntree/z.txt\n');
    assert.equal(await ok(['ls', 'tree/', '--recursive', '--all']), 'tree/a.txt\ntree/sub/b.txt\ntree/sub/deeper/c.txt\ntree/z.txt\n');
    assert.equal(await ok(['ls']), 'tree/\n');

    const long = await ok(['ls', 'tree/', '-l']);
    assert.match(long, /10 B\s+\d{4}-\d\d-\d\dT\S+\s+text\/plain\s+tree\/a\.txt\n\s+-\s+folder\s+tree\/sub\/\n/);
    const rows = JSON.parse(await ok(['ls', 'tree/', '-l', '--json']));
    assert.deepEqual(rows[1], { key: 'tree/sub/', folder: true });
    assert.equal(rows[0].key, 'tree/a.txt');
    assert.equal(rows[0].size, 10);
    assert.match(rows[0].sha256, /^[0-9a-f]{64}$/);
    const recursiveRows = JSON.parse(await ok(['ls', 'tree/', '-R', '-l', '--json']));
    assert.deepEqual(
      recursiveRows.map((row: { key: string }) => row.key),
      ['tree/a.txt', 'tree/sub/b.txt', 'tree/sub/deeper/c.txt', 'tree/z.txt'],
    );
  });

  test('ls pages: one page of 1000 entries, --all for every one', async () => {
    const keys = Array.from({ length: 1003 }, (_, i) => `many/${String(i).padStart(4, '0')}`);
    const { Storage, Auth, Retry } = await import('stowage-client');
    const storage = new Storage({ url: ts.url, auth: new Auth({ token: env.STOWAGE_TOKEN, env: {} }), retries: Retry.none() });
    try {
      let next = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (next < keys.length) await storage.set(keys[next++] as string, 'x');
        }),
      );
    } finally {
      await storage.close();
    }
    assert.equal(JSON.parse(await ok(['ls', 'many/', '--json'])).length, 1000);
    assert.deepEqual(JSON.parse(await ok(['ls', 'many/', '--all', '--json'])), keys);
    assert.equal(JSON.parse(await ok(['ls', 'many/', '--all', '-l', '--json'])).length, 1003);
    assert.equal(await ok(['rm', '-r', 'many']), 'many/: 1003 keys, 1003 B (1003 bytes) deleted\n');
  });

  test('set --meta, --cache-control, --content-disposition; stat prints them', async () => {
    await ok(
      ['set', 'photo.jpg', '--content-type', 'image/jpeg', '--meta', 'camera=X100', '--meta', 'city=København', '--meta', 'note=a=b'],
      'jpeg',
    );
    await ok(['set', 'page.html', '--cache-control', 'max-age=60', '--content-disposition', 'inline'], '<p>');
    const text = await ok(['stat', 'photo.jpg']);
    assert.match(text, /^key:\s+photo\.jpg$/m);
    assert.match(text, /^size:\s+4 bytes \(4 B\)$/m);
    assert.match(text, /^content type:\s+image\/jpeg$/m);
    assert.match(text, /^expires:\s+never$/m);
    assert.match(text, /^meta camera:\s+X100$/m);
    assert.match(text, /^meta city:\s+København$/m);
    assert.match(text, /^meta note:\s+a=b$/m);
    const json = JSON.parse(await ok(['stat', 'photo.jpg', '--json']));
    assert.deepEqual(json.metadata, { camera: 'X100', city: 'København', note: 'a=b' });
    assert.equal(json.size, 4);
    assert.match(json.sha256, /^[0-9a-f]{64}$/);
    assert.equal(json.etag, `"${json.sha256}"`);
    const page = JSON.parse(await ok(['stat', 'page.html', '--json']));
    assert.equal(page.cacheControl, 'max-age=60');
    assert.equal(page.contentDisposition, 'inline');
    await ok(['set', 'gone-soon', '-t', 'tmp'], 'x');
    const tmp = JSON.parse(await ok(['stat', 'gone-soon', '-t', 'tmp', '--json']));
    assert.equal(tmp.storageType, 'tmp');
    assert.ok(Date.parse(tmp.expiresAt) > Date.now());
    await ok(['rm', 'gone-soon', '-t', 'tmp']);

    const missing = await run(['stat', 'never-was']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^stowage stat: /);
    const badMeta = await run(['set', 'x', '--meta', 'novalue'], 'x');
    assert.equal(badMeta.code, 2);
    assert.match(badMeta.stderr, /NAME=VALUE/);
    const badName = await run(['set', 'x', '--meta', 'Bad Name=1'], 'x');
    assert.equal(badName.code, 2, 'a value the server refuses as invalid is a wrong call');
    assert.match(badName.stderr, /metadata name/);
  });

  test('rm of many keys reports the missing ones; rm -r deletes a folder; an empty prefix needs --all', async () => {
    for (const key of ['r/a', 'r/b', 'r/sub/c', 'r-sibling']) await ok(['set', key], 'four');
    const removed = await run(['rm', 'r/a', 'r/never-was', 'r/b']);
    assert.equal(removed.code, 1);
    assert.match(removed.stderr, /r\/never-was: no such key/);
    assert.equal(await ok(['ls', 'r/', '-R']), 'r/sub/c\n');

    assert.equal(await ok(['rm', '-r', 'r']), 'r/: 1 key, 4 B (4 bytes) deleted\n');
    assert.equal(await ok(['exists', 'r-sibling']), '', 'a prefix is a folder: r-sibling stays');

    await ok(['set', 'scratch/1', '-t', 'tmp'], 'x');
    const refused = await run(['rm', '-r', '-t', 'tmp']);
    assert.equal(refused.code, 2);
    assert.match(refused.stderr, /--all/);
    assert.equal((await run(['rm', '-r', '', '-t', 'tmp'])).code, 2);
    assert.equal((await run(['rm'])).code, 2);
    assert.deepEqual(JSON.parse(await ok(['rm', '-r', '--all', '-t', 'tmp', '--json'])), [{ prefix: '', deleted: 1, bytes: 1 }]);
    assert.equal(await ok(['ls', '-t', 'tmp']), '');
    assert.equal((await run(['exists', 'r-sibling'])).code, 0, 'other types untouched');
  });

  test('du counts per storage type with a total, -h, -t and --json', async () => {
    await ok(['set', 'du/a'], 'x'.repeat(1000));
    await ok(['set', 'du/b/c'], 'x'.repeat(2000));
    await ok(['set', 'du/t', '-t', 'tmp'], 'x'.repeat(48));
    assert.equal(
      await ok(['du', 'du/']),
      '3000\t2 objects\tstowage://data/du/\n48\t1 objects\tstowage://tmp/du/\n0\t0 objects\tstowage://result/du/\n3048\t3 objects\ttotal\n',
    );
    assert.equal(
      await ok(['du', 'du/', '-h']),
      '2.9 KiB\t2 objects\tstowage://data/du/\n48 B\t1 objects\tstowage://tmp/du/\n0 B\t0 objects\tstowage://result/du/\n3.0 KiB\t3 objects\ttotal\n',
    );
    assert.equal(await ok(['du', 'du/', '-t', 'tmp']), '48\t1 objects\tstowage://tmp/du/\n');
    assert.deepEqual(JSON.parse(await ok(['du', 'du/b/', '--json'])), {
      prefix: 'du/b/',
      objects: 1,
      bytes: 2000,
      types: { data: { objects: 1, bytes: 2000 }, tmp: { objects: 0, bytes: 0 }, result: { objects: 0, bytes: 0 } },
    });
    assert.deepEqual(JSON.parse(await ok(['du', 'du/', '-t', 'data', '--json'])), { type: 'data', prefix: 'du/', objects: 2, bytes: 3000 });
    assert.match(await ok(['du', '--help']), /--human-readable/);
  });

  test('mv moves a key or a tree on the server; conflicts refuse, or skip with -r, unless -f', async () => {
    await ok(['set', 'mv/one'], 'first');
    await ok(['mv', 'mv/one', 'mv/two']);
    assert.equal((await run(['exists', 'mv/one'])).code, 1);
    assert.equal(await ok(['get', 'mv/two']), 'first');
    await ok(['mv', 'mv/two', 'stowage://result/archive/']);
    assert.equal(await ok(['get', 'archive/two', '-t', 'result']), 'first');

    await ok(['set', 'mv/three'], 'third');
    await ok(['set', 'mv/four'], 'fourth');
    const conflict = await run(['mv', 'mv/three', 'mv/four']);
    assert.equal(conflict.code, 4);
    assert.match(conflict.stderr, /^stowage mv: /);
    await ok(['mv', 'mv/three', 'mv/four', '-f']);
    assert.equal(await ok(['get', 'mv/four']), 'third');
    assert.equal((await run(['mv', 'mv/never-was', 'mv/x'])).code, 1);

    for (const key of ['drafts/a', 'drafts/b/c', 'published/a']) await ok(['set', key], key);
    const tree = await run(['mv', '-r', 'drafts', 'published']);
    assert.equal(tree.code, 4, 'one key was skipped');
    assert.equal(tree.stdout, '1 key, 10 B (10 bytes) moved\n');
    assert.match(tree.stderr, /1 key not moved, the target exists \(use --overwrite\): drafts\/a/);
    assert.equal(await ok(['get', 'published/b/c']), 'drafts/b/c');
    assert.deepEqual(JSON.parse(await ok(['mv', '-r', 'drafts/', 'published/', '--overwrite', '--json'])), {
      objects: 1,
      bytes: 8,
      skipped: 0,
      skippedKeys: [],
    });
    assert.equal(await ok(['get', 'published/a']), 'drafts/a');
    assert.equal(await ok(['ls', 'drafts/', '-R']), '');
  });

  test('cp between two stowage:// paths copies on the server; the copy outlives its source', async () => {
    await ok(['set', 'site/index.html', '--content-type', 'text/html', '--meta', 'lang=fr'], '<h1>');
    await ok(['set', 'site/css/a.css'], 'body{}');
    await ok(['cp', 'stowage://data/site/index.html', 'stowage://result/']);
    assert.equal(await ok(['get', 'index.html', '-t', 'result']), '<h1>');
    assert.deepEqual(JSON.parse(await ok(['stat', 'index.html', '-t', 'result', '--json'])).metadata, { lang: 'fr' });

    await ok(['cp', 'stowage://data/site', 'stowage://result/site-backup', '-r']);
    await ok(['rm', '-r', 'site/']);
    assert.equal(await ok(['ls', 'site-backup/', '-R', '-t', 'result']), 'site-backup/css/a.css\nsite-backup/index.html\n');
    assert.equal(await ok(['get', 'site-backup/css/a.css', '-t', 'result']), 'body{}');
    await ok(['set', 'site-backup/index.html', '-t', 'result'], 'changed');
    await ok(['cp', 'stowage://result/index.html', 'stowage://result/site-backup/index.html']);
    assert.equal(await ok(['get', 'site-backup/index.html', '-t', 'result']), '<h1>', 'cp replaces, as every cp does');
    assert.equal((await run(['cp', 'stowage://data/', 'stowage://result/x'])).code, 2, 'a whole type needs -r');
  });
});
