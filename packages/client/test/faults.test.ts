// Guards the client's behaviour when the network or server misbehaves: retries with backoff and
// Retry-After, resets and short bodies never yield a short value, stalls and unanswered connects
// time out, one-shot bodies are never replayed, a retried DELETE is not turned into a 404, and
// quota, full-disk and request-timeout answers are final errors of their own classes.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, test } from 'node:test';
import {
  Auth,
  BadRequestError,
  ConflictError,
  ConnectionError,
  ForbiddenError,
  InsufficientStorageError,
  NotFoundError,
  QuotaExceededError,
  RateLimitError,
  Retry,
  ServerError,
  Storage,
  TimeoutError,
} from '../src/node/index.js';
import { sendError, startBlackholePort, startFaultServer } from './fault-server.js';

const fastRetry = (options = {}) => new Retry({ backoffFactor: 0.01, backoffJitter: 0, ...options });
const clientFor = (url: string, retries = fastRetry(), timeout: [number, number] = [2, 2]) =>
  new Storage({ url, auth: new Auth({ token: 'test-token', env: {} }), retries, timeout });

describe('fault injection', () => {
  const cleanups: Array<() => unknown> = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });
  const serve = async (handler: Parameters<typeof startFaultServer>[0]) => {
    const server = await startFaultServer(handler);
    cleanups.push(() => server.close());
    return server;
  };

  test('503 then success: the GET is retried with one request id and an attempt counter', async () => {
    const server = await serve((_request, response, attempt) => {
      if (attempt === 1) return sendError(response, 503, 'ServiceUnavailable');
      response.end('finally');
    });
    const storage = clientFor(server.url);
    assert.equal(await storage.get('k'), 'finally');
    assert.equal(server.seen.length, 2);
    assert.equal(server.seen[0]?.headers['x-request-group'], server.seen[1]?.headers['x-request-group']);
    assert.deepEqual(
      server.seen.map((s) => s.headers['x-stowage-attempt']),
      ['1', '2'],
    );
    assert.equal(server.seen[0]?.headers.authorization, 'Bearer test-token');
    await storage.close();
  });

  test('429 with Retry-After waits that long, then succeeds; exhausted retries raise RateLimitError', async () => {
    const server = await serve((_request, response, attempt) => {
      if (attempt === 1) return sendError(response, 429, 'SlowDown', { 'retry-after': '1' });
      response.end('ok');
    });
    const storage = clientFor(server.url);
    assert.equal(await storage.get('k'), 'ok');
    const [first, second] = server.seen;
    assert.ok(first && second && second.at - first.at >= 900, 'waited for Retry-After');
    await storage.close();

    const always = await serve((_request, response) => sendError(response, 429, 'SlowDown', { 'retry-after': '0' }));
    const limited = clientFor(always.url, fastRetry({ status: 1 }));
    await assert.rejects(
      limited.get('k'),
      (error: unknown) => error instanceof RateLimitError && error.retryAfter === 0 && error.status === 429,
    );
    assert.equal(always.seen.length, 2);
    await limited.close();
  });

  test("503 Overloaded and 429 RateLimited wait the server's Retry-After, not the backoff, then succeed", async () => {
    for (const [status, code] of [
      [503, 'Overloaded'],
      [429, 'RateLimited'],
    ] as const) {
      const server = await serve((request, response, attempt) => {
        request.resume();
        if (attempt === 1) return sendError(response, status, code, { 'retry-after': '0' });
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ key: 'k', size: 1, etag: '"e"', sha256: 'e' }));
      });
      // A minute of backoff: finishing well inside the signal's 20 s means Retry-After set the wait.
      const storage = clientFor(server.url, new Retry({ backoffFactor: 60, backoffJitter: 0 }));
      assert.equal((await storage.set('k', 'v', { signal: AbortSignal.timeout(20_000) })).key, 'k', code);
      assert.equal(server.seen.length, 2, code);
      await storage.close();
    }
  });

  test('429 RateLimited without Retry-After is not retried; its RateLimitError says so', async () => {
    const server = await serve((_request, response) => sendError(response, 429, 'RateLimited'));
    const storage = clientFor(server.url);
    await assert.rejects(
      storage.get('k'),
      (error: unknown) => error instanceof RateLimitError && error.code === 'RateLimited' && error.retryAfter === undefined,
    );
    assert.equal(server.seen.length, 1);
    await storage.close();
  });

  test('an Overloaded 503 past the retry budget keeps its Retry-After on the ServerError', async () => {
    const server = await serve((_request, response) => sendError(response, 503, 'Overloaded', { 'retry-after': '0' }));
    const storage = clientFor(server.url, fastRetry({ status: 1 }));
    await assert.rejects(
      storage.get('k'),
      (error: unknown) => error instanceof ServerError && error.code === 'Overloaded' && error.retryAfter === 0,
    );
    assert.equal(server.seen.length, 2);
    await storage.close();
  });

  test('QuotaExceeded, InsufficientStorage and RequestTimeout are final: sent once, each its own class', async () => {
    for (const [status, code, check] of [
      [403, 'QuotaExceeded', (e: unknown) => e instanceof QuotaExceededError && e instanceof ForbiddenError],
      [507, 'InsufficientStorage', (e: unknown) => e instanceof InsufficientStorageError && e instanceof ServerError],
      [408, 'RequestTimeout', (e: unknown) => e instanceof TimeoutError && (e as TimeoutError).status === 408],
    ] as const) {
      const server = await serve((request, response) => {
        request.resume();
        request.on('end', () => sendError(response, status, code));
      });
      const storage = clientFor(server.url);
      await assert.rejects(storage.set('k', 'value'), (error: unknown) => check(error) && (error as ServerError).code === code);
      assert.equal(server.seen.length, 1, `${code} is not retried`);
      await storage.close();
    }
  });

  test('5xx past the retry budget is a ServerError; 4xx are not retried', async () => {
    const failing = await serve((_request, response) => sendError(response, 500, 'InternalError'));
    const storage = clientFor(failing.url, fastRetry({ total: 2, status: 2 }));
    await assert.rejects(
      storage.get('k'),
      (error: unknown) => error instanceof ServerError && error.status === 500 && error.requestId === 'fault-1',
    );
    assert.equal(failing.seen.length, 3);
    await storage.close();

    for (const [status, code, ErrorClass] of [
      [400, 'InvalidKey', BadRequestError],
      [404, 'NoSuchKey', NotFoundError],
      [409, 'Conflict', ConflictError],
    ] as const) {
      const server = await serve((_request, response) => sendError(response, status, code));
      const client = clientFor(server.url);
      await assert.rejects(client.get('k'), (error: unknown) => error instanceof ErrorClass && error.code === code);
      assert.equal(server.seen.length, 1, `${status} is not retried`);
      await client.close();
    }
  });

  test('a connection reset mid-download is retried and never returns a short value', async () => {
    const body = Buffer.alloc(100_000, 7);
    const server = await serve((_request, response, attempt) => {
      response.writeHead(200, { 'content-length': body.length });
      if (attempt === 1) {
        response.write(body.subarray(0, 40_000));
        setTimeout(() => response.socket?.destroy(), 20);
        return;
      }
      response.end(body);
    });
    const storage = clientFor(server.url);
    assert.deepEqual(await storage.getBytes('k'), body);
    assert.equal(server.seen.length, 2);
    await storage.close();

    const noRetry = clientFor(server.url, Retry.none());
    server.seen.length = 0;
    await assert.rejects(noRetry.getBytes('k'), ConnectionError);
    await noRetry.close();
  });

  test('getFile that fails mid-way leaves no file, not even a truncated one', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'stowage-fault-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-length': 50_000 });
      response.write(Buffer.alloc(10_000));
      setTimeout(() => response.socket?.destroy(), 20);
    });
    const storage = clientFor(server.url, Retry.none());
    await assert.rejects(storage.getFile('k', path.join(dir, 'out.bin')), ConnectionError);
    assert.deepEqual(await readdir(dir), []);
    await storage.close();
  });

  test('a body that stalls past the read timeout is a TimeoutError', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-length': 10 });
      response.write('12345');
    });
    const storage = clientFor(server.url, Retry.none(), [2, 0.3]);
    await assert.rejects(storage.get('k'), TimeoutError);
    await storage.close();
  });

  test('a stalled streaming download errors instead of hanging', async () => {
    const server = await serve((_request, response) => {
      response.writeHead(200, { 'content-length': 1000 });
      response.write(Buffer.alloc(100));
    });
    const storage = clientFor(server.url, Retry.none(), [2, 0.3]);
    const stream = await storage.getStream('k');
    await assert.rejects(
      (async () => {
        for await (const _ of stream);
      })(),
      TimeoutError,
    );
    await storage.close();
  });

  test('a server that never answers the connect is a TimeoutError after the connect timeout', async () => {
    const blackhole = await startBlackholePort();
    cleanups.push(() => blackhole.close());
    const storage = clientFor(`http://127.0.0.1:${blackhole.port}/storage/v1`, Retry.none(), [0.3, 5]);
    await assert.rejects(
      storage.get('k'),
      (error: unknown) => error instanceof TimeoutError && /timed out/i.test((error as Error).message),
    );
    await storage.close();
  });

  test('a refused connection is retried by the connect budget, then a ConnectionError', async () => {
    const server = await serve(() => {});
    const url = server.url;
    await server.close();
    const storage = clientFor(url, fastRetry({ connect: 2 }));
    await assert.rejects(storage.get('k'), ConnectionError);
    await storage.close();
  });

  test('a stream body is sent once: a 503 after it was consumed is not replayed', async () => {
    const server = await serve((request, response) => {
      request.resume();
      request.on('end', () => sendError(response, 503, 'ServiceUnavailable'));
    });
    const storage = clientFor(server.url);
    await assert.rejects(storage.set('k', Readable.from([Buffer.from('once')])), ServerError);
    assert.equal(server.seen.length, 1);
    await storage.close();
  });

  test('a string body is replayed on 503', async () => {
    const bodies: string[] = [];
    const server = await serve((request, response, attempt) => {
      let text = '';
      request.on('data', (chunk) => {
        text += chunk;
      });
      request.on('end', () => {
        bodies.push(text);
        if (attempt === 1) return sendError(response, 503, 'ServiceUnavailable');
        response.writeHead(200, { 'content-type': 'application/json' });
        response.end(JSON.stringify({ key: 'k', size: 4, etag: '"x"', sha256: 'x' }));
      });
    });
    const storage = clientFor(server.url);
    assert.equal((await storage.set('k', 'twice')).key, 'k');
    assert.deepEqual(bodies, ['twice', 'twice']);
    await storage.close();
  });

  test('DELETE whose response was lost is retried, and the 404 that follows is success', async () => {
    const server = await serve((request, response, attempt) => {
      if (attempt === 1) return request.socket.destroy();
      sendError(response, 404, 'NoSuchKey');
    });
    const storage = clientFor(server.url);
    await storage.delete('k');
    assert.equal(server.seen.length, 2);
    await storage.close();

    const plain = await serve((_request, response) => sendError(response, 404, 'NoSuchKey'));
    const client = clientFor(plain.url);
    await assert.rejects(client.delete('k'), NotFoundError);
    await client.close();
  });
});
