// Guards the fast read path (src/http/fast-read.ts): a plain GET or HEAD of a small object is
// answered ahead of Fastify, and must be indistinguishable from the route's answer; anything
// else must go to the route.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const T0 = Date.UTC(2026, 10, 26, 12, 0, 0);
/** Headers that differ between any two responses: when they were sent, and the request id. */
const PER_RESPONSE = new Set(['date', 'x-request-id']);

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

async function call(ts: TestServer, method: string, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(`${ts.url}${path}`, { method, headers });
  const all = Object.fromEntries(response.headers);
  for (const name of PER_RESPONSE) delete all[name];
  return { status: response.status, headers: all, body: await response.text() };
}

/** The same answer: errors by their code (their bodies name their own request ids), the rest byte for byte. */
function assertSameAnswer(a: Answer, b: Answer, label: string): void {
  if (a.status >= 400) {
    assert.equal(JSON.parse(a.body).code, JSON.parse(b.body).code, label);
    for (const answer of [a, b]) {
      delete answer.headers['content-length'];
      answer.body = '';
    }
  } else assert.equal(a.body, b.body, label);
  assert.deepEqual(a, b, label);
}

async function fastReads(ts: TestServer): Promise<number> {
  const text = await (await fetch(`${ts.origin}/metrics`)).text();
  return Number(/^stowage_http_fast_reads_total (\d+)/m.exec(text)?.[1] ?? Number.NaN);
}

