// `stowage keys ls|create|revoke` for a signed-in user: a scoped key made from the shell works
// within its scope and nowhere else, is listed without its secret, and stops once revoked.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { runCli } from './helpers/run-cli.js';

describe('stowage keys', () => {
  let ts: TestServer;
  let home: string;
  let env: Record<string, string | undefined>;
  before(async () => {
    ts = await startTestServer();
    home = await mkdtemp(path.join(tmpdir(), 'stowage-keys-'));
    env = { ...process.env, STOWAGE_URL: ts.url, STOWAGE_TOKEN: await ts.token('carol'), HOME: home, STOWAGE_PROFILE: undefined };
  });
  after(async () => {
    await ts.close();
    await rm(home, { recursive: true, force: true });
  });
  const run = (args: string[], extra: Record<string, string | undefined> = {}, input?: string) =>
    runCli(args, { env: { ...env, ...extra }, input });

  test('a read-only key of one folder, made, used, listed and revoked from the shell', async () => {
    assert.equal((await run(['set', 'reports/q1.csv'], {}, 'a,b')).code, 0);
    assert.equal((await run(['set', 'private/notes.txt'], {}, 'mine')).code, 0);
    const created = await run(['keys', 'create', '--name', 'dashboard', '--read-only', '--prefix', 'reports/', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const key = JSON.parse(created.stdout) as { client_id: string; client_secret: string; scope: unknown };
    assert.deepEqual(key.scope, { readOnly: true, prefix: 'reports/' });

    // The key signs in as its own profile, with no token of carol's around.
    const asKey = { STOWAGE_TOKEN: undefined, STOWAGE_PROFILE: 'dashboard' };
    const login = await run(['login', '--client-id', key.client_id, '--client-secret', key.client_secret], asKey);
    assert.equal(login.code, 0, login.stderr);
    assert.equal((await run(['get', 'reports/q1.csv'], asKey)).stdout, 'a,b');
    const write = await run(['set', 'reports/q2.csv'], asKey, 'x');
    assert.equal(write.code, 3, 'a read-only key may not write');
    assert.match(write.stderr, /AccessDenied|not/i);
    assert.equal((await run(['get', 'private/notes.txt'], asKey)).code, 3, 'outside its folder');
    assert.equal((await run(['keys', 'ls'], asKey)).code, 3, 'a scoped key manages no keys');

    const listed = await run(['keys', 'ls']);
    assert.match(listed.stdout, new RegExp(`^${key.client_id}  \\S+  active  read-only, prefix reports/  dashboard$`, 'm'));
    assert.equal(listed.stdout.includes(key.client_secret), false);

    assert.equal((await run(['keys', 'revoke', key.client_id])).code, 0);
    assert.match((await run(['keys', 'ls'])).stdout, new RegExp(`^${key.client_id}  \\S+  revoked \\S+`, 'm'));
    const again = await run(['login', '--client-id', key.client_id, '--client-secret', key.client_secret], asKey);
    assert.equal(again.code, 3, 'a revoked key gets no token');
    assert.equal((await run(['keys', 'revoke', 'stw_not_mine'])).code, 1);
  });

  test('a scope that cannot be is a wrong call (exit 2), and makes no key', async () => {
    const before = (await run(['keys', 'ls', '--json'])).stdout;
    const noSlash = await run(['keys', 'create', '--prefix', 'reports']);
    assert.deepEqual([noSlash.code, noSlash.stderr], [2, 'stowage: --prefix is a folder: end it with / ("reports/")\n']);
    assert.equal((await run(['keys', 'create', '--bucket', 'Not_A_Bucket'])).code, 2);
    assert.equal((await run(['keys', 'ls', '--json'])).stdout, before);
  });
});
