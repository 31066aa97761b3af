import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { BlobsConfig } from '../../src/config.js';

/**
 * How the store answers everything but HeadBucket (always 200, so a server can start on it):
 * - `ok`: PutObject, GetObject (with Range) and DeleteObject over objects kept in memory;
 * - `hang`: reads the request and never answers, as Ceph RGW does while a full cluster holds its writes;
 * - `full`: 507 InsufficientStorage, as a store out of space answers;
 * - `quota`: 403 QuotaExceeded, as RGW answers past a user's or bucket's quota.
 */
export type StoreMode = 'ok' | 'hang' | 'full' | 'quota';

/** A small S3 endpoint on loopback that misbehaves on purpose. */
export interface FakeS3Store {
  mode: StoreMode;
  /** The server's blob store setting for it (bucket `bucket`, prefix `p`). */
  readonly blobs: BlobsConfig;
  /** What it holds, by key. */
  readonly objects: Map<string, Buffer>;
  /** Requests it has not answered whose connection is still open. */
  unanswered(): number;
  close(): Promise<void>;
}

const errorXml = (code: string, message: string) =>
  `<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message><RequestId>fake</RequestId></Error>`;

export async function startFakeS3Store(): Promise<FakeS3Store> {
  const objects = new Map<string, Buffer>();
  const hanging = new Set<IncomingMessage>();
  const store = { mode: 'ok' as StoreMode };
  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://store');
    if (request.method === 'HEAD' && /^\/bucket\/?$/.test(url.pathname)) return void response.writeHead(200).end();
    if (store.mode === 'hang') {
      hanging.add(request);
      request.socket.once('close', () => hanging.delete(request));
      return void request.resume();
    }
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => answer(request, response, url, Buffer.concat(chunks)));
  });
  const answer = (request: IncomingMessage, response: ServerResponse, url: URL, body: Buffer) => {
    const xml = (status: number, code: string, message: string) =>
      response.writeHead(status, { 'content-type': 'application/xml' }).end(errorXml(code, message));
    if (store.mode === 'full') return xml(507, 'InsufficientStorage', 'The store is out of space');
    if (store.mode === 'quota') return xml(403, 'QuotaExceeded', 'The quota of the bucket is exhausted');
    const key = decodeURIComponent(url.pathname.replace(/^\/bucket\//, ''));
    // The SDK names the operation in `x-id`; any other parameter is a subresource this store lacks.
    url.searchParams.delete('x-id');
    if (request.method === 'PUT' && !url.search) {
      objects.set(key, body);
      return void response.writeHead(200, { etag: `"${createHash('md5').update(body).digest('hex')}"` }).end();
    }
    if (request.method === 'DELETE' && !url.search) {
      objects.delete(key);
      return void response.writeHead(204).end();
    }
    const held = objects.get(key);
    if (request.method === 'GET' && !url.search) {
      if (!held) return xml(404, 'NoSuchKey', 'The specified key does not exist.');
      const range = /^bytes=(\d+)-(\d+)$/.exec(request.headers.range ?? '');
      if (!range) return void response.writeHead(200, { 'content-length': held.length }).end(held);
      const [start, end] = [Number(range[1]), Math.min(Number(range[2]), held.length - 1)];
      return void response
        .writeHead(206, { 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${held.length}` })
        .end(held.subarray(start, end + 1));
    }
    return xml(501, 'NotImplemented', `${request.method} ${url.pathname}${url.search} is not what this fake store does`);
  };
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    get mode() {
      return store.mode;
    },
    set mode(mode: StoreMode) {
      store.mode = mode;
    },
    blobs: {
      kind: 's3',
      bucket: 'bucket',
      prefix: 'p',
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'AKIDFAKESTORE', secretAccessKey: 'fake-secret' },
    },
    objects,
    unanswered: () => hanging.size,
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
