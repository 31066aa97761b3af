import http from 'node:http';
import type net from 'node:net';

export type DropRule = (request: http.IncomingMessage) => boolean;

/**
 * A real HTTP proxy in front of a server that forwards every request, but for those `drop`
 * picks it waits until the server's whole answer has arrived and then closes the client's
 * connection instead of passing the answer on: the request took effect, its response was lost.
 */
export async function startResponseDroppingProxy(targetUrl: string, drop: DropRule) {
  const target = new URL(targetUrl);
  const stats = { forwarded: 0, dropped: 0 };
  const sockets = new Set<net.Socket>();
  const server = http.createServer((request, response) => {
    stats.forwarded++;
    const dropThis = drop(request);
    const upstream = http.request(
      { host: target.hostname, port: target.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        if (dropThis) {
          answer.resume();
          answer.on('end', () => {
            stats.dropped++;
            request.socket.destroy();
          });
          return;
        }
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => request.socket.destroy());
    request.pipe(upstream);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    stats,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Drops the answer to the first request with this method, and to no other. */
export function firstOf(method: string): DropRule {
  let done = false;
  return (request) => {
    if (done || request.method !== method) return false;
    done = true;
    return true;
  };
}
