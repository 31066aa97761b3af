import { BadRequestError } from './errors.js';
import type { HttpRequest, HttpResponse, HttpTimeouts, HttpTransport, RequestBody, ResponseBody } from './http-transport.js';
import { Headers } from './protocol.js';
import { collect, streamOfChunks } from './streams.js';

/** fetch's `redirect` modes. */
type Redirect = 'follow' | 'manual' | 'error';

/** How a runtime's fetch is used. */
export interface FetchTransportOptions {
  /**
   * Send a stream body with `redirect: 'error'` (unless a 3xx answers the request). Node's fetch
   * keeps every chunk of a body it may follow a redirect with until the request ends (it tees the
   * body and never reads the copy: undici#4058, fixed in undici 8.6.0, after the fetch of Node 20
   * and 24), but not when redirects are refused. A stream cannot go to a redirect's target anyway
   * (fetch fails a 307 or 308 of one). Not the default: Cloudflare Workers refuse `'error'`.
   */
  refuseStreamRedirects?: boolean;
}

/**
 * HTTP over the runtime's `fetch` and Web Streams: browsers, Deno, Bun, Workers and Node.
 *
 * fetch cannot tell when a connection is up, so its timeouts differ from undici's: the response
 * headers must arrive within connect + read timeout of the request (a host that never accepts
 * the connection is noticed then, or earlier by the runtime's own connect timeout), and then each
 * body chunk within the read timeout. Connection reuse is the runtime's; as with undici's pool,
 * at most 64 requests are in flight at once (Node's fetch has no limit of its own, and a server
 * refuses a tenant's requests past its share).
 */
export class FetchTransport implements HttpTransport {
  private readonly slots = new Slots(64);
  /**
   * Node's fetch keeps every chunk of a resumable upload's request until it ends (its 308 is an
   * answer, so redirects are not refused: see FetchTransportOptions): a long upload goes in
   * requests of 16 MiB, each streamed.
   */
  readonly streamedBodyLimit = 16 * 1024 * 1024;

  constructor(
    private readonly timeouts: HttpTimeouts,
    private readonly options: FetchTransportOptions = {},
  ) {}

  async request(request: HttpRequest): Promise<HttpResponse> {
    refuseDotSegments(request.path);
    await this.slots.acquire(request.signal);
    const deadline = new Deadline(request.signal, () => this.slots.release());
    deadline.arm(this.timeouts.connectMs + this.timeouts.readMs, 'FETCH_HEADERS_TIMEOUT');
    let response: Response;
    let redirected = false;
    try {
      const send = (redirect: Redirect) =>
        fetch(`${request.origin}${request.path}`, {
          method: request.method,
          headers: request.headers,
          body: fetchBody(request.body),
          signal: deadline.signal,
          // A stream body needs it (Node, Chromium); the others ignore it.
          duplex: 'half',
          // A redirect's own headers matter (transport.ts follows a read offloaded to the store).
          redirect,
        } as RequestInit);
      response = await send(redirectMode(request, this.options.refuseStreamRedirects ?? false));
      // A browser hides a redirect from the page: there it has to be followed by fetch itself.
      if (response.type === 'opaqueredirect') {
        const requested = response.url;
        response = await send('follow');
        // Followed to somewhere else: an answer the server gave itself (the value changed since)
        // keeps its own headers, and so does one of another of its URLs (http to https), which
        // carries its sha256: only the store's answer is a blob's.
        redirected = response.redirected && response.url !== requested && !response.headers.has(Headers.sha256);
      }
    } catch (error) {
      deadline.finish();
      throw deadline.explain(error);
    }
    deadline.disarm();
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const body = new FetchResponseBody(response.body, deadline, this.timeouts.readMs);
    if (!redirected) return { statusCode: response.status, headers, body };
    // The store's ETag is not the object's: resuming on it would be refused as a changed value.
    delete headers.etag;
    return { statusCode: response.status, headers, body, redirectedTo: response.url };
  }

  async close(): Promise<void> {
    // The runtime owns fetch's connections.
  }
}

/**
 * How fetch treats a redirect of `request`. A GET's is followed by transport.ts, which keeps its
 * headers (read offload). Where a 3xx is itself the answer (a resumable upload's 308, which has
 * no Location), `follow` hands it over; `manual` would hide its status from a page in a browser.
 * With `refuseStreamRedirects`, any other stream body refuses redirects (see FetchTransportOptions).
 */
function redirectMode(request: HttpRequest, refuseStreamRedirects: boolean): Redirect {
  if (request.method === 'GET') return 'manual';
  if (refuseStreamRedirects && !request.redirectStatusAnswers && isStream(request.body)) return 'error';
  return 'follow';
}

/** A Web stream or an async iterable: sent once, chunk by chunk. */
function isStream(body: RequestBody | undefined): body is ReadableStream<Uint8Array> | AsyncIterable<Uint8Array> {
  return body !== undefined && typeof body !== 'string' && !(body instanceof Uint8Array) && !(body instanceof Blob);
}

