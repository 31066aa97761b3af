import http from 'node:http';
import type { ServerConfig } from '../config.js';
import type { FastRead } from './fast-read.js';

type Handler = (request: http.IncomingMessage, response: http.ServerResponse) => void;

/**
 * The node:http server under Fastify, with the timeouts that keep slow or stalled clients from
 * holding connections forever: headers must arrive within `headersTimeoutMs`, a whole request
 * within `requestTimeoutMs` (Node answers 408 to either), and an idle keep-alive connection is
 * closed after `keepAliveTimeoutMs`. Node enforces the first two only as often as its
 * `connectionsCheckingInterval`, so that runs at least once a second.
 *
 * `Expect: 100-continue` is not answered here: requests are dispatched at once, and the route
 * sends `100 Continue` only when it starts reading the body, after auth and limits were checked
 * (see expect-continue.ts), so a refused client never sends its body.
 */
export function createHttpServer(config: ServerConfig, fastRead?: FastRead) {
  return (fastify: Handler): http.Server => {
    // Plain reads of small objects may be answered before Fastify (fast-read.ts); what it declines goes on.
    const handler: Handler = fastRead
      ? (request, response) => {
          const answered = fastRead(request, response);
          if (answered === false) fastify(request, response);
          else
            answered.then(
              (done) => done || fastify(request, response),
              () => fastify(request, response),
            );
        }
      : fastify;
    const server = http.createServer(httpServerOptions(config));
    server.on('request', handler);
    server.on('checkContinue', (request, response) => server.emit('request', request, response));
    return server;
  };
}

/** The connection timeouts of every listener (the API's and the S3 port's). */
export function httpServerOptions(config: ServerConfig): http.ServerOptions {
  const requestTimeout = config.requestTimeoutMs;
  return {
    headersTimeout: requestTimeout > 0 ? Math.min(config.headersTimeoutMs, requestTimeout) : config.headersTimeoutMs,
    requestTimeout,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(config.headersTimeoutMs / 2))),
  };
}
