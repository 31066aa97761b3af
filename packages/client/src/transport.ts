import type { Auth } from './auth.js';
import { ConnectionError, errorFromResponse, StorageError, TimeoutError } from './errors.js';
import { FetchTransport } from './fetch-transport.js';
import type { HttpResponse, HttpTransport, HttpTransportFactory, RequestBody } from './http-transport.js';
import { Headers } from './protocol.js';
import { parseRetryAfter, type Retry, type RetryCause, type RetryState } from './retry.js';
import { sleep } from './streams.js';

/** A request body that can be created again for a retry, or one that can be sent only once. */
export interface BodySource {
  create(): RequestBody;
  /** False for streams handed in by the caller: they are never replayed once read. */
  readonly replayable: boolean;
  readonly length: number | undefined;
}

export interface TransportRequest {
  method: 'GET' | 'HEAD' | 'PUT' | 'DELETE' | 'POST' | 'PATCH';
  /** Absolute URL, or a path (already percent-encoded) below the base URL. */
  url: string;
  headers?: Record<string, string>;
  body?: BodySource;
  signal?: AbortSignal | undefined;
  /** Statuses that are answers, not errors (e.g. 404 for exists). */
  acceptStatus?: readonly number[];
  /** Send no Authorization header (signed URLs). */
  anonymous?: boolean;
  /** Retry policy for this request instead of the transport's. */
  retry?: Retry;
}

export type TransportResponse = HttpResponse & {
  /** True when an earlier attempt failed after the request was sent: it may have taken effect. */
  readonly earlierAttemptMayHaveApplied: boolean;
};

export interface TransportOptions {
  baseUrl: string;
  /** Credentials for requests that are not anonymous; without them only anonymous requests are sent. */
  auth?: Auth;
  /** Send every request without credentials (an anonymous client of public buckets). */
  anonymous?: boolean;
  retry: Retry;
  /** [connect, read] in seconds; read is the longest wait for the next byte. */
  timeout: readonly [number, number];
  /** The HTTP stack. Default: fetch. */
  http?: HttpTransportFactory;
}

/** The HTTP transport of every runtime. */
export const fetchTransport: HttpTransportFactory = (timeouts) => new FetchTransport(timeouts);

/** Default `[connect, read]` timeouts in seconds, as in the Python client. */
export const DEFAULT_TIMEOUT: readonly [number, number] = [9.5, 120];

const CONNECT_ERRORS = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);
const READ_ERRORS = new Set([
  'ECONNRESET',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_RES_CONTENT_LENGTH_MISMATCH',
  'ERR_STREAM_PREMATURE_CLOSE',
  // The fetch transport's (fetch-transport.ts): it cannot tell a connect failure from a read one.
  'FETCH_HEADERS_TIMEOUT',
  'FETCH_BODY_TIMEOUT',
  'FETCH_FAILED',
]);

/**
 * One HTTP layer for every call, over an {@link HttpTransport} (fetch or undici): the bearer token, one request id for all attempts of a call plus an attempt counter, and retries
 * by the {@link Retry} policy. `consume` reads the response inside the retry loop, so a body that
 * breaks mid-read is retried like any other read error.
 */
export class Transport {
  readonly http: HttpTransport;
  /** The base URL split once into origin and raw path, for the paths below it (undefined if it is not http(s)). */
  private readonly base: { origin: string; path: string } | undefined;

  constructor(readonly options: TransportOptions) {
    const base = URL_PARTS.exec(options.baseUrl);
    this.base = base?.[1] ? { origin: base[1], path: base[2] ?? '' } : undefined;
    const [connectSeconds, readSeconds] = options.timeout;
    this.http = (options.http ?? fetchTransport)({ connectMs: connectSeconds * 1000, readMs: readSeconds * 1000 });
  }

  urlFor(pathOrUrl: string): string {
    return ABSOLUTE_URL.test(pathOrUrl) ? pathOrUrl : `${this.options.baseUrl}${pathOrUrl}`;
  }

  /** Origin and raw path + query of a request's URL (the same as splitting {@link urlFor}'s answer). */
  private target(pathOrUrl: string): { origin: string; path: string } {
    if (this.base && pathOrUrl.startsWith('/')) return { origin: this.base.origin, path: `${this.base.path}${pathOrUrl}` };
    return splitUrl(this.urlFor(pathOrUrl));
  }

