// Guards admission control: 500 connections arrive at once against a bound of 50 requests in
// flight. Exactly the bound is admitted, everyone else is refused at once with 503 Overloaded
// and Retry-After (the Python client retries those), health checks still answer, a lone new
// client hears back within 200 ms, and once the load is gone it is served again. One user alone
// cannot take every slot: past its share it gets 429 while others are still served.
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { after, before, describe, test } from 'node:test';
import { pythonLikeClient, rawRequest } from './helpers/raw-http.js';
import { openRawSocket, type RawSocket } from './helpers/raw-socket.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const CONNECTIONS = 500;
const BOUND = 50;

describe('overload', () => {
  let ts: TestServer;
  let token: string;
  const sockets: RawSocket[] = [];
  before(async () => {
    ts = await startTestServer({ maxInFlight: BOUND });
    token = await ts.token('alice');
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await ts.close();
  });

  test(`${CONNECTIONS} slow uploads at once: ${BOUND} admitted, the rest refused fast, a lone client answered in time`, async () => {
    // Each upload sends its headers and a first slice of body, then holds its request open.
    const opened = await Promise.all(Array.from({ length: CONNECTIONS }, () => openRawSocket(ts.origin)));
    sockets.push(...opened);
    opened.forEach((socket, i) => {
      socket.write(
        `PUT /storage/v1/data/set/slow-${i} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: 1048576\r\n\r\n`,
      );
      socket.write(Buffer.alloc(20_000, 's'));
    });
    await waitUntil(() => opened.filter((socket) => socket.received() !== '').length >= CONNECTIONS - BOUND, 20_000);

    const answered = opened.filter((socket) => socket.received() !== '');
    assert.equal(answered.length, CONNECTIONS - BOUND, 'exactly the bound is admitted; the others are answered');
    for (const socket of answered) {
      assert.match(socket.received(), /^HTTP\/1\.1 503 /);
      assert.match(socket.received(), /\r\nretry-after: 1\r\n/i);
      assert.match(socket.received(), /"code":"Overloaded"/);
    }
    const metrics = (await rawRequest(ts.origin, 'GET', '/metrics')).text;
    assert.match(metrics, new RegExp(`^stowage_http_requests_in_flight ${BOUND}$`, 'm'));
    assert.match(metrics, new RegExp(`^stowage_http_requests_refused_total ${CONNECTIONS - BOUND}$`, 'm'));
    assert.equal((await rawRequest(ts.origin, 'GET', '/healthz')).status, 200, 'health checks always get through');

    const py = pythonLikeClient(ts.origin, token);
    const waits: number[] = [];
    for (let probe = 0; probe < 5; probe++) {
      const started = performance.now();
      const response = await py.get('/data/list');
      waits.push(performance.now() - started);
      assert.equal(response.status, 503);
      assert.equal(response.headers['retry-after'], '1');
    }
    waits.sort((a, b) => a - b);
    assert.ok((waits[2] ?? Number.POSITIVE_INFINITY) < 200, `a lone client waited ${waits.map(Math.round).join(', ')} ms`);

    for (const socket of opened) socket.destroy();
    await waitUntil(async () => (await py.get('/data/list')).status === 200, 10_000);
    assert.match((await rawRequest(ts.origin, 'GET', '/metrics')).text, /^stowage_http_requests_in_flight 0$/m);
  });
});

describe('one user cannot take every slot', () => {
  test('past its share a user gets 429 RateLimited; another user is still served; the share comes back', async () => {
    const ts = await startTestServer({ maxInFlight: 50, maxInFlightPerTenant: 3 });
    const held: RawSocket[] = [];
    try {
      const token = await ts.token('greedy');
      for (let i = 0; i < 3; i++) {
        const socket = await openRawSocket(ts.origin);
        held.push(socket);
        socket.write(
          `PUT /storage/v1/data/set/held-${i} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: 1000\r\n\r\nx`,
        );
      }
      const greedy = pythonLikeClient(ts.origin, token);
      await waitUntil(async () => (await greedy.get('/data/list')).status === 429, 5000);
      const refused = await greedy.get('/data/list');
      assert.equal(refused.json<{ code: string }>().code, 'RateLimited');
      assert.equal(refused.headers['retry-after'], '1');
      assert.equal((await pythonLikeClient(ts.origin, await ts.token('modest')).get('/data/list')).status, 200, 'another user is served');
      for (const socket of held) socket.destroy();
      await waitUntil(async () => (await greedy.get('/data/list')).status === 200, 5000);
    } finally {
      for (const socket of held) socket.destroy();
      await ts.close();
    }
  });
});

async function waitUntil(condition: () => boolean | Promise<boolean>, ms: number): Promise<void> {
  const started = Date.now();
  while (!(await condition())) {
    if (Date.now() - started > ms) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
