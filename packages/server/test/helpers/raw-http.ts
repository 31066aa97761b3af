import http from 'node:http';
import type { Readable } from 'node:stream';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
  json<T = unknown>(): T;
}

/**
 * Sends one request with exactly the given path and headers (no URL normalization, unlike
 * fetch), the way the Python client's requests do, and collects the response.
 */
export function rawRequest(
  origin: string,
  method: string,
  path: string,
  options: {
    headers?: http.OutgoingHttpHeaders;
    body?: string | Buffer | Readable;
    /** Fails the request (rather than waiting on) when no response came within this many ms. */
    timeoutMs?: number;
  } = {},
): Promise<RawResponse> {
  const { hostname, port } = new URL(origin);
  return new Promise((resolve, reject) => {
    const request = http.request({ hostname, port, method, path, headers: options.headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', reject);
      response.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({
          status: response.statusCode ?? 0,
          headers: response.headers,
          body,
          text: body.toString('utf8'),
          json: <T>() => JSON.parse(body.toString('utf8')) as T,
        });
      });
    });
    request.on('error', reject);
    if (options.timeoutMs !== undefined) {
      request.setTimeout(options.timeoutMs, () => request.destroy(new Error(`no response within ${options.timeoutMs} ms: it hung`)));
    }
    const body = options.body;
    if (body === undefined) request.end();
    else if (typeof body === 'string' || Buffer.isBuffer(body)) request.end(body);
    else body.pipe(request);
  });
}

/** Request helpers bound to one server and token, sending what the Python client sends. */
export function pythonLikeClient(origin: string, token: string) {
  const auth = { authorization: `Bearer ${token}` };
  // The Python client sends Content-Type: application/json with an empty body on GET/HEAD/DELETE.
  const jsonNoBody = { ...auth, 'content-type': 'application/json', 'x-request-group': 'py-group-1' };
  return {
    get: (path: string, headers: http.OutgoingHttpHeaders = {}) =>
      rawRequest(origin, 'GET', `/storage/v1${path}`, { headers: { ...jsonNoBody, ...headers } }),
    head: (path: string) => rawRequest(origin, 'HEAD', `/storage/v1${path}`, { headers: jsonNoBody }),
    delete: (path: string) => rawRequest(origin, 'DELETE', `/storage/v1${path}`, { headers: jsonNoBody }),
    put: (path: string, body: string | Buffer, headers: http.OutgoingHttpHeaders = { 'content-type': 'application/octet-stream' }) =>
      rawRequest(origin, 'PUT', `/storage/v1${path}`, { headers: { ...auth, ...headers }, body }),
  };
}
