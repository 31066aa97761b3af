// Guards `stowage quota set|show` and `stowage whoami` as users run them: the real binary, a real
// server on the same data directory. A quota set while the server runs applies to its next
// write; whoami keeps stdout to the user name (for `$(stowage whoami)`) and reports usage, quota
// and rate limit on stderr, or all of it as JSON with --json.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../../server/test/helpers/server-process.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';

const CLI = fileURLToPath(new URL('../bin/stowage.js', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

describe('stowage quota and whoami', () => {
  let ts: TestServer;
  let env: Record<string, string>;
  before(async () => {
    ts = await startTestServer({ rateLimitPerSecond: 100, rateLimitBurst: 200 });
    env = {
      ...ts.env,
      STOWAGE_URL: ts.url,
      STOWAGE_TOKEN: await ts.token('quota-user'),
      STOWAGE_DATA_DIR: ts.dataDir,
      STOWAGE_QUOTA: '',
    };
  });
  after(() => ts.close());

  const run = (args: string[], extraEnv: Record<string, string> = {}): Promise<Run> =>
    runProcess(process.execPath, [CLI, ...args], { env: { ...env, ...extraEnv } });

  test('quota set applies to the running server; show reports usage; default follows STOWAGE_QUOTA', async () => {
    const set = await run(['quota', 'set', '--user', 'quota-user', '--bytes', '1KiB', '--json']);
    assert.equal(set.code, 0, set.stderr);
    assert.deepEqual(JSON.parse(set.stdout), {
      tenant: 'quota-user',
      bytes: 0,
      objects: 0,
      pendingUploadBytes: 0,
      quotaBytes: 1024,
      quotaSource: 'tenant',
    });

    assert.equal((await run(['set', 'small', '-'])).code, 0);
    const big = path.join(ts.dataDir, 'big-input');
    await writeFile(big, Buffer.alloc(2000));
    const refused = await run(['set', 'big', big]);
    assert.equal(refused.code, 3, 'QuotaExceeded is a 403: exit code 3');
    assert.match(refused.stderr, /quota/);

    const shown = await run(['quota', 'show', '--user', 'quota-user']);
    assert.equal(shown.code, 0);
    assert.match(shown.stdout, /quota: 1\.0 KiB \(1024 bytes\)\n/);
    assert.match(shown.stdout, /stored: 0 B \(0 bytes\) in 1 objects/);

    const back = await run(['quota', 'set', '--user', 'quota-user', '--bytes', 'default', '--json'], { STOWAGE_QUOTA: '5MiB' });
    assert.equal(JSON.parse(back.stdout).quotaSource, 'default');
    assert.equal(JSON.parse(back.stdout).quotaBytes, 5 * 1024 * 1024);
    const bad = await run(['quota', 'set', '--user', 'quota-user', '--bytes', 'lots']);
    assert.equal(bad.code, 2, 'a bad size is a usage error');
    assert.match(bad.stderr, /not a size/);
  });

  test('whoami: the user on stdout, usage, quota and rate limit on stderr; --json on stdout', async () => {
    await run(['quota', 'set', '--user', 'quota-user', '--bytes', '10MiB']);
    const who = await run(['whoami']);
    assert.equal(who.code, 0, who.stderr);
    assert.equal(who.stdout, 'quota-user\n');
    assert.match(who.stderr, /stored: .* in 1 objects/);
    assert.match(who.stderr, /quota: 10\.0 MiB \(10485760 bytes\)/);
    assert.match(who.stderr, /rate limit: 100 requests\/s, burst 200/);

    const json = await run(['whoami', '--json']);
    assert.equal(json.code, 0);
    const report = JSON.parse(json.stdout);
    assert.equal(report.user, 'quota-user');
    assert.equal(report.server, ts.url);
    assert.deepEqual(report.usage, {
      bytes: 0,
      objects: 1,
      pendingUploadBytes: 0,
      quotaBytes: 10 * 1024 * 1024,
      retainedBytes: 0,
      rateLimit: { requestsPerSecond: 100, burst: 200 },
    });
  });

  test('whoami with a token the server refuses exits 3 and says why', async () => {
    const who = await run(['whoami'], { STOWAGE_TOKEN: 'not-a-token' });
    assert.equal(who.code, 3);
    assert.match(who.stderr, /usage unavailable/);
  });
});
