import type { Agent, Dispatcher } from 'undici';
import type { HttpRequest, HttpResponse, HttpTimeouts, HttpTransport } from '../http-transport.js';

type Undici = typeof import('undici');

let loading: Promise<Undici> | undefined;

/**
 * undici, loaded on the first request rather than with the client: its index takes 60-80 ms to
 * load, which a process that imports the client but sends nothing (most `stowage --help`s, a
 * server importing the protocol) should not pay.
 */
function loadUndici(): Promise<Undici> {
  loading ??= import('undici');
  return loading;
}

/**
 * HTTP over undici's public API (Node): a keep-alive pool of up to 64 connections per origin, a
 * connect timeout of its own, and the read timeout for the headers and between body chunks.
 */
export class UndiciTransport implements HttpTransport {
  private agent: Agent | undefined;

  constructor(private readonly timeouts: HttpTimeouts) {}

  async request(request: HttpRequest): Promise<HttpResponse> {
    const agent = this.agent ?? (await this.load());
    // Dispatcher#request sends `path` verbatim; undici's `request(url)` and fetch parse it as a
    // URL, which would collapse a key of `.` or `..`.
    const response = await agent.request({
      origin: request.origin,
      path: request.path,
      method: request.method as Dispatcher.HttpMethod,
      headers: request.headers,
      body: request.body as Dispatcher.DispatchOptions['body'],
      signal: request.signal,
    });
    return { statusCode: response.statusCode, headers: response.headers, body: response.body };
  }

  async close(): Promise<void> {
    await this.agent?.close();
  }

  private async load(): Promise<Agent> {
    const undici = await loadUndici();
    this.agent ??= new undici.Agent({
      connect: { timeout: this.timeouts.connectMs },
      headersTimeout: this.timeouts.readMs,
      bodyTimeout: this.timeouts.readMs,
      keepAliveTimeout: 30_000,
      connections: 64,
    });
    return this.agent;
  }
}
