// `stowage login` checks credentials before it saves them, saves the server's URL with them, and
// keeps named profiles apart: the next command goes where the login went, with no variables set.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { type CliRun, runCli } from './helpers/run-cli.js';

describe('stowage login and profiles', () => {
  let ts: TestServer;
  let home: string;
  let defaultFile: string;
  before(async () => {
    ts = await startTestServer();
    home = await mkdtemp(path.join(tmpdir(), 'stowage-login-'));
    defaultFile = path.join(home, '.stowage', 'token_info.json');
  });
  after(async () => {
    await ts.close();
    await rm(home, { recursive: true, force: true });
  });

  /** The CLI with a HOME of its own and no STOWAGE_* variables: only what login saved. */
  const run = (args: string[], extraEnv: Record<string, string> = {}): Promise<CliRun> => {
    const env: Record<string, string> = { HOME: home };
    for (const [name, value] of Object.entries(process.env))
      if (!name.startsWith('STOWAGE_') && !name.startsWith('DESCARTESLABS_') && name !== 'HOME' && value !== undefined) env[name] = value;
    return runCli(args, { env: { ...env, ...extraEnv } });
  };
  const exists = (file: string) =>
    stat(file).then(
      () => true,
      () => false,
    );

  test('a token the server refuses is not saved, and exits 3', async () => {
    const refused = await run(['login', '--url', ts.url, '--token', 'garbage']);
    assert.equal(refused.code, 3, refused.stderr);
    assert.match(refused.stderr, /^stowage login: /);
    assert.equal(await exists(defaultFile), false, 'nothing saved');
  });

  test('a server that does not answer is said, and nothing is saved (exit 4)', async () => {
    const unreachable = await run(['login', '--url', 'http://127.0.0.1:9/storage/v1', '--token', await ts.token('alice')]);
    assert.equal(unreachable.code, 4, unreachable.stderr);
    assert.equal(await exists(defaultFile), false);
  });

  test('login saves the URL with the token: the next command goes there with nothing set', async () => {
    const logged = await run(['login', '--url', ts.url, '--token', await ts.token('alice')]);
    assert.equal(logged.code, 0, logged.stderr);
    assert.equal(logged.stderr, `Logged in to ${ts.url} as alice; saved to ${defaultFile}\n`);
    assert.equal((await stat(defaultFile)).mode & 0o777, 0o600);
    assert.equal(JSON.parse(await readFile(defaultFile, 'utf8')).url, ts.url);
    const who = await run(['whoami']);
    assert.equal(who.code, 0, who.stderr);
    assert.equal(who.stdout, 'alice\n');
    assert.match(who.stderr, new RegExp(`server: ${ts.url}`));
    assert.equal((await run(['set', 'greeting'])).code, 0);
  });

  test('named profiles keep their own server and user; --profile and STOWAGE_PROFILE pick one', async () => {
    const second = await startTestServer();
    try {
      const logged = await run(['login', '--profile', 'staging', '--url', second.url, '--token', await second.token('bob')]);
      assert.equal(logged.code, 0, logged.stderr);
      assert.equal((await run(['whoami', '--profile', 'staging'])).stdout, 'bob\n');
      const byEnv = await run(['whoami', '--json'], { STOWAGE_PROFILE: 'staging' });
      assert.deepEqual([JSON.parse(byEnv.stdout).user, JSON.parse(byEnv.stdout).server], ['bob', second.url]);
      assert.equal((await run(['whoami'])).stdout, 'alice\n', 'the default profile is unchanged');
      const badName = await run(['whoami', '--profile', '../etc']);
      assert.equal(badName.code, 2);
      assert.match(badName.stderr, /not a profile name/);
      const missing = await run(['whoami', '--profile', 'never-saved']);
      assert.equal(missing.code, 3, 'a profile never saved has no credentials');
    } finally {
      await second.close();
    }
  });
});
