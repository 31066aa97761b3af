/**
 * The one thing the client needs from an HTTP stack: send a request, get the status, headers and
 * a body to read. Retries, request ids, attempts and credentials live above it (transport.ts), so
 * every implementation behaves the same: `fetch` (every runtime) and `undici` (Node).
 */

/** What a request may carry: bytes, text, a Blob, or a stream (sent once). */
export type RequestBody = string | Uint8Array | Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array>;

export interface HttpRequest {
  /** `http(s)://host[:port]`. */
  origin: string;
  /** Path and query, percent-encoded, sent as they are. */
  path: string;
  method: string;
  headers: Record<string, string>;
  body?: RequestBody | undefined;
  signal?: AbortSignal | undefined;
  /** A 3xx status is an answer of its own here (a resumable upload's 308), not a redirect to follow. */
  redirectStatusAnswers?: boolean | undefined;
}

/** A response body, read once: whole (text, json, bytes), chunk by chunk, or thrown away (dump). */
export interface ResponseBody extends AsyncIterable<Uint8Array> {
  text(): Promise<string>;
  json(): Promise<unknown>;
  bytes(): Promise<Uint8Array>;
  /** Discards what is left, so the connection can be reused. */
  dump(): Promise<void>;
}

export interface HttpResponse {
  statusCode: number;
  /** Lower-case names. */
  headers: Record<string, string | string[] | undefined>;
  body: ResponseBody;
  /**
   * The URL the answer came from when the runtime followed a redirect itself (a browser, to the
   * store of an offloaded read; the headers are then the store's); undefined otherwise.
   */
  redirectedTo?: string;
}

export interface HttpTransport {
  /**
   * Sends one request. Network failures reject with an error carrying a `code` (or a `cause`
   * with one) that the transport's classifyNetworkError knows, or with a ConnectionError / TimeoutError.
   */
  request(request: HttpRequest): Promise<HttpResponse>;
  /** Closes idle connections; the transport is not used afterwards. */
  close(): Promise<void>;
  /**
   * The longest streamed request body this transport sends without holding much of it in memory
   * (undefined: any length). A resumable upload sends the rest of a file in requests of at most this.
   */
  readonly streamedBodyLimit?: number;
}

/** Timeouts an HTTP transport is built with, in milliseconds. */
export interface HttpTimeouts {
  /** Longest wait for a connection. */
  connectMs: number;
  /** Longest wait for the response's headers and then for each next body chunk. */
  readMs: number;
}

/** Makes the HTTP transport of a client from its timeouts. */
export type HttpTransportFactory = (timeouts: HttpTimeouts) => HttpTransport;
