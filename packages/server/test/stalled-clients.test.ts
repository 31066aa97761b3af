// Guards admission slots against clients that stall where no timeout looked: a token request
// whose body stops arriving (held until the 1 h request timeout), a download the client never
// reads (held for ever), and the answer to a write whose commit outlasts the body-idle timeout
// after the last byte arrived (its connection was destroyed, the client never learnt the outcome).
// And the other way round: a client that keeps sending is not timed out for the server's own
// stalls (a slow disk, a busy event loop), and one that stops after such a stall still is.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { Transform } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ObjectService } from '../src/storage/object-service.js';
import { pythonLikeClient, rawRequest } from './helpers/raw-http.js';
import { openRawSocket } from './helpers/raw-socket.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const IDLE_MS = 300;

describe('stalled clients', () => {
  let ts: TestServer;
  let token: string;
  let py: ReturnType<typeof pythonLikeClient>;
  before(async () => {
    ts = await startTestServer({ bodyIdleTimeoutMs: IDLE_MS, sendIdleTimeoutMs: IDLE_MS });
    token = await ts.token('alice');
    py = pythonLikeClient(ts.origin, token);
  });
  after(() => ts.close());

  const inFlight = async () => {
    const metrics = (await rawRequest(ts.origin, 'GET', '/metrics')).text;
    return Number(/^stowage_http_requests_in_flight (\d+)$/m.exec(metrics)?.[1]);
  };
  const waitForIdleServer = async () => {
    for (let tries = 0; tries < 250 && (await inFlight()) !== 0; tries++) await sleep(20);
    assert.equal(await inFlight(), 0, 'every admission slot was given back');
  };

  test('a token request whose body stops arriving gets 408 and gives its slot back', async () => {
    const socket = await openRawSocket(ts.origin);
    socket.write('POST /auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"client_id":');
    const answer = await socket.waitFor(/\r\n\r\n\{.*\}/s);
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.match(answer, /"code":"RequestTimeout"/);
    await socket.closed();
    await waitForIdleServer();
  });

  test('a token request trickled a byte at a time, never idle, still ends in 408 when its deadline passes', async () => {
    const socket = await openRawSocket(ts.origin);
    socket.write('POST /auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n');
    const trickle = setInterval(() => socket.write(' '), IDLE_MS / 3);
    try {
      const answer = await socket.waitFor(/\r\n\r\n\{.*\}/s, 5000);
      assert.match(answer, /^HTTP\/1\.1 408 /);
      assert.match(answer, /"code":"RequestTimeout"/);
    } finally {
      clearInterval(trickle);
      socket.destroy();
    }
    await waitForIdleServer();
  });

  test('a token request that expects 100-continue gets it, then its answer', async () => {
    const socket = await openRawSocket(ts.origin);
    const body = '{"client_id":"nobody","refresh_token":"x","grant_type":"refresh_token"}';
    socket.write(
      `POST /auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    await socket.waitFor(/^HTTP\/1\.1 100 Continue\r\n\r\n/, 2000);
    socket.write(body);
    const answer = await socket.waitFor(/HTTP\/1\.1 401 .*"code":"InvalidCredentials"/s);
    socket.destroy();
    assert.ok(answer.length > 0);
  });

  test('a download the client stops reading is closed and gives its slot back', async () => {
    // Far more than the kernel buffers of both ends hold, so the server's writes stop.
    assert.equal((await py.put('/data/set/unread', Buffer.alloc(64 * 1024 * 1024, 'u'))).status, 200);
    const { hostname, port } = new URL(ts.origin);
    const reader = net.connect(Number(port), hostname);
    reader.on('error', () => {});
    await new Promise((resolve) => reader.once('connect', resolve));
    reader.pause();
    reader.write(`GET /storage/v1/data/get/unread HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    try {
      await waitForIdleServer();
    } finally {
      reader.destroy();
    }
    assert.equal((await py.get('/data/list')).status, 200);
  });

  /**
   * Makes the store stall for `ms` once, at the body's first chunk, until the returned function
   * puts it back: the server stops reading the body, and its socket goes quiet while bytes wait
   * on the server's side, not the client's.
   */
  const stallStoreOnce = (ms: number) => {
    const objects = ts.server.context.objects as ObjectService & { put: ObjectService['put'] };
    const put = objects.put;
    const state = { stalled: false };
    objects.put = (ref, body, options) => {
      const slowDisk = new Transform({
        transform(chunk, _encoding, done) {
          if (state.stalled) return done(null, chunk);
          state.stalled = true;
          setTimeout(() => done(null, chunk), ms);
        },
      });
      body.on('error', (error) => slowDisk.destroy(error));
      return put.call(objects, ref, body.pipe(slowDisk), options);
    };
    return { state, restore: () => (objects.put = put) };
  };

  test('a body the server is slow to take (its disk stalls) is not timed out: the client kept sending', async () => {
    const stall = stallStoreOnce(IDLE_MS * 4);
    const value = Buffer.alloc(16 * 1024 * 1024, 's');
    let stored: { size: number; sha256: string };
    try {
      const answer = await py.put('/data/set/slow-disk', value);
      assert.equal(answer.status, 200, answer.text);
      stored = answer.json();
    } finally {
      stall.restore();
    }
    assert.ok(stall.state.stalled);
    // What the server stored, by its own count and hash (a download here would meet this server's
    // send-idle timeout of a few hundred ms, which is not what this test is about).
    assert.equal(stored.size, value.length);
    assert.equal(stored.sha256, createHash('sha256').update(value).digest('hex'));
    assert.equal((await py.head('/data/get/slow-disk')).status, 200);
  });

  test('a client that stops sending after the server stalled still gets 408', async () => {
    const stall = stallStoreOnce(IDLE_MS * 4);
    try {
      const socket = await openRawSocket(ts.origin);
      socket.write(
        `PUT /storage/v1/data/set/stops-after-stall HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: 1000000\r\n\r\n`,
      );
      // The first piece fills the stalled store's queue, so the server stops taking the body; the
      // second waits whole in the request's buffer. After the stall nothing is left to read, so
      // only the timer started again during the stall can end the request.
      socket.write(Buffer.alloc(32 * 1024, 'x'));
      await sleep(IDLE_MS / 6);
      socket.write(Buffer.alloc(1024, 'y'));
      const answer = await socket.waitFor(/\r\n\r\n\{.*\}/s, IDLE_MS * 20);
      socket.destroy();
      assert.match(answer, /^HTTP\/1\.1 408 .*"code":"RequestTimeout"/s);
      assert.ok(stall.state.stalled);
    } finally {
      stall.restore();
    }
    assert.equal((await py.get('/data/get/stops-after-stall')).status, 404);
    await waitForIdleServer();
  });

  test('a body whose bytes waited while the event loop was busy is not timed out', async () => {
    const socket = await openRawSocket(ts.origin);
    const part = 'b'.repeat(1000);
    socket.write(
      `PUT /storage/v1/data/set/busy-loop HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: ${3 * part.length}\r\n\r\n${part}`,
    );
    await sleep(IDLE_MS / 3);
    // Bytes go out and wait in the server's socket while this thread, the server's too, is busy
    // past the idle timeout: on the next turn its timer is due, and the bytes not yet read.
    socket.write(part);
    const busyUntil = Date.now() + IDLE_MS * 2;
    while (Date.now() < busyUntil) {}
    await sleep(IDLE_MS / 3);
    socket.write(part);
    const answer = await socket.waitFor(/\r\n\r\n\{.*\}/s);
    socket.destroy();
    assert.match(answer, /^HTTP\/1\.1 200 /);
    assert.equal((await py.get('/data/get/busy-loop')).text, part.repeat(3));
  });

  test('a write whose commit outlasts the body-idle timeout after its last byte is still answered', async () => {
    const objects = ts.server.context.objects as ObjectService & { put: ObjectService['put'] };
    const put = objects.put;
    let bodyStored!: () => void;
    const stored = new Promise<void>((resolve) => {
      bodyStored = resolve;
    });
    let releaseCommit!: () => void;
    const commit = new Promise<void>((resolve) => {
      releaseCommit = resolve;
    });
    // A slow disk, as the client sees it: every byte arrived, the answer is several idle periods away.
    objects.put = async (...args) => {
      const info = await put.apply(objects, args);
      bodyStored();
      await commit;
      return info;
    };
    try {
      const socket = await openRawSocket(ts.origin);
      socket.write(
        `PUT /storage/v1/data/set/slow-commit HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: 5\r\n\r\nhello`,
      );
      await stored;
      await sleep(IDLE_MS * 4);
      releaseCommit();
      const answer = await socket.waitFor(/^HTTP\/1\.1 \d{3} .*\r\n\r\n\{.*\}/s);
      socket.destroy();
      assert.match(answer, /^HTTP\/1\.1 200 /);
    } finally {
      objects.put = put;
    }
    assert.equal((await py.get('/data/get/slow-commit')).text, 'hello');
  });
});
