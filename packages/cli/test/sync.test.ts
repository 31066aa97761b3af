// `stowage sync` as users of `aws s3 sync`, `gsutil rsync` and `rclone sync` reach for it: only
// what is missing or different moves (a same-size edit included: sizes, then sha256), --delete
// removes what the source lacks, --exclude leaves paths alone on both sides, --dry-run changes
// nothing, and both directions hold.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { type CliRun, runCli } from './helpers/run-cli.js';

describe('stowage sync', () => {
  let ts: TestServer;
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    ts = await startTestServer();
    dir = await mkdtemp(path.join(tmpdir(), 'stowage-sync-'));
    env = { STOWAGE_URL: ts.url, STOWAGE_TOKEN: await ts.token('syncer'), HOME: dir };
  });
  after(async () => {
    await ts.close();
    await rm(dir, { recursive: true, force: true });
  });

  const run = (args: string[]): Promise<CliRun> => runCli(args, { env: { ...process.env, ...env }, cwd: dir });
  const sync = async (...args: string[]) => {
    const result = await run(['sync', ...args, '--json']);
    assert.equal(result.code, 0, result.stderr);
    return JSON.parse(result.stdout) as { copied: string[]; deleted: string[]; unchanged: number; excluded: number; dryRun: boolean };
  };
  const storedKeys = async (prefix: string) => (await run(['ls', '-R', '--all', prefix])).stdout.split('\n').filter(Boolean);
  const write = async (relative: string, text: string) => {
    const file = path.join(dir, 'site', relative);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, text);
  };

  test('up: first everything, then only what changed; --delete and --exclude; --dry-run changes nothing', async () => {
    await write('index.html', '<h1>v1</h1>');
    await write('css/site.css', 'body{}');
    await write('img/logo.svg', '<svg/>');
    await write('draft.tmp', 'scratch');
    const first = await sync('site', 'stowage://data/site', '--exclude', '*.tmp');
    assert.deepEqual(first.copied, ['css/site.css', 'img/logo.svg', 'index.html']);
    assert.equal(first.excluded, 1);
    assert.deepEqual(await storedKeys('site/'), ['site/css/site.css', 'site/img/logo.svg', 'site/index.html']);

    const again = await sync('site', 'stowage://data/site', '--exclude', '*.tmp');
    assert.deepEqual([again.copied, again.unchanged], [[], 3], 'nothing changed, nothing moves');

    // The same size with other bytes: only the sha256 tells them apart.
    await write('index.html', '<h1>v2</h1>');
    await rm(path.join(dir, 'site', 'img', 'logo.svg'));
    const planned = await sync('site', 'stowage://data/site', '--delete', '--exclude', '*.tmp', '--dry-run');
    assert.deepEqual([planned.dryRun, planned.copied, planned.deleted], [true, ['index.html'], ['img/logo.svg']]);
    assert.equal((await run(['get', 'site/index.html'])).stdout, '<h1>v1</h1>', 'a dry run writes nothing');
    assert.equal((await storedKeys('site/')).length, 3, 'and deletes nothing');

    // A stored key that matches --exclude is not deleted either.
    assert.equal((await run(['set', 'site/keep.tmp'])).code, 0);
    const applied = await sync('site', 'stowage://data/site', '--delete', '--exclude', '*.tmp');
    assert.deepEqual([applied.copied, applied.deleted], [['index.html'], ['img/logo.svg']]);
    assert.equal((await run(['get', 'site/index.html'])).stdout, '<h1>v2</h1>');
    assert.deepEqual(await storedKeys('site/'), ['site/css/site.css', 'site/index.html', 'site/keep.tmp']);
    const types = JSON.parse((await run(['ls', '-R', '-l', '--json', 'site/'])).stdout) as Array<{ key: string; type: string }>;
    assert.equal(types.find((row) => row.key === 'site/css/site.css')?.type, 'text/css');
  });

  test('down: into a new folder, then --delete removes local files the store lacks; lines say what was done', async () => {
    const target = path.join(dir, 'mirror');
    const first = await run(['sync', 'stowage://data/site', target]);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(first.stdout.split('\n').filter(Boolean).sort(), [
      `download: stowage://data/site/css/site.css to ${path.join(target, 'css', 'site.css')}`,
      `download: stowage://data/site/index.html to ${path.join(target, 'index.html')}`,
      `download: stowage://data/site/keep.tmp to ${path.join(target, 'keep.tmp')}`,
    ]);
    assert.equal(await readFile(path.join(target, 'index.html'), 'utf8'), '<h1>v2</h1>');
    await writeFile(path.join(target, 'local-only.txt'), 'mine');
    const kept = await sync('stowage://data/site', target);
    assert.deepEqual([kept.copied, kept.deleted], [[], []]);
    const pruned = await run(['sync', 'stowage://data/site', target, '--delete']);
    assert.equal(pruned.stdout, `delete: ${path.join(target, 'local-only.txt')}\n`);
    assert.deepEqual((await readdir(target)).sort(), ['css', 'index.html', 'keep.tmp']);
  });

  test('wrong calls exit 2: two local folders, two stored ones, a file as the source folder', async () => {
    assert.equal((await run(['sync', 'site', 'mirror'])).code, 2);
    assert.equal((await run(['sync', 'stowage://data/a', 'stowage://data/b'])).code, 2);
    const file = await run(['sync', path.join('site', 'index.html'), 'stowage://data/x']);
    assert.equal(file.code, 2);
    assert.match(file.stderr, /is not a folder/);
    const missing = await run(['sync', 'no-such-folder', 'stowage://data/x']);
    assert.equal(missing.code, 1);
  });
});
