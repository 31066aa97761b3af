// Guards the HTTP edge against what hostile testing found: content types with control
// characters (stored, then a 500 on HEAD), 100 Continue sent before auth and limits, gzip
// transfer codings stored undecoded, bodies and headers that stall forever, signed URLs built
// from a forged X-Forwarded-Host, and a client-chosen request id echoed unchecked.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { pythonLikeClient } from './helpers/raw-http.js';
import { openRawSocket } from './helpers/raw-socket.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

describe('HTTP edge', () => {
  let ts: TestServer;
  let token: string;
  let py: ReturnType<typeof pythonLikeClient>;
  before(async () => {
    ts = await startTestServer({ bodyIdleTimeoutMs: 400, headersTimeoutMs: 400, maxObjectBytes: 1024 * 1024 });
    token = await ts.token('alice');
    py = pythonLikeClient(ts.origin, token);
  });
  after(() => ts.close());

  test('content types with CR/LF, NUL or DEL, or that are no media type, are refused with 400 InvalidContentType', async () => {
    for (const bad of ['text/plain%0D%0AX-Injected:%201', 'text/plain%00', 'text/pl%7Fain', 'no-slash', 'text/plain;%20a=%22x']) {
      const response = await py.get(`/data/new_resumable_url/typed?content_type=${bad}`);
      assert.equal(response.status, 400, bad);
      assert.equal(response.json<{ code: string }>().code, 'InvalidContentType', bad);
    }
    const good = await py.get('/data/new_resumable_url/typed?content_type=text%2Fcsv%3B%20charset%3Dutf-8');
    assert.equal(good.status, 200);

    const socket = await openRawSocket(ts.origin);
    socket.write(
      `PUT /storage/v1/data/set/typed HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
        'Content-Type: text/pl\x7fain\r\nContent-Length: 2\r\n\r\nhi',
    );
    const answer = await socket.waitFor(/\r\n\r\n\{.*\}/s);
    socket.destroy();
    // Node's parser refuses the DEL before any route runs.
    assert.match(answer, /^HTTP\/1\.1 400 /);
    assert.match(answer, /"code":"InvalidArgument"/);
    assert.equal((await py.put('/data/set/typed', 'x', { 'content-type': 'bogus' })).status, 400);
    assert.equal((await py.head('/data/get/typed')).status, 404, 'nothing was stored');
    assert.equal((await py.put('/data/set/typed', 'x', { 'content-type': 'text/csv; charset=utf-8' })).status, 200);
    assert.equal((await py.head('/data/get/typed')).headers['content-type'], 'text/csv; charset=utf-8');
  });

  test('Expect: 100-continue is answered with the refusal when auth, size or signature fail, 100 only then', async () => {
    const ask = async (request: string) => {
      const socket = await openRawSocket(ts.origin);
      socket.write(request);
      const answer = await socket.waitFor(/^HTTP\/1\.1 \d{3} /);
      return { socket, answer };
    };
    const headers = (extra: string) => `Host: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n${extra}\r\n`;
    const noAuth = await ask(`PUT /storage/v1/data/set/expect HTTP/1.1\r\n${headers('')}`);
    assert.match(noAuth.answer, /^HTTP\/1\.1 401 /);
    noAuth.socket.destroy();

    const tooBig = await ask(
      `PUT /storage/v1/data/set/expect HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nAuthorization: Bearer ${token}\r\nContent-Length: 2000000\r\n\r\n`,
    );
    assert.match(tooBig.answer, /^HTTP\/1\.1 413 /);
    tooBig.socket.destroy();

    const url = new URL((await py.get('/data/new_resumable_url/expect')).text);
    const forged = await ask(`PUT ${url.pathname}${url.search.replace('signature=', 'signature=A')} HTTP/1.1\r\n${headers('')}`);
    assert.match(forged.answer, /^HTTP\/1\.1 403 /);
    forged.socket.destroy();

    const fine = await ask(`PUT /storage/v1/data/set/expect HTTP/1.1\r\n${headers(`Authorization: Bearer ${token}\r\n`)}`);
    assert.match(fine.answer, /^HTTP\/1\.1 100 Continue\r\n\r\n$/);
    fine.socket.write('hello');
    await fine.socket.waitFor(/HTTP\/1\.1 200 /);
    fine.socket.destroy();
    assert.equal((await py.get('/data/get/expect')).text, 'hello');
  });

  test('a transfer coding other than chunked gets 501 and stores nothing', async () => {
    const socket = await openRawSocket(ts.origin);
    socket.write(
      `PUT /storage/v1/data/set/gz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
        'Transfer-Encoding: gzip, chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    );
    const answer = await socket.waitFor(/\r\n\r\n\{.*\}/s);
    socket.destroy();
    assert.match(answer, /^HTTP\/1\.1 501 /);
    assert.match(answer, /"code":"UnsupportedTransferEncoding"/);
    assert.equal((await py.get('/data/get/gz')).status, 404);

    const chunked = await openRawSocket(ts.origin);
    chunked.write(
      `PUT /storage/v1/data/set/gz HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\n` +
        'Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
    );
    await chunked.waitFor(/^HTTP\/1\.1 200 /);
    chunked.destroy();
    assert.equal((await py.get('/data/get/gz')).text, 'hello');
  });

  test('a body that stops arriving is abandoned with 408: nothing stored, previous value kept, no temp file', async () => {
    assert.equal((await py.put('/data/set/stall', 'previous')).status, 200);
    const socket = await openRawSocket(ts.origin);
    socket.write(`PUT /storage/v1/data/set/stall HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${token}\r\nContent-Length: 100000\r\n\r\n`);
    socket.write(Buffer.alloc(50_000, 'n'));
    const answer = await socket.waitFor(/\r\n\r\n\{.*\}/s);
    assert.match(answer, /^HTTP\/1\.1 408 /);
    assert.match(answer, /"code":"RequestTimeout"/);
    await socket.closed();
    assert.equal((await py.get('/data/get/stall')).text, 'previous');
    assert.deepEqual((await ts.files()).temp, []);
  });

  test('headers that never finish are cut off', async () => {
    const socket = await openRawSocket(ts.origin);
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    await socket.closed(5000);
    assert.match(socket.received(), /^HTTP\/1\.1 408 .*"code":"RequestTimeout"/s);
  });

  test('a well-formed X-Request-Group is the request id; a hostile one is replaced', async () => {
    const group = '9b2c5f0e-6a51-4f7e-9d1e-3c2a1b0f9e8d';
    assert.equal((await py.get('/data/list', { 'x-request-group': group })).headers['x-request-id'], group);
    for (const hostile of ['x'.repeat(10_000), 'a"b', 'a b', '']) {
      const id = (await py.get('/data/list', { 'x-request-group': hostile })).headers['x-request-id'];
      assert.ok(typeof id === 'string' && id !== hostile && /^[0-9a-f]{8}-[0-9a-z]+$/.test(id), `${hostile.slice(0, 20)} → ${id}`);
    }
  });

  test('signed URLs ignore X-Forwarded-Host and -Proto unless the proxy is trusted', async () => {
    assert.equal((await py.put('/data/set/fwd', 'x')).status, 200);
    const forged = { 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' };
    const url = (await py.get('/data/get_signed_url/fwd', forged)).text;
    assert.ok(url.startsWith(`${ts.origin}/`), url);

    const behindProxy = await startTestServer({ trustProxy: true });
    try {
      const client = pythonLikeClient(behindProxy.origin, await behindProxy.token('alice'));
      assert.equal((await client.put('/data/set/fwd', 'x')).status, 200);
      assert.match((await client.get('/data/get_signed_url/fwd', forged)).text, /^https:\/\/evil\.example\/storage\/v1\/signed\//);
    } finally {
      await behindProxy.close();
    }
    const fixed = await startTestServer({ publicUrl: 'https://storage.example.com', trustProxy: true });
    try {
      const client = pythonLikeClient(fixed.origin, await fixed.token('alice'));
      assert.equal((await client.put('/data/set/fwd', 'x')).status, 200);
      assert.match((await client.get('/data/get_signed_url/fwd', forged)).text, /^https:\/\/storage\.example\.com\/storage\/v1\/signed\//);
    } finally {
      await fixed.close();
    }
  });
});