/**
 * URL parsing drops `.` and `..` segments (also as `%2E`), so a key of `.` or `..` cannot be
 * addressed through fetch: refused with a stable code instead of reaching another key.
 */
function refuseDotSegments(path: string): void {
  const pathOnly = path.split('?', 1)[0] ?? '';
  if (pathOnly.split('/').some((segment) => /^(\.|%2e){1,2}$/i.test(segment))) {
    throw new BadRequestError(`fetch cannot send the path ${pathOnly}: URL parsing removes its '.' or '..' segment`, {
      code: 'UnsendablePath',
    });
  }
}

type FetchBody = RequestInit['body'];

function fetchBody(body: RequestBody | undefined): FetchBody {
  if (!isStream(body) || body instanceof ReadableStream) return body as FetchBody;
  return streamOfChunks(body) as FetchBody;
}

/** One request's abort controller: the caller's signal, plus the timeouts, which it tells apart. */
class Deadline {
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private expired: FetchFailureCode | undefined;
  private readonly onCallerAbort = () => this.controller.abort(this.caller?.reason);
  private finished = false;

  constructor(
    private readonly caller: AbortSignal | undefined,
    /** Called once, when the request and its body are done with. */
    private readonly onFinish: () => void,
  ) {
    if (caller?.aborted) this.controller.abort(caller.reason);
    caller?.addEventListener('abort', this.onCallerAbort);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  arm(ms: number, code: FetchFailureCode): void {
    this.disarm();
    this.timer = setTimeout(() => {
      this.expired = code;
      this.controller.abort(new FetchFailure(`no answer within ${ms / 1000} s`, code));
    }, ms);
  }

  disarm(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  finish(): void {
    this.disarm();
    if (this.finished) return;
    this.finished = true;
    this.caller?.removeEventListener('abort', this.onCallerAbort);
    this.onFinish();
  }

  /**
   * The error to report for a failed fetch or read: a timeout, the caller's abort, or a network
   * failure, with a code the transport classifies (as a read error: fetch cannot say whether the
   * request went out).
   */
  explain(error: unknown): unknown {
    if (this.expired) return new FetchFailure(`no answer within the timeout (${(error as Error)?.message ?? error})`, this.expired, error);
    if (this.caller?.aborted) return this.caller.reason ?? error;
    if (hasCode(error)) return error;
    // Browsers say only "Failed to fetch" / "network error".
    return new FetchFailure((error as Error)?.message ?? String(error), 'FETCH_FAILED', error);
  }
}

function hasCode(error: unknown): boolean {
  return (
    typeof (error as { code?: unknown })?.code === 'string' || typeof (error as { cause?: { code?: unknown } })?.cause?.code === 'string'
  );
}

type FetchFailureCode = 'FETCH_HEADERS_TIMEOUT' | 'FETCH_BODY_TIMEOUT' | 'FETCH_FAILED';

/** A network failure or timeout of fetch, by code (see classifyNetworkError). */
export class FetchFailure extends Error {
  constructor(
    message: string,
    readonly code: FetchFailureCode,
    cause?: unknown,
  ) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'FetchFailure';
  }
}

/** A fetch body read with the read timeout between chunks. */
class FetchResponseBody implements ResponseBody {
  private used = false;

  constructor(
    private readonly stream: ReadableStream<Uint8Array> | null,
    private readonly deadline: Deadline,
    private readonly readMs: number,
  ) {}

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    if (this.used) throw new TypeError('the response body was already read');
    this.used = true;
    if (!this.stream) {
      this.deadline.finish();
      return;
    }
    const reader = this.stream.getReader();
    let finished = false;
    try {
      for (;;) {
        this.deadline.arm(this.readMs, 'FETCH_BODY_TIMEOUT');
        let chunk: Awaited<ReturnType<ReadableStreamDefaultReader<Uint8Array>['read']>>;
        try {
          chunk = await reader.read();
        } catch (error) {
          finished = true;
          throw this.deadline.explain(error);
        }
        if (chunk.done) {
          finished = true;
          return;
        }
        this.deadline.disarm();
        yield chunk.value;
      }
    } finally {
      this.deadline.finish();
      // A reader that stopped early lets the connection go.
      if (!finished) await reader.cancel().catch(() => {});
    }
  }

  async bytes(): Promise<Uint8Array> {
    return collect(this);
  }

  async text(): Promise<string> {
    return new TextDecoder().decode(await this.bytes());
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async dump(): Promise<void> {
    this.used = true;
    this.deadline.finish();
    await this.stream?.cancel().catch(() => {});
  }
}

/** A count of requests in flight, and the queue of those waiting for one to finish. */
class Slots {
  private free: number;
  private readonly waiting: Array<() => void> = [];

  constructor(size: number) {
    this.free = size;
  }

  async acquire(signal: AbortSignal | undefined): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const grant = () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      };
      const onAbort = () => {
        this.waiting.splice(this.waiting.indexOf(grant), 1);
        reject(signal?.reason);
      };
      this.waiting.push(grant);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  release(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
