/**
 * Percent-encodes a key as one path segment, `/` included, so that no URL parser collapses
 * `.`/`..` or reads `?`, `#`, `+` and `%` specially: every legal key round-trips (the same rule as
 * the server's and the client library's).
 */
export function encodeKey(key: string): string {
  return encodeURIComponent(key).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The last path segment of a key or folder, for display ("a/b/c.txt" → "c.txt", "a/b/" → "b/"). */
export function baseName(path: string, prefix: string): string {
  return path.startsWith(prefix) ? path.slice(prefix.length) : path;
}

/** The folders above `prefix`, for breadcrumbs: "a/b/" → ["", "a/", "a/b/"]. */
export function parentPrefixes(prefix: string): string[] {
  const crumbs = [''];
  let at = prefix.indexOf('/');
  while (at >= 0) {
    crumbs.push(prefix.slice(0, at + 1));
    at = prefix.indexOf('/', at + 1);
  }
  return crumbs;
}
