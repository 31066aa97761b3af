import http from 'node:http';
import type { ServerConfig } from '../config.js';
import { httpServerOptions } from '../http/http-server.js';

/** The S3 API's path on the main port (`/s3/BUCKET/KEY`). */
export const S3_BASE_PATH = '/s3';

const SIGNED_URL = Symbol('stowage.s3.signedUrl');
type Tagged = http.IncomingMessage & { [SIGNED_URL]?: string };

/** The request target as the client sent and signed it (the S3 port's, before its rewrite). */
export function signedUrlOf(request: http.IncomingMessage): string {
  return (request as Tagged)[SIGNED_URL] ?? request.url ?? '/';
}

/**
 * A listener serving the S3 API at the root of a port of its own (STOWAGE_S3_PORT), for clients
 * that take an endpoint as host and port only (s3cmd, mc, DuckDB, s3fs): `/BUCKET/KEY` there is
 * dispatched as `/s3/BUCKET/KEY`, so the same routes, limits and metrics serve it, and the
 * signature is checked against the target the client signed. Its connections have the API's timeouts.
 */
export function createS3RootListener(
  config: ServerConfig,
  dispatch: (request: http.IncomingMessage, response: http.ServerResponse) => void,
): http.Server {
  const server = http.createServer(httpServerOptions(config));
  const handle = (request: http.IncomingMessage, response: http.ServerResponse) => {
    const target = request.url ?? '/';
    (request as Tagged)[SIGNED_URL] = target;
    request.url = `${S3_BASE_PATH}${target.startsWith('/') ? target : `/${target}`}`;
    dispatch(request, response);
  };
  server.on('request', handle);
  server.on('checkContinue', handle);
  return server;
}
