// The client in Bun and Deno as their users get it: `stowage-client` imported from node_modules
// (both resolve the package's Node entry, through their Node compatibility) against a real server,
// through values, streams, files (a resumable upload), listing, signed URLs and deletes; then
// `stowage-client/web` named: Blobs up and a resumable stream down, and an upload URL. The
// runtimes are the ones scripts/test.sh installs (scripts/services/runtime.sh), named by
// STOWAGE_TEST_BUN and STOWAGE_TEST_DENO; with STOWAGE_TEST_RUNTIMES=1 a missing one fails.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { sha256File, writePatternFile } from './test-files.js';

const CLIENT_PACKAGE = fileURLToPath(new URL('..', import.meta.url));
const ROUND_TRIP = fileURLToPath(new URL('fixtures/runtime-round-trip.mjs', import.meta.url));
/** Over the client's one-request limit (8 MiB), so setFile goes as a resumable upload. */
const FILE_SIZE = 12 * 1024 * 1024;
/** Over setBlob's chunk (8 MiB): an upload in resumable chunks through the web entry. */
const BLOB_SIZE = 9 * 1024 * 1024;
const required = process.env.STOWAGE_TEST_RUNTIMES === '1';

const RUNTIMES = [
  { name: 'bun', binary: process.env.STOWAGE_TEST_BUN, args: (script: string) => [script] },
  { name: 'deno', binary: process.env.STOWAGE_TEST_DENO, args: (script: string) => ['run', '--allow-all', script] },
];

describe('the client in other runtimes', () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    server = await startTestServer();
    dir = await mkdtemp(path.join(tmpdir(), 'stowage-runtimes-'));
    // A user's project: stowage-client in its node_modules.
    await mkdir(path.join(dir, 'node_modules'));
    await symlink(CLIENT_PACKAGE, path.join(dir, 'node_modules', 'stowage-client'), 'dir');
    await writeFile(path.join(dir, 'package.json'), JSON.stringify({ name: 'runtime-check', private: true, type: 'module' }));
    await copyFile(ROUND_TRIP, path.join(dir, 'round-trip.mjs'));
  });
  after(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  for (const runtime of RUNTIMES) {
    const skip = runtime.binary || required ? false : `no ${runtime.name} (scripts/services/runtime.sh ${runtime.name} installs one)`;
    test(`${runtime.name}: values, streams, a resumable file upload, listing, a signed URL and deletes`, { skip }, async () => {
      assert.ok(runtime.binary, `STOWAGE_TEST_${runtime.name.toUpperCase()} names no binary`);
      const source = path.join(dir, `${runtime.name}.source`);
      const target = path.join(dir, `${runtime.name}.target`);
      const sha256 = await writePatternFile(source, FILE_SIZE);
      const prefix = `${runtime.name}/`;
      const { stdout } = await promisify(execFile)(runtime.binary, runtime.args('round-trip.mjs'), {
        cwd: dir,
        env: {
          ...process.env,
          STOWAGE_URL: server.url,
          STOWAGE_TOKEN: await server.token(),
          SOURCE_FILE: source,
          TARGET_FILE: target,
          KEY_PREFIX: prefix,
          BLOB_SIZE: String(BLOB_SIZE),
        },
        maxBuffer: 1024 * 1024,
      });
      const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '');
      assert.match(report.runtime, new RegExp(`^${runtime.name} \\d`));
      assert.equal(report.entry, 'node');
      assert.deepEqual(report.results, {
        set: 5,
        get: 'hello',
        getBytes: 'hello',
        exists: true,
        setStream: 8,
        getStream: 'streamed',
        setFile: { size: FILE_SIZE, sha256 },
        getFile: 'done',
        list: [`${prefix}a.txt`, `${prefix}file.bin`, `${prefix}stream.txt`],
        signedUrl: 'hello',
        delete: false,
        missing: 'NotFoundError',
        webSetBlob: BLOB_SIZE,
        webGetStream: BLOB_SIZE,
        webUploadBlob: 8,
        webGet: 'uploaded',
      });
      assert.equal(await sha256File(target), sha256);
    });
  }
});
