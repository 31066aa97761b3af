// Guards the connections of refused requests: a client refused with 429 RateLimited or 503
// Overloaded whose request had no body, or a small body that was sent whole, keeps its
// keep-alive connection and is served on it next. Closing it instead sent every refused client of
// a flood back to connect again, and the storm of new connections filled the listen queue, so
// that a newcomer (even a health check) waited seconds for its connection to be accepted. A large
// body nobody read still closes the connection rather than being read to the end, and so does a
// body the client held back for `100 Continue`, which it may never send.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rawRequest } from './helpers/raw-http.js';
import { openRawSocket, type RawAnswer, type RawSocket } from './helpers/raw-socket.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const sockets: RawSocket[] = [];
async function connect(ts: TestServer): Promise<RawSocket> {
  const socket = await openRawSocket(ts.origin);
  sockets.push(socket);
  return socket;
}
/** Ends every connection the tests opened (the held uploads too), then the server. */
async function closeAll(ts: TestServer): Promise<void> {
  for (const socket of sockets.splice(0)) socket.destroy();
  await ts.close();
}

/** Holds one slot of `ts` (and of the user of `token`): an upload whose body stops after a byte. */
async function holdSlot(ts: TestServer, token: string, key: string): Promise<RawSocket> {
  const socket = await connect(ts);
  socket.write(`PUT /storage/v1/data/set/${key} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: 1000\r\n\r\nx`);
  await waitForInFlight(ts, 1);
  return socket;
}

/** Waits until `ts` counts `count` requests in flight. */
async function waitForInFlight(ts: TestServer, count: number): Promise<void> {
  for (let tries = 0; tries < 250; tries++) {
    const metrics = (await rawRequest(ts.origin, 'GET', '/metrics')).text;
    if (new RegExp(`^stowage_http_requests_in_flight ${count}$`, 'm').test(metrics)) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`the server never had ${count} requests in flight`);
}

/** Sends `request` (the request line and headers; `body` after them) on a fresh connection. */
async function send(ts: TestServer, request: string, body = ''): Promise<RawSocket> {
  const socket = await connect(ts);
  socket.write(`${request}\r\nHost: x\r\n\r\n${body}`);
  return socket;
}

/** The connection was kept: no `Connection: close`, and `GET /healthz` is answered on it next. */
async function assertKept(socket: RawSocket, refused: RawAnswer): Promise<void> {
  assert.equal(refused.headers.connection, 'keep-alive', `the refusal keeps the connection: ${JSON.stringify(refused.headers)}`);
  socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
  const [, next] = await socket.responses(2);
  assert.equal(next?.status, 200, 'the same connection serves the next request');
  assert.equal(socket.isClosed(), false);
}

/** The connection was closed after the answer. */
async function assertClosed(socket: RawSocket, refused: RawAnswer): Promise<void> {
  assert.equal(refused.headers.connection, 'close');
  await socket.closed();
}

const LARGE = 8 * 1024 * 1024;

