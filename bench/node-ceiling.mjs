#!/usr/bin/env node
// The node-ceiling reference of the performance targets (docs/BENCHMARKS.md): the most a bare node:http server does here.
//   GET  /large        streams the stored file (--file or BENCH_LARGE_FILE), 1 MiB reads
//   GET  anything else a fixed 1 KiB buffer
//   PUT  /put/NAME     drains the body into DIR/NAME (--put-dir or BENCH_PUT_DIR), no fsync
// Usage: node bench/node-ceiling.mjs [--port N] [--file PATH] [--put-dir DIR]
// Prints "node-ceiling serving http://127.0.0.1:PORT" once listening; stops on SIGTERM/SIGINT.
import { createReadStream, createWriteStream, mkdirSync, statSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

function option(name, envName, fallback) {
  const at = process.argv.indexOf(`--${name}`);
  if (at !== -1 && process.argv[at + 1] !== undefined) return process.argv[at + 1];
  return process.env[envName] ?? fallback;
}

const port = Number(option('port', 'BENCH_PORT', '0'));
const largeFile = option('file', 'BENCH_LARGE_FILE', undefined);
const putDir = option('put-dir', 'BENCH_PUT_DIR', undefined);
if (putDir) mkdirSync(putDir, { recursive: true });

const SMALL = Buffer.alloc(1024, 'x');

async function handle(req, res) {
  if (req.method === 'GET' && req.url === '/large' && largeFile) {
    const { size } = statSync(largeFile);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': size });
    await pipeline(createReadStream(largeFile, { highWaterMark: 1024 * 1024 }), res);
    return;
  }
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': SMALL.length });
    res.end(SMALL);
    return;
  }
  if (req.method === 'PUT' && req.url.startsWith('/put/') && putDir) {
    const name = decodeURIComponent(req.url.slice('/put/'.length)).replaceAll('/', '_');
    await pipeline(req, createWriteStream(path.join(putDir, name)));
    res.writeHead(201, { 'content-length': 0 });
    res.end();
    return;
  }
  req.resume();
  res.writeHead(404, { 'content-length': 0 });
  res.end();
}

const server = http.createServer((req, res) => {
  handle(req, res).catch((error) => {
    if (!res.headersSent) res.writeHead(500, { 'content-length': 0 });
    res.destroy(error);
  });
});
server.keepAliveTimeout = 75_000;
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`node-ceiling serving http://127.0.0.1:${server.address().port}\n`);
});
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