  async send<T>(req: TransportRequest, consume: (response: TransportResponse) => Promise<T>): Promise<T> {
    const policy = req.retry ?? this.options.retry;
    // Counted from the first failure: most calls never need it.
    let retries: RetryState | undefined;
    const requestId = newRequestId();
    let maybeApplied = false;
    let refreshedAfter401 = false;
    for (let attempt = 1; ; attempt++) {
      req.signal?.throwIfAborted();
      let cause: RetryCause;
      let failure: StorageError;
      const body = req.body;
      try {
        const headers: Record<string, string> = { ...req.headers, [Headers.requestGroup]: requestId, [Headers.attempt]: String(attempt) };
        if (!this.isAnonymous(req)) {
          const auth = this.credentials();
          // A valid token in hand needs no await; otherwise the token file is read or the token refreshed.
          headers.authorization = `Bearer ${auth.currentToken() ?? (await auth.tokenVia(this))}`;
        }
        if (body?.length !== undefined) headers['content-length'] = String(body.length);
        const { origin, path } = this.target(req.url);
        const response = await this.followOffload(
          req,
          await this.http.request({
            origin,
            path,
            method: req.method,
            headers,
            body: body?.create(),
            signal: req.signal,
            redirectStatusAnswers: req.acceptStatus?.some((status) => status >= 300 && status < 400),
          }),
        );
        const result: TransportResponse = Object.assign(response, { earlierAttemptMayHaveApplied: maybeApplied });
        if (response.statusCode < 300 || req.acceptStatus?.includes(response.statusCode)) {
          try {
            return await consume(result);
          } catch (error) {
            // A body left unread would hold its connection (and, over fetch, its request slot).
            response.body.dump().catch(() => {});
            throw error;
          }
        }
        const error = await readErrorResponse(response);
        if (response.statusCode === 401 && !this.isAnonymous(req) && this.credentials().canRefresh && !refreshedAfter401) {
          refreshedAfter401 = true;
          this.credentials().invalidate();
          if (!body || body.replayable) continue;
        }
        const retryAfter = parseRetryAfter(response.headers['retry-after']);
        if (!policy.isRetryableStatus(req.method, response.statusCode, retryAfter !== undefined)) throw error;
        cause = { kind: 'status', status: response.statusCode, retryAfterSeconds: retryAfter };
        failure = error;
      } catch (error) {
        if (error instanceof StorageError) throw error;
        if (req.signal?.aborted) throw req.signal.reason ?? error;
        const classified = classifyNetworkError(error);
        if (!classified) throw error;
        cause = { kind: classified.kind };
        failure = classified.error;
        if (cause.kind === 'read') maybeApplied = true;
      }
      if (body && !body.replayable) throw failure;
      retries ??= policy.start();
      const delay = retries.next(req.method, cause);
      if (delay === undefined) throw failure;
      await sleep(delay, req.signal);
    }
  }

  close(): Promise<void> {
    return this.http.close();
  }

  /**
   * A large read may be answered with a 307 to a short-lived URL of the object store (the
   * server's read offload). The bytes are fetched from there, without this client's credentials
   * and with the same Range; the answer keeps the object's headers from the server's 307 (ETag,
   * checksum, metadata: a resumed download asks the server again with that ETag) and takes the
   * status, length and range of the store's. A store that refuses is a 502 StoreReadFailed, which
   * is retried (through the server, for a fresh URL) like any 502.
   */
  private async followOffload(req: TransportRequest, response: HttpResponse): Promise<HttpResponse> {
    const location = response.headers.location;
    if (req.method !== 'GET' || !REDIRECTS.has(response.statusCode) || typeof location !== 'string') return response;
    await response.body.dump();
    const target = splitUrl(new URL(location, this.urlFor(req.url)).href);
    const range = req.headers?.range;
    const stored = await this.http.request({ ...target, method: 'GET', headers: range ? { range } : {}, signal: req.signal });
    if (stored.statusCode >= 300) {
      await stored.body.dump();
      return synthesizedError(
        502,
        'StoreReadFailed',
        `The object store answered ${stored.statusCode} to the read the server sent this client to`,
      );
    }
    const { location: _, ...objectHeaders } = response.headers;
    return {
      statusCode: stored.statusCode,
      headers: { ...objectHeaders, 'content-length': stored.headers['content-length'], 'content-range': stored.headers['content-range'] },
      body: stored.body,
    };
  }

