// Guards the documentation: the README's command-line block runs as written (bash -e) from the
// repository root against a real server, and does what its comments say.
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runProcess } from '../../server/test/helpers/server-process.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));

describe('README command-line example', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(async () => {
    await ts.close();
    for (const leftover of ['/tmp/readme-copy.md', '/tmp/docs-restored', '/tmp/hello.txt.gz'])
      await rm(leftover, { recursive: true, force: true });
  });

  test('runs as written', async () => {
    const readme = await readFile(`${root}README.md`, 'utf8');
    const block = /<!-- cli-example -->\n```sh\n([\s\S]*?)```\n<!-- \/cli-example -->/.exec(readme)?.[1];
    assert.ok(block, 'the README has the cli-example block');
    const { code, stdout, stderr } = await runProcess('bash', ['-euo', 'pipefail', '-c', block], {
      cwd: root,
      env: { STOWAGE_URL: ts.url, STOWAGE_TOKEN: await ts.token('dev'), STOWAGE_TOKEN_INFO_PATH: '/nonexistent/token_info.json' },
    });
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^hello from the shell\n/);
    assert.match(stdout, /it exists\nhello from the shell\n\{"key":"notes\/protocol\.md"/);
    assert.match(stdout, /^meta author:\s+Zoë$/m, 'stat prints the metadata');
    assert.match(stdout, /^docs-copy\/\nnotes\/\n/m, 'ls shows one level, folders included');
    // The docs' size decides the unit (KiB, or MiB once their images pass a MiB).
    assert.match(stdout, /^[\d.]+ [KMG]iB\t\d+ objects\ttotal$/m, 'du ends with the total');
    assert.match(stdout, /^docs-copy\/: \d+ keys, [\d.]+ [KMG]iB \(\d+ bytes\) deleted$/m, 'rm -r counts what it deleted');
    assert.match(stdout, /dev\n$/);
    assert.equal(await readFile('/tmp/readme-copy.md', 'utf8'), readme);
    assert.equal(await readFile('/tmp/docs-restored/errors.md', 'utf8'), await readFile(`${root}docs/errors.md`, 'utf8'));
  });

  test('the buckets and sharing block runs as written', async () => {
    const readme = await readFile(`${root}README.md`, 'utf8');
    const block = /<!-- cli-buckets-example -->\n```sh\n([\s\S]*?)```\n<!-- \/cli-buckets-example -->/.exec(readme)?.[1];
    assert.ok(block, 'the README has the cli-buckets-example block');
    const { code, stdout, stderr } = await runProcess('bash', ['-euo', 'pipefail', '-c', block], {
      cwd: root,
      env: { STOWAGE_URL: ts.url, STOWAGE_TOKEN: await ts.token('dev'), STOWAGE_TOKEN_INFO_PATH: '/nonexistent/token_info.json' },
    });
    assert.equal(code, 0, stderr);
    assert.match(stdout, /^docs\/\nq1\/\n/m, 'ls of the bucket shows its folders');
    assert.match(stdout, /^docs\/errors\.md$/m, 'the anonymous listing of docs/');
    assert.match(stderr, /warning: anyone, without credentials, now has READ on the keys under docs\/ in bucket team-results/);
    assert.match(stdout, /^public:\s+yes$/m);
    assert.match(stdout, /^grant:\s+user bob: READ on keys under q1\/$/m);
    assert.match(stdout, /^grant:\s+user bob: WRITE on keys under q1\/$/m);
    assert.match(stdout, /^grant:\s+everyone: READ on keys under docs\/$/m);
    assert.match(stdout, /^expiry:\s+90 days after each write$/m);
    assert.match(stdout, /^quota:\s+10\.0 GiB \(10737418240 bytes\)$/m);
    assert.match(stdout, /^team-results\s+dev\s+\S+\s+owner$/m, 'bucket ls');
    assert.match(stdout, /^\(everything\): \d+ keys, .* deleted$/m);
    const bucket = await fetch(`${ts.url}/buckets/team-results`, { headers: { authorization: `Bearer ${await ts.token('dev')}` } });
    assert.equal(bucket.status, 404, 'the block ends by deleting the bucket');
  });
});
