// Progress of the transfer commands as people and scripts see it: on a terminal a bar and then
// one summary line for set (from a file or a pipe), get (to a file or a pipe) and cp -r; nothing
// off a terminal; --progress and --quiet to say otherwise.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { CLI, runCli } from './helpers/run-cli.js';

const quote = (part: string) => `'${part.replaceAll("'", "'\\''")}'`;

describe('stowage transfer progress', () => {
  let ts: TestServer;
  let dir: string;
  let env: Record<string, string>;
  before(async () => {
    ts = await startTestServer();
    dir = await mkdtemp(path.join(tmpdir(), 'stowage-progress-'));
    env = { STOWAGE_URL: ts.url, STOWAGE_TOKEN: await ts.token('progress'), HOME: dir };
    await writeFile(path.join(dir, 'big.bin'), Buffer.alloc(3 * 2 ** 20, 1));
    await mkdir(path.join(dir, 'tree', 'sub'), { recursive: true });
    for (let i = 0; i < 12; i++) await writeFile(path.join(dir, 'tree', i % 2 ? 'sub' : '', `f${i}.bin`), Buffer.alloc(50_000, i));
  });
  after(async () => {
    await ts.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A shell command line under a pseudo-terminal (script): what the terminal shows, and the exit code. */
  const onTerminal = (shellLine: string): Promise<{ code: number | null; shown: string }> => {
    const child = spawn('script', ['-qec', shellLine, '/dev/null'], { env: { ...process.env, ...env }, cwd: dir });
    let shown = '';
    child.stdout.on('data', (chunk) => (shown += chunk));
    return new Promise((resolve) => child.on('close', (code) => resolve({ code, shown: shown.replaceAll('\r', '\n') })));
  };
  const stowage = (...args: string[]) => [process.execPath, CLI, ...args].map(quote).join(' ');
  /** The summary line of a transfer: LABEL: WHAT in S s (RATE/s). */
  const summaryOf = (label: string, what: string) => new RegExp(`^${label}: ${what} in \\d+\\.\\d s \\([\\d.]+ \\w+/s\\)$`, 'm');

  test('on a terminal: set from a file and from a pipe, get to a file and to a pipe, each ends with a summary line', async () => {
    const fromFile = await onTerminal(stowage('set', 'big', 'big.bin'));
    assert.equal(fromFile.code, 0, fromFile.shown);
    assert.match(fromFile.shown, /set big \[.*\] 100% \| 3\.0 MiB\/3\.0 MiB/);
    assert.match(fromFile.shown, summaryOf('set big', '3\\.0 MiB'));
    const fromPipe = await onTerminal(`cat big.bin | ${stowage('set', 'piped')}`);
    assert.match(fromPipe.shown, summaryOf('set piped', '3\\.0 MiB'));
    const toFile = await onTerminal(stowage('get', 'big', '-o', 'copy.bin'));
    assert.match(toFile.shown, summaryOf('get big', '3\\.0 MiB'));
    const toPipe = await onTerminal(`${stowage('get', 'piped')} | wc -c`);
    assert.match(toPipe.shown, summaryOf('get piped', '3\\.0 MiB'));
    assert.match(toPipe.shown, /^\s*3145728\s*$/m, 'the bytes went down the pipe, the progress to the terminal');
  });

  test('cp -r counts files on a terminal and sums them up; --quiet says nothing', async () => {
    const up = await onTerminal(stowage('cp', '-r', 'tree', 'stowage://data/tree'));
    assert.equal(up.code, 0, up.shown);
    assert.match(up.shown, summaryOf('cp tree', '12 files, 585\\.9 KiB'));
    const down = await onTerminal(stowage('cp', '-r', 'stowage://data/tree', 'tree-copy'));
    assert.match(down.shown, summaryOf('cp stowage://data/tree', '12 files, 585\\.9 KiB'));
    const quiet = await onTerminal(stowage('cp', '-r', '-q', 'tree', 'stowage://data/tree-quiet'));
    assert.equal(quiet.code, 0);
    assert.equal(quiet.shown.trim(), '');
  });

  test('off a terminal nothing, unless --progress', async () => {
    const run = async (args: string[]) => {
      const { code, stderr } = await runCli(args, { env: { ...process.env, ...env }, cwd: dir });
      return { code, stderr };
    };
    assert.deepEqual(await run(['get', 'big']), { code: 0, stderr: '' });
    const forced = await run(['get', 'big', '--progress']);
    assert.equal(forced.code, 0);
    assert.match(forced.stderr, summaryOf('get big', '3\\.0 MiB'));
  });
});