describe('a user past its share (429 RateLimited)', () => {
  let ts: TestServer;
  let token: string;
  let bearer: string;
  before(async () => {
    ts = await startTestServer({ maxInFlightPerTenant: 1 });
    token = await ts.token('greedy');
    bearer = `Authorization: Bearer ${token}`;
    await holdSlot(ts, token, 'held');
  });
  after(() => closeAll(ts));

  test('a GET without a body keeps its connection', async () => {
    const socket = await send(ts, `GET /storage/v1/data/list HTTP/1.1\r\n${bearer}`);
    const [refused] = await socket.responses(1);
    assert.equal(refused?.status, 429);
    assert.match(refused?.body ?? '', /"code":"RateLimited"/);
    assert.equal(refused?.headers['retry-after'], '1');
    await assertKept(socket, refused as RawAnswer);
  });

  test('a PUT whose small body was sent whole keeps its connection', async () => {
    const socket = await send(ts, `PUT /storage/v1/data/set/small HTTP/1.1\r\n${bearer}\r\nContent-Length: 5`, 'hello');
    const [refused] = await socket.responses(1);
    assert.equal(refused?.status, 429);
    await assertKept(socket, refused as RawAnswer);
  });

  test('a PUT whose small body is still on its way keeps its connection, and the body is read past', async () => {
    const socket = await send(ts, `PUT /storage/v1/data/set/small HTTP/1.1\r\n${bearer}\r\nContent-Length: 10`, 'hello');
    const [refused] = await socket.responses(1);
    assert.equal(refused?.status, 429);
    assert.equal(refused?.headers.connection, 'keep-alive');
    socket.write('world');
    await assertKept(socket, refused as RawAnswer);
  });

  test('a PUT of a large body that was not read closes its connection', async () => {
    const socket = await send(ts, `PUT /storage/v1/data/set/large HTTP/1.1\r\n${bearer}\r\nContent-Length: ${LARGE}`, 'x'.repeat(1024));
    const [refused] = await socket.responses(1);
    assert.equal(refused?.status, 429);
    await assertClosed(socket, refused as RawAnswer);
  });

  test('a PUT that waits for 100 Continue closes its connection: its body may never come', async () => {
    const socket = await send(ts, `PUT /storage/v1/data/set/small HTTP/1.1\r\n${bearer}\r\nContent-Length: 5\r\nExpect: 100-continue`);
    const [refused] = await socket.responses(1);
    assert.equal(refused?.status, 429);
    await assertClosed(socket, refused as RawAnswer);
  });
});

describe('a full server (503 Overloaded)', () => {
  let ts: TestServer;
  let holder: RawSocket;
  before(async () => {
    ts = await startTestServer({ maxInFlight: 1 });
    holder = await holdSlot(ts, await ts.token('holder'), 'held');
  });
  after(() => closeAll(ts));

  test('a GET without a body keeps its connection, which serves it once there is room', async () => {
    const token = await ts.token('patient');
    const get = `GET /storage/v1/data/list HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n\r\n`;
    const socket = await send(ts, `GET /storage/v1/data/list HTTP/1.1\r\nAuthorization: Bearer ${token}`);
    const [refused] = await socket.responses(1);
    assert.equal(refused?.status, 503);
    assert.match(refused?.body ?? '', /"code":"Overloaded"/);
    await assertKept(socket, refused as RawAnswer);

    holder.destroy();
    // The slot comes back when the held upload's response closes: until then each try is refused, on the same connection.
    for (let tries = 3; ; tries++) {
      socket.write(get);
      const answers = await socket.responses(tries);
      if (answers[tries - 1]?.status === 200) break;
      assert.equal(answers[tries - 1]?.status, 503);
      assert.ok(tries < 200, 'the slot never came back');
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    holder = await holdSlot(ts, await ts.token('holder'), 'held-again');
  });

  test('S3: a GetObject (no body) and a PutObject with its small body sent keep their connections', async () => {
    const get = await send(ts, 'GET /s3/data/some-key HTTP/1.1');
    const [refusedGet] = await get.responses(1);
    assert.equal(refusedGet?.status, 503);
    assert.match(refusedGet?.body ?? '', /<Code>SlowDown<\/Code>/);
    await assertKept(get, refusedGet as RawAnswer);

    const put = await send(ts, 'PUT /s3/data/some-key HTTP/1.1\r\nContent-Length: 5', 'hello');
    const [refusedPut] = await put.responses(1);
    assert.equal(refusedPut?.status, 503);
    await assertKept(put, refusedPut as RawAnswer);
  });

  test('S3: a PutObject of a large body that was not read closes its connection', async () => {
    const socket = await send(ts, `PUT /s3/data/large HTTP/1.1\r\nContent-Length: ${LARGE}`, 'x'.repeat(1024));
    const [refused] = await socket.responses(1);
    assert.equal(refused?.status, 503);
    await assertClosed(socket, refused as RawAnswer);
  });
});
