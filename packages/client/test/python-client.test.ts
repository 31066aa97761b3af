// Guards the Python client (clients/python): its pytest suite runs against a real server of this
// deployment, and the README's Python example runs as written. The venv comes from
// scripts/services/python-client.sh, which installs the packages from this checkout.
//
//   STOWAGE_TEST_PYTHON_CLIENT  1: no venv is an error (CI), 0: these tests skip; unset: they skip
//                               with a reason when python3 with venv and pip is missing
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { deployment } from '../../server/test/helpers/deployment.js';
import { docBlock, REPOSITORY_ROOT } from '../../server/test/helpers/doc-blocks.js';
import { runProcess } from '../../server/test/helpers/server-process.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';

const mode = process.env.STOWAGE_TEST_PYTHON_CLIENT;

/** The venv's python, with this checkout's packages freshly installed; or why there is none. */
function setUpPython(): { python?: string; skip: string | false } {
  if (mode === '0') return { skip: 'Python client tests turned off (STOWAGE_TEST_PYTHON_CLIENT=0)' };
  const setup = spawnSync('bash', [path.join(REPOSITORY_ROOT, 'scripts/services/python-client.sh')], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (setup.status === 0) return { python: setup.stdout.trim(), skip: false };
  const reason = `no venv for the Python client: ${setup.stderr.trim() || setup.error?.message}`;
  if (mode === '1') throw new Error(`STOWAGE_TEST_PYTHON_CLIENT=1 but ${reason}`);
  return { skip: reason };
}

const { python, skip } = setUpPython();
// The install takes packages from pip's index and touches no server: once, on the embedded pass.
const installSkip = deployment === 'embedded' ? false : 'the install does not depend on the deployment';

/** Runs a python with only the given environment (nothing of the machine's credentials). */
async function runPython(args: string[], env: Record<string, string>, interpreter = python as string) {
  const home = await mkdtemp(path.join(tmpdir(), 'stowage-python-home-'));
  try {
    const base = [`HOME=${home}`, `TMPDIR=${tmpdir()}`, `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`, 'PYTHONDONTWRITEBYTECODE=1'];
    const vars = Object.entries(env).map(([name, value]) => `${name}=${value}`);
    return await runProcess('/usr/bin/env', ['-i', ...base, ...vars, interpreter, ...args], { cwd: REPOSITORY_ROOT });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

describe('Python client against a real server', { skip }, () => {
  let ts: TestServer;
  before(async () => {
    // The cutting proxy of the resumable tests is another port of 127.0.0.1: upload URLs may name it.
    // A long upload request is made durable every MiB, so the suite can cut one between checkpoints.
    ts = await startTestServer({ allowedHosts: [{ name: '127.0.0.1', port: undefined }], uploadCheckpointBytes: 1024 * 1024 });
  });
  after(() => ts.close());

  test('its pytest suite passes: the storage API v1 methods, auth, retries, extensions, drop-in imports', async () => {
    const key = await ts.server.createApiKey('carol');
    const { code, stdout, stderr } = await runPython(['-m', 'pytest', '-q', '-p', 'no:cacheprovider', 'clients/python/tests'], {
      STOWAGE_TEST_URL: ts.url,
      STOWAGE_TEST_TOKEN: await ts.token('alice'),
      STOWAGE_TEST_TOKEN_BOB: await ts.token('bob'),
      STOWAGE_TEST_CLIENT_ID: key.clientId,
      STOWAGE_TEST_CLIENT_SECRET: key.secret,
    });
    assert.equal(code, 0, `pytest failed:\n${stdout}\n${stderr}`);
    assert.match(stdout, /\d+ passed/);
    assert.doesNotMatch(stdout, /skipped|xfail/, stdout);
  });

  test("the README's Python example runs as written and prints what it promises", async () => {
    const code = await docBlock('README.md', 'python-example', 'python');
    const result = await runPython(['-c', code], { STOWAGE_URL: ts.url, STOWAGE_TOKEN: await ts.token('dev') });
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stdout, "a,b\n1,2\n\n['reports/q1.csv']\ngone: NoSuchKey\n");
  });

  test("the README's install command works as written, and the example runs with what it installed", { skip: installSkip }, async () => {
    const clone = await mkdtemp(path.join(tmpdir(), 'stowage-python-install-'));
    try {
      await cp(path.join(REPOSITORY_ROOT, 'clients'), path.join(clone, 'clients'), { recursive: true });
      // An index that is out of reach is given up at once rather than retried.
      const install = await runProcess('bash', ['-c', await docBlock('README.md', 'python-install', 'sh')], {
        cwd: clone,
        env: { PIP_RETRIES: '0', PIP_DISABLE_PIP_VERSION_CHECK: '1' },
      });
      assert.equal(install.code, 0, `${install.stdout}\n${install.stderr}`);
      const code = await docBlock('README.md', 'python-example', 'python');
      const env = { STOWAGE_URL: ts.url, STOWAGE_TOKEN: await ts.token('dev') };
      const result = await runPython(['-c', code], env, path.join(clone, '.venv', 'bin', 'python'));
      assert.equal(result.code, 0, result.stderr);
      assert.equal(result.stdout, "a,b\n1,2\n\n['reports/q1.csv']\ngone: NoSuchKey\n");
    } finally {
      await rm(clone, { recursive: true, force: true });
    }
  });
});