describe('fast read path', () => {
  let fast: TestServer;
  let routed: TestServer;
  const auth: Record<string, Record<string, string>> = {};

  before(async () => {
    fast = await startTestServer();
    // The access log turns the fast path off: this server answers every read through Fastify.
    routed = await startTestServer({ accessLog: true, logLevel: 'silent' });
    for (const ts of [fast, routed]) {
      ts.clock.nowMs = T0;
      const headers = { authorization: `Bearer ${await ts.token('alice')}` };
      auth[ts.url] = headers;
      for (const [path, body, type] of [
        ['/data/set/notes/hello.txt', 'hello, world', 'text/plain; charset=utf-8'],
        ['/tmp/set/expiring.bin?expires_in=3600', 'x'.repeat(1000), 'application/octet-stream'],
        ['/data/set/with%20space%2Bplus%25.txt', 'odd key', ''],
        ['/data/set/big.bin', 'b'.repeat(100_000), 'application/octet-stream'],
      ] as const) {
        const stored = await fetch(`${ts.url}${path}`, {
          method: 'PUT',
          headers: { ...headers, ...(type ? { 'content-type': type } : {}) },
          body,
        });
        assert.equal(stored.status, 200, `PUT ${path}`);
      }
      ts.clock.nowMs = T0 + 5_500;
    }
  });
  after(async () => {
    await fast.close();
    await routed.close();
  });

  const reads: Array<[string, string, Record<string, string>?]> = [
    ['GET', '/data/get/notes/hello.txt'],
    ['HEAD', '/data/get/notes/hello.txt'],
    ['GET', '/tmp/get/expiring.bin'],
    ['HEAD', '/tmp/get/expiring.bin'],
    ['GET', '/data/get/with%20space%2Bplus%25.txt'],
    ['GET', '/data/get/big.bin'],
    ['GET', '/data/get/notes/missing.txt'],
    ['GET', '/data/get/notes/hello.txt', { range: 'bytes=0-4' }],
    ['GET', '/data/get/notes/hello.txt', { 'if-none-match': '"other"' }],
    ['GET', '/nope/get/notes/hello.txt'],
    ['GET', '/data/get/bad%ZZescape'],
  ];

  test('every read answers exactly as the route does (status, headers, body)', async () => {
    for (const [method, path, extra] of reads) {
      const a = await call(fast, method, path, { ...auth[fast.url], ...extra });
      const b = await call(routed, method, path, { ...auth[routed.url], ...extra });
      assertSameAnswer(a, b, `${method} ${path} ${JSON.stringify(extra ?? {})}`);
    }
  });

  test('only plain reads of small objects by a known token take it; the rest go to the route', async () => {
    const headers = auth[fast.url] ?? {};
    const before = await fastReads(fast);
    const answered = await fetch(`${fast.url}/data/get/notes/hello.txt`, { headers: { ...headers, 'x-request-group': 'group-123' } });
    assert.equal(answered.headers.get('x-request-id'), 'group-123', 'the request id, as the route gives it');
    assert.equal(await answered.text(), 'hello, world');
    await call(fast, 'HEAD', '/data/get/notes/hello.txt', headers);
    assert.equal(await fastReads(fast), before + 2);
    await call(fast, 'GET', '/data/get/notes/hello.txt', { ...headers, range: 'bytes=1-2' });
    await call(fast, 'GET', '/data/get/big.bin', headers);
    await call(fast, 'GET', '/data/get/notes/missing.txt', headers);
    await call(fast, 'GET', '/data/get/notes/hello.txt?x=1', headers);
    assert.equal(await fastReads(fast), before + 2, "ranges, blobs, misses and queries are the route's");
    // A token the server has not verified yet goes through the route first, then takes the fast path.
    const bob = { authorization: `Bearer ${await fast.token('bob')}` };
    assert.equal((await call(fast, 'GET', '/data/get/notes/hello.txt', bob)).status, 404);
    assert.equal((await call(fast, 'GET', '/data/get/notes/hello.txt', { authorization: 'Bearer not.a.token' })).status, 401);
    assert.equal(await fastReads(fast), before + 2);
  });

  test('a shared bucket is judged by the one authorization decision: a grantee reads fast, a stranger is refused as by the route', async () => {
    for (const ts of [fast, routed]) {
      const owner = auth[ts.url] ?? {};
      const created = await fetch(`${ts.url}/buckets`, {
        method: 'POST',
        headers: { ...owner, 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'fast-shared' }),
      });
      assert.equal(created.status, 201);
      const shared = await fetch(`${ts.url}/buckets/fast-shared/share`, {
        method: 'POST',
        headers: { ...owner, 'content-type': 'application/json' },
        body: JSON.stringify({ grantee: { user: 'bob' }, permission: 'READ', prefix: 'open/' }),
      });
      assert.equal(shared.status, 200);
      for (const key of ['open/a.txt', 'closed/b.txt'])
        assert.equal((await fetch(`${ts.url}/fast-shared/set/${key}`, { method: 'PUT', headers: owner, body: key })).status, 200);
    }
    const reader = async (ts: TestServer, user: string) => ({ authorization: `Bearer ${await ts.token(user)}` });
    for (const [user, path] of [
      ['bob', '/fast-shared/get/open/a.txt'],
      ['bob', '/fast-shared/get/closed/b.txt'],
      // Missing outside the grant: a refusal, not a 404 that would tell whether it exists.
      ['bob', '/fast-shared/get/closed/missing.txt'],
      ['carol', '/fast-shared/get/open/a.txt'],
    ] as const) {
      // Twice: the first read of a token is verified through the route, the second may take the fast path.
      for (let round = 0; round < 2; round++) {
        const a = await call(fast, 'GET', path, await reader(fast, user));
        const b = await call(routed, 'GET', path, await reader(routed, user));
        assertSameAnswer(a, b, `${user} GET ${path}`);
      }
    }
    const before = await fastReads(fast);
    const bob = await reader(fast, 'bob');
    assert.equal((await call(fast, 'GET', '/fast-shared/get/open/a.txt', bob)).body, 'open/a.txt');
    assert.equal(await fastReads(fast), before + 1, "the grantee's read took the fast path");
    assert.equal((await call(fast, 'GET', '/fast-shared/get/closed/b.txt', bob)).status, 403);
    assert.equal(await fastReads(fast), before + 1, "a refusal is the route's");
  });

  test('admission and the per-user share count fast reads too, and a full server refuses through the route', async () => {
    const tight = await startTestServer({ maxInFlight: 1 });
    try {
      const headers = { authorization: `Bearer ${await tight.token('carol')}` };
      await fetch(`${tight.url}/data/set/k`, { method: 'PUT', headers, body: 'v' });
      const answers = await Promise.all(Array.from({ length: 20 }, () => fetch(`${tight.url}/data/get/k`, { headers })));
      const statuses = answers.map((a) => a.status);
      await Promise.all(answers.map((a) => a.arrayBuffer()));
      assert.ok(
        statuses.every((s) => s === 200 || s === 503),
        statuses.join(' '),
      );
      const metrics = await (await fetch(`${tight.origin}/metrics`)).text();
      assert.match(metrics, /^stowage_http_requests_in_flight 0$/m, 'every admitted read left');
    } finally {
      await tight.close();
    }
  });
});
