// Guards the one backoff policy: resumable uploads and resumed downloads retry by the Retry
// they were given, like a single request does: its status budget bounds them, and a server's
// Retry-After is the wait (not the exponential backoff, which these tests make very long).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { Auth, Retry, ServerError, Storage } from '../src/node/index.js';
import { startFaultProxy } from './fault-proxy.js';
import { sendError, startFaultServer } from './fault-server.js';

const KiB = 1024;
/** Backoff so long that a test finishing under its signal proves the wait came from Retry-After. */
const slowBackoff = (options = {}) => new Retry({ backoffFactor: 60, backoffJitter: 0, ...options });
const fastBackoff = (options = {}) => new Retry({ backoffFactor: 0.01, backoffJitter: 0, ...options });
const isChunk = (request: http.IncomingMessage) => request.method === 'PUT' && /^bytes \d+-/.test(request.headers['content-range'] ?? '');

describe('resumable transfers retry by the Retry policy', () => {
  let ts: TestServer;
  let token: string;
  let dir: string;
  let file: string;
  const content = Buffer.alloc(100 * KiB, 'resumable ');
  const cleanups: Array<() => unknown> = [];
  const clientFor = (url: string, retries: Retry) => {
    const client = new Storage({ url, auth: new Auth({ token, env: {} }), retries, resumableThreshold: 64 * KiB, chunkSize: 32 * KiB });
    cleanups.push(() => client.close());
    return client;
  };
  const proxyAnsweringChunks = async (answer: (response: http.ServerResponse, chunk: number) => boolean) => {
    let chunks = 0;
    const proxy = await startFaultProxy(ts.url, {
      answerInstead: (request, response) => {
        if (!isChunk(request)) return false;
        if (!answer(response, ++chunks)) return false;
        request.resume();
        return true;
      },
    });
    cleanups.push(() => proxy.close());
    return proxy;
  };
  before(async () => {
    // Upload URLs must name the fault proxy the client goes through: its address is allowed in them.
    ts = await startTestServer({ allowedHosts: [{ name: '127.0.0.1', port: undefined }] });
    token = await ts.token('fay');
    dir = await mkdtemp(path.join(tmpdir(), 'stowage-retries-'));
    file = path.join(dir, 'upload.bin');
    await writeFile(file, content);
  });
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
    await ts.close();
    await rm(dir, { recursive: true, force: true });
  });

  test("an upload chunk answered 503 Overloaded waits the server's Retry-After and the upload completes", async () => {
    const proxy = await proxyAnsweringChunks((response, chunk) => {
      if (chunk !== 2) return false;
      sendError(response, 503, 'Overloaded', { 'retry-after': '0' });
      return true;
    });
    const storage = clientFor(proxy.url, slowBackoff());
    const result = await storage.setFile('up/overloaded.bin', file, { signal: AbortSignal.timeout(20_000) });
    assert.equal(proxy.stats.answered, 1);
    assert.equal(result.size, content.length);
    assert.deepEqual(await clientFor(ts.url, Retry.none()).getBytes('up/overloaded.bin'), content);
  });

  test('an upload whose chunks keep failing gives up when the Retry status budget is spent', async () => {
    const proxy = await proxyAnsweringChunks((response) => {
      sendError(response, 503, 'ServiceUnavailable');
      return true;
    });
    const storage = clientFor(proxy.url, fastBackoff({ status: 1 }));
    await assert.rejects(storage.setFile('up/never.bin', file), (error: unknown) => error instanceof ServerError && error.status === 503);
    assert.equal(proxy.stats.answered, 2, 'the first chunk and one retry');
    assert.equal(await clientFor(ts.url, Retry.none()).exists('up/never.bin'), false);
  });

  test('a 507 InsufficientStorage on a chunk is not retried: the policy does not list it', async () => {
    const proxy = await proxyAnsweringChunks((response) => {
      sendError(response, 507, 'InsufficientStorage');
      return true;
    });
    const storage = clientFor(proxy.url, fastBackoff());
    await assert.rejects(storage.setFile('up/full.bin', file), (error: unknown) => error instanceof ServerError && error.status === 507);
    assert.equal(proxy.stats.answered, 1);
  });

  test("a download answered 503 Overloaded waits the server's Retry-After and then completes", async () => {
    const server = await startFaultServer((_request, response, attempt) => {
      if (attempt === 1) return sendError(response, 503, 'Overloaded', { 'retry-after': '0' });
      response.writeHead(200, { 'content-length': content.length, etag: '"v1"' });
      response.end(content);
    });
    cleanups.push(() => server.close());
    const target = path.join(dir, 'download.bin');
    await clientFor(server.url, slowBackoff()).getFile('k', target, { signal: AbortSignal.timeout(20_000) });
    assert.deepEqual(await readFile(target), content);
    assert.equal(server.seen.length, 2);
  });

  test('a download that keeps failing gives up when the Retry status budget is spent', async () => {
    const server = await startFaultServer((_request, response) => sendError(response, 500, 'InternalError'));
    cleanups.push(() => server.close());
    const storage = clientFor(server.url, fastBackoff({ status: 1 }));
    await assert.rejects(storage.getFile('k', path.join(dir, 'never.bin')), ServerError);
    assert.equal(server.seen.length, 2, 'the first attempt and one retry');
  });
});
