import http from 'node:http';
import { listenOnLoopback } from './loopback-listener.js';

export interface ProxyFaults {
  /** Forward the request, wait for the server's whole answer, then close the client's connection instead of passing it on. */
  dropAnswer?: (request: http.IncomingMessage) => boolean;
  /** Answer the request here, without forwarding it; return false to forward it. */
  answerInstead?: (request: http.IncomingMessage, response: http.ServerResponse) => boolean;
}

/**
 * A real HTTP proxy in front of a real server that misbehaves on chosen requests: it loses the
 * answer to a request that took effect (`dropAnswer`), or answers in the server's place
 * (`answerInstead`, e.g. a 503 the server would send under load). Everything else passes through.
 */
export async function startFaultProxy(targetUrl: string, faults: ProxyFaults) {
  const target = new URL(targetUrl);
  const stats = { forwarded: 0, dropped: 0, answered: 0 };
  const server = http.createServer((request, response) => {
    if (faults.answerInstead?.(request, response)) {
      stats.answered++;
      return;
    }
    stats.forwarded++;
    const dropThis = faults.dropAnswer?.(request) ?? false;
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
  const { port, close } = await listenOnLoopback(server);
  return {
    url: `http://127.0.0.1:${port}${target.pathname}`,
    stats,
    close,
  };
}

/** True for the first request with this method, and for no other. */
export function firstOf(method: string): (request: http.IncomingMessage) => boolean {
  let done = false;
  return (request) => {
    if (done || request.method !== method) return false;
    done = true;
    return true;
  };
}
