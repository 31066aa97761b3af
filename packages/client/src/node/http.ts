import { FetchTransport } from '../fetch-transport.js';
import type { HttpTransportFactory } from '../http-transport.js';
import { UndiciTransport } from './undici-transport.js';

/** The HTTP transports Node can use: undici (the default) or the runtime's fetch. */
export type NodeHttpTransportName = 'undici' | 'fetch';

const undiciTransport: HttpTransportFactory = (timeouts) => new UndiciTransport(timeouts);
/** Node's fetch, told to refuse redirects of stream bodies so that it does not keep them whole. */
const nodeFetchTransport: HttpTransportFactory = (timeouts) => new FetchTransport(timeouts, { refuseStreamRedirects: true });

/**
 * The transport a Node client uses: the one named, else `STOWAGE_HTTP_TRANSPORT` (`undici` or
 * `fetch`), else undici; under Bun, which loads this entry too, fetch: Bun's own `undici` module
 * has no working Agent.
 */
export function nodeHttpTransport(name?: NodeHttpTransportName | HttpTransportFactory): HttpTransportFactory {
  if (typeof name === 'function') return name;
  const chosen = name ?? process.env.STOWAGE_HTTP_TRANSPORT ?? (process.versions.bun === undefined ? 'undici' : 'fetch');
  if (chosen === 'fetch') return nodeFetchTransport;
  if (chosen === 'undici') return undiciTransport;
  throw new TypeError(`unknown HTTP transport ${JSON.stringify(chosen)}: use 'undici' or 'fetch'`);
}
