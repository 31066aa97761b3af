import { fail } from '../errors.js';

// Path segments before the key in object routes: storage, v1, {type}, and the route word when
// there is one (`{type}/get/{key}`, `{type}/set/{key}`; `DELETE {type}/{key}`).
export const KEY_AFTER_ROUTE_WORD = 4;
export const KEY_AFTER_TYPE = 3;

/**
 * The key in a request path: everything after the first `segments` path segments of the RAW
 * URL, percent-decoded exactly once. Routers decode some escapes (%2F, %3F) differently from
 * others; taking the key from the raw URL keeps `+`, `%2B`, `%2F` and `..` exactly as sent.
 */
export function keyFromRawUrl(rawUrl: string, segments: number): string {
  const queryAt = rawUrl.indexOf('?');
  const pathname = queryAt === -1 ? rawUrl : rawUrl.slice(0, queryAt);
  let at = 0;
  for (let i = 0; i <= segments; i++) {
    at = pathname.indexOf('/', at) + 1;
    if (at === 0) return '';
  }
  try {
    return decodeURIComponent(pathname.slice(at));
  } catch {
    throw fail('InvalidKey', 'The key is not valid percent-encoded UTF-8');
  }
}
