#!/usr/bin/env node
// The flood of the fresh-connection scenario (bench/scenarios/flood.mjs), in a process of its own:
// CONNECTIONS keep-alive connections of one user, each sending a GET of KEY and a PUT of 1 KiB in
// turn, the next as soon as the answer is in, for SECONDS. A connection the server closes is
// opened again at once, as HTTP clients and load balancers do. Raw sockets, so that the load
// generator costs as little CPU as it can. Prints `flooding` once every connection is open, then
// one JSON line (at SECONDS or on SIGTERM): requests, statuses, new connections after the first, errors.
// Environment: BENCH_URL (…/storage/v1), BENCH_TOKEN.
//   flood-worker.mjs CONNECTIONS SECONDS KEY
import net from 'node:net';

const [connections, seconds, key] = [Number(process.argv[2]), Number(process.argv[3]), process.argv[4]];
const url = new URL(process.env.BENCH_URL);
const head = `Host: ${url.host}\r\nAuthorization: Bearer ${process.env.BENCH_TOKEN}\r\n`;
const get = Buffer.from(`GET ${url.pathname}/data/get/${key} HTTP/1.1\r\n${head}\r\n`);
const put = (n) =>
  Buffer.from(
    `PUT ${url.pathname}/data/set/flood-${n} HTTP/1.1\r\n${head}Content-Type: application/octet-stream\r\nContent-Length: 1024\r\n\r\n${'f'.repeat(1024)}`,
  );

const totals = { requests: 0, statuses: {}, reconnects: 0, errors: 0 };
let running = true;

/** One connection: a request, its answer, the next; opened again when the server closes it. */
function flood(n, onOpen) {
  const requests = [get, put(n)];
  let turn = 0;
  let pending = '';
  const socket = net.connect(Number(url.port), url.hostname);
  socket.setNoDelay(true);
  const send = () => socket.write(requests[turn++ % 2]);
  socket.once('connect', () => {
    onOpen?.();
    send();
  });
  socket.on('data', (chunk) => {
    pending += chunk.toString('latin1');
    for (;;) {
      const end = pending.indexOf('\r\n\r\n');
      if (end === -1) return;
      const headers = pending.slice(0, end);
      const length = Number(/\r\ncontent-length: *(\d+)/i.exec(headers)?.[1] ?? 0);
      if (pending.length < end + 4 + length) return;
      pending = pending.slice(end + 4 + length);
      const status = headers.slice(9, 12);
      totals.requests++;
      totals.statuses[status] = (totals.statuses[status] ?? 0) + 1;
      // Asked to close: the server ends the connection after this answer, and 'close' opens a new one.
      if (/\r\nconnection: *close/i.test(headers)) return;
      if (running) send();
    }
  });
  socket.on('error', () => {
    if (running) totals.errors++;
  });
  socket.on('close', () => {
    if (!running) return;
    totals.reconnects++;
    flood(n);
  });
  sockets[n] = socket;
}

const sockets = [];
let open = 0;
for (let n = 0; n < connections; n++)
  flood(n, () => {
    if (++open === connections) process.stdout.write('flooding\n');
  });
/** Stops at SECONDS, or earlier when the harness sends SIGTERM, and prints the totals. */
function finish() {
  if (!running) return;
  running = false;
  for (const socket of sockets) socket.destroy();
  process.stdout.write(`${JSON.stringify(totals)}\n`);
}
setTimeout(finish, seconds * 1000).unref();
process.once('SIGTERM', finish);
