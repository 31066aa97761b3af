// Guards the resumable protocol's long chunks: a client may send the rest of a file in one
// request (`bytes A-B/*`), which the server makes durable every STOWAGE_UPLOAD_CHECKPOINT bytes;
// a crash in the middle of that request loses only the piece in flight, the status query names
// the last checkpoint, and a query that declares the total (`bytes */N`) with the sha256 completes
// the upload, or refuses it, storing nothing, when the digest is wrong.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { request } from 'undici';
import { runCli, type ServerProcess, startServerProcess } from './helpers/server-process.js';

const MiB = 1024 * 1024;
const SIZE = 6 * MiB;

describe('resumable uploads: long chunks made durable piece by piece', () => {
  const dirs: string[] = [];
  const servers: ServerProcess[] = [];
  after(async () => {
    for (const server of servers) server.child.kill('SIGKILL');
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  const start = async (dataDir: string, env: Record<string, string> = {}) => {
    const server = await startServerProcess(dataDir, { STOWAGE_UPLOAD_CHECKPOINT: '1MiB', ...env });
    servers.push(server);
    return server;
  };
  const send = (url: string, range: string, body: Buffer | string, headers: Record<string, string> = {}) =>
    request(url, { method: 'PUT', headers: { 'content-range': range, ...headers }, body });

  test('a crash in the middle of the rest of a file loses only the piece in flight; the upload goes on and completes with its sha256', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'stowage-checkpoints-'));
    dirs.push(dataDir);
    const data = randomBytes(SIZE);
    const sha256 = createHash('sha256').update(data).digest('hex');
    // The fourth piece is appended, and the server dies before it is committed.
    const doomed = await start(dataDir, { STOWAGE_FAILPOINTS: 'upload.after-append@4' });
    const token = (await runCli(['token', '--user', 'alice', '--data-dir', dataDir, '--ttl', '1h'])).stdout.trim();
    const auth = { authorization: `Bearer ${token}` };
    const issued = await request(`${doomed.url}/data/new_resumable_url/big.bin`, { headers: auth });
    assert.equal(issued.statusCode, 200);
    const uploadUrl = new URL(await issued.body.text());
    await assert.rejects(send(`${doomed.origin}${uploadUrl.pathname}${uploadUrl.search}`, `bytes 0-${SIZE - 1}/*`, data));
    assert.equal(await doomed.exited, 'SIGKILL');

    const server = await start(dataDir);
    const at = `${server.origin}${uploadUrl.pathname}${uploadUrl.search}`;
    const status = await send(at, 'bytes */*', '');
    assert.equal(status.statusCode, 308);
    await status.body.dump();
    assert.equal(status.headers.range, `bytes=0-${3 * MiB - 1}`, 'three pieces were committed before the crash');

    const rest = await send(at, `bytes ${3 * MiB}-${SIZE - 1}/*`, data.subarray(3 * MiB));
    assert.equal(rest.statusCode, 308);
    await rest.body.dump();
    assert.equal(rest.headers.range, `bytes=0-${SIZE - 1}`);
    const done = await send(at, `bytes */${SIZE}`, '', { 'x-stowage-sha256': sha256 });
    assert.equal(done.statusCode, 200);
    assert.equal(((await done.body.json()) as { sha256: string }).sha256, sha256);
    const read = await request(`${server.url}/data/get/big.bin`, { headers: auth });
    assert.equal(read.statusCode, 200);
    assert.deepEqual(Buffer.from(await read.body.arrayBuffer()), data);
  });

  test('the rest of a file in one request, then a query declaring the total: a wrong sha256 stores nothing, the right one stores the value', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'stowage-checkpoints-'));
    dirs.push(dataDir);
    const server = await start(dataDir);
    const token = (await runCli(['token', '--user', 'alice', '--data-dir', dataDir, '--ttl', '1h'])).stdout.trim();
    const auth = { authorization: `Bearer ${token}` };
    const data = randomBytes(SIZE + 12345);
    const sha256 = createHash('sha256').update(data).digest('hex');
    const uploadUrl = await (await request(`${server.url}/data/new_resumable_url/whole.bin`, { headers: auth })).body.text();
    const first = await send(uploadUrl, `bytes 0-${MiB - 1}/*`, data.subarray(0, MiB));
    assert.equal(first.statusCode, 308);
    await first.body.dump();
    const rest = await send(uploadUrl, `bytes ${MiB}-${data.length - 1}/*`, data.subarray(MiB));
    assert.equal(rest.statusCode, 308);
    await rest.body.dump();
    assert.equal(rest.headers.range, `bytes=0-${data.length - 1}`);
    const wrong = await send(uploadUrl, `bytes */${data.length}`, '', { 'x-stowage-sha256': '0'.repeat(64) });
    assert.equal(wrong.statusCode, 400);
    assert.equal(((await wrong.body.json()) as { code: string }).code, 'ChecksumMismatch');
    const absent = await request(`${server.url}/data/get/whole.bin`, { headers: auth });
    await absent.body.dump();
    assert.equal(absent.statusCode, 404, 'nothing stored');

    const again = await (await request(`${server.url}/data/new_resumable_url/whole.bin`, { headers: auth })).body.text();
    const whole = await send(again, `bytes 0-${data.length - 1}/*`, data);
    assert.equal(whole.statusCode, 308);
    await whole.body.dump();
    const done = await send(again, `bytes */${data.length}`, '', { 'x-stowage-sha256': sha256 });
    assert.equal(done.statusCode, 200);
    assert.equal(((await done.body.json()) as { sha256: string }).sha256, sha256);
    const read = await request(`${server.url}/data/get/whole.bin`, { headers: auth });
    assert.equal(read.statusCode, 200);
    assert.deepEqual(Buffer.from(await read.body.arrayBuffer()), data);
  });
});
