import { API_BASE_PATH, Routes } from 'stowage-client/protocol';
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

const API_PREFIX = `${API_BASE_PATH}/`;

/**
 * The bucket (or storage type) and key of an object read, `/storage/v1/{bucket}/get/{key}` as
 * sent; undefined for any other path. The route and the fast read path (fast-read.ts) both take
 * their target from here. Throws InvalidKey for a key that is not percent-encoded UTF-8.
 */
export function objectReadTarget(rawUrl: string): { type: string; key: string } | undefined {
  if (!rawUrl.startsWith(API_PREFIX)) return undefined;
  const typeEnd = rawUrl.indexOf('/', API_PREFIX.length);
  const routeEnd = typeEnd === -1 ? -1 : rawUrl.indexOf('/', typeEnd + 1);
  if (routeEnd === -1 || rawUrl.slice(typeEnd + 1, routeEnd) !== Routes.get) return undefined;
  return { type: rawUrl.slice(API_PREFIX.length, typeEnd), key: keyFromRawUrl(rawUrl, KEY_AFTER_ROUTE_WORD) };
}