  private isAnonymous(req: TransportRequest): boolean {
    return req.anonymous === true || this.options.anonymous === true;
  }

  private credentials(): Auth {
    if (!this.options.auth) throw new TypeError('this transport has no credentials: it sends anonymous requests only');
    return this.options.auth;
  }
}

/** Reads an error response's JSON body into the client's error for its code and status. */
export async function readErrorResponse(response: HttpResponse): Promise<StorageError> {
  let body: unknown;
  try {
    const text = await response.body.text();
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  const requestId = response.headers[Headers.requestId];
  const errorCode = response.headers[Headers.errorCode];
  return errorFromResponse(response.statusCode, body, {
    errorCode: typeof errorCode === 'string' ? errorCode : undefined,
    retryAfter: parseRetryAfter(response.headers['retry-after']),
    requestId: typeof requestId === 'string' ? requestId : undefined,
  });
}

/** Maps transport and socket errors to the client's errors and the urllib3 retry category. */
export function classifyNetworkError(error: unknown): { kind: 'connect' | 'read'; error: StorageError } | undefined {
  // With a status, the server answered (e.g. 408): that is a status, not a network failure.
  if (error instanceof StorageError && (error instanceof TimeoutError || error instanceof ConnectionError) && error.status === undefined) {
    return { kind: 'read', error };
  }
  const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
  if (!code) return undefined;
  const message = (error as Error).message;
  const isTimeout = code.includes('TIMEOUT');
  const ErrorClass = isTimeout ? TimeoutError : ConnectionError;
  const text = isTimeout ? `Timed out: ${message}` : `Connection failed: ${message}`;
  if (CONNECT_ERRORS.has(code)) return { kind: 'connect', error: new ErrorClass(text, { code, cause: error }) };
  if (READ_ERRORS.has(code)) return { kind: 'read', error: new ErrorClass(text, { code, cause: error }) };
  return undefined;
}

/**
 * Why the {@link Retry} policy would retry a request that failed with `error`, or undefined when
 * it would not: network failures, and the statuses it retries (with the server's Retry-After).
 * For loops that retry whole steps themselves, such as resumable transfers, so that they wait
 * exactly as long as a single request would.
 */
export function retryCauseOf(error: unknown, policy: Retry, method: string): RetryCause | undefined {
  const network = classifyNetworkError(error);
  if (network) return { kind: network.kind };
  if (!(error instanceof StorageError) || error.status === undefined) return undefined;
  if (!policy.isRetryableStatus(method, error.status, error.retryAfter !== undefined)) return undefined;
  return { kind: 'status', status: error.status, retryAfterSeconds: error.retryAfter };
}

/** Redirect statuses a GET follows (the server's read offload answers 307). */
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** An error answer made here, read like the server's own (readErrorResponse). */
function synthesizedError(status: number, code: string, message: string): HttpResponse {
  const text = JSON.stringify({ code, message });
  const bytes = new TextEncoder().encode(text);
  return {
    statusCode: status,
    headers: { 'content-type': 'application/json', [Headers.errorCode]: code },
    body: {
      text: async () => text,
      json: async () => JSON.parse(text),
      bytes: async () => bytes,
      dump: async () => {},
      async *[Symbol.asyncIterator]() {
        yield bytes;
      },
    },
  };
}

const ABSOLUTE_URL = /^https?:\/\//;
const URL_PARTS = /^(https?:\/\/[^/?#]+)(.*)$/;

/** Splits an absolute URL into origin and the raw path + query, without normalizing the path. */
function splitUrl(url: string): { origin: string; path: string } {
  const match = URL_PARTS.exec(url);
  if (!match?.[1]) throw new TypeError(`not an absolute http(s) URL: ${url}`);
  return { origin: match[1], path: match[2] || '/' };
}

/** One id for every attempt of a call; crypto.randomUUID is missing outside secure contexts. */
function newRequestId(): string {
  if (typeof globalThis.crypto?.randomUUID === 'function') return globalThis.crypto.randomUUID();
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join('');
}
