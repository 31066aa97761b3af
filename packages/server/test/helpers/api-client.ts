import { type RawResponse, rawRequest } from './raw-http.js';

/** Requests to one server as one user, with JSON bodies: the extensions' wire format, spelled out. */
export function apiClient(origin: string, token: string) {
  const auth = { authorization: `Bearer ${token}` };
  const call = (method: string, path: string, options: { body?: unknown; headers?: Record<string, string> } = {}): Promise<RawResponse> =>
    rawRequest(origin, method, `/storage/v1${path}`, {
      headers: {
        ...auth,
        ...(options.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  return {
    call,
    put: (type: string, key: string, body: string | Buffer, headers: Record<string, string> = {}) =>
      rawRequest(origin, 'PUT', `/storage/v1/${type}/set/${encodeURIComponent(key)}`, { headers: { ...auth, ...headers }, body }),
    get: (type: string, key: string, headers: Record<string, string> = {}) =>
      rawRequest(origin, 'GET', `/storage/v1/${type}/get/${encodeURIComponent(key)}`, { headers: { ...auth, ...headers } }),
    head: (type: string, key: string) =>
      rawRequest(origin, 'HEAD', `/storage/v1/${type}/get/${encodeURIComponent(key)}`, { headers: auth }),
    deletePrefix: (type: string, prefix: string, extra = '') =>
      call('POST', `/${type}/delete_prefix?prefix=${encodeURIComponent(prefix)}${extra}`),
    copy: (body: unknown, headers: Record<string, string> = {}) => call('POST', '/copy', { body, headers }),
    move: (body: unknown, headers: Record<string, string> = {}) => call('POST', '/move', { body, headers }),
    usage: (type: string, prefix: string) => call('GET', `/${type}/usage?prefix=${encodeURIComponent(prefix)}`),
    /** Every key under `prefix` (plain listing, all pages). */
    async keys(type: string, prefix: string): Promise<string[]> {
      const keys: string[] = [];
      let next: string | undefined;
      do {
        const page = await call('GET', `/${type}/list?prefix=${encodeURIComponent(prefix)}`, { headers: next ? { 'x-next': next } : {} });
        if (page.status !== 200) throw new Error(`list: ${page.status} ${page.text}`);
        keys.push(...page.json<string[]>());
        next = page.headers['x-next'] as string | undefined;
      } while (next);
      return keys;
    },
  };
}

export type ApiClient = ReturnType<typeof apiClient>;
