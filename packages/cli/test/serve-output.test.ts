// What `stowage serve` (and so `npm start`) prints: for a person at a terminal, readable log lines
// and where the console is; for a log collector (stdout a pipe), one JSON object per log line.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CLI } from './helpers/run-cli.js';

/** Runs `child` until its output shows the console line and a first log entry; then stops it. */
function outputUntilServing(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`no start-up lines within 20 s:\n${output}`));
    }, 20_000);
    const take = (chunk: Buffer) => {
      output += chunk.toString();
      if (/Console: /.test(output) && /Server listening at/.test(output)) {
        clearTimeout(timer);
        child.kill('SIGTERM');
        child.once('close', () => resolve(output));
      }
    };
    child.stdout?.on('data', take);
    child.stderr?.on('data', take);
  });
}

describe('stowage serve output', () => {
  let dir: string;
  const env = () => {
    const clean: Record<string, string> = {};
    for (const [name, value] of Object.entries(process.env)) if (!name.startsWith('STOWAGE_') && value !== undefined) clean[name] = value;
    return clean;
  };
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'stowage-serve-output-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('on a terminal: readable lines, no JSON, and the console URL', async () => {
    const command = `${process.execPath} ${CLI} serve --port 0 --data-dir ${path.join(dir, 'tty')}`;
    const output = await outputUntilServing(spawn('script', ['-qec', command, '/dev/null'], { env: env() }));
    const serving = /Stowage is serving (http:\/\/\S+)\/storage\/v1/.exec(output);
    assert.ok(serving, output);
    assert.match(output, new RegExp(`Console: ${serving[1]}/console/`));
    assert.match(output, /INFO.*Server listening at/);
    assert.doesNotMatch(output, /\{"level"/, 'no raw JSON log lines on a terminal');
  });

  test('on a pipe: every log line is JSON, for a collector; --log-format pretty overrides', async () => {
    const json = await outputUntilServing(
      spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', path.join(dir, 'pipe')], { env: env() }),
    );
    const logLines = json.split('\n').filter((line) => line.startsWith('{'));
    assert.ok(logLines.length >= 1, json);
    for (const line of logLines) assert.equal(typeof JSON.parse(line).level, 'number');
    assert.match(json, /Console: http:\/\/127\.0\.0\.1:\d+\/console\//);
    const pretty = await outputUntilServing(
      spawn(process.execPath, [CLI, 'serve', '--port', '0', '--data-dir', path.join(dir, 'pipe'), '--log-format', 'pretty'], {
        env: env(),
      }),
    );
    assert.doesNotMatch(pretty, /\{"level"/);
    assert.match(pretty, /INFO.*Server listening at/);
  });
});
