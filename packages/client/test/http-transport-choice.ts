/**
 * Which HTTP transport the client suite runs over: `STOWAGE_HTTP_TRANSPORT=fetch` runs every file
 * over fetch, otherwise undici (the Node client's default reads the same variable).
 */
export const overFetch = process.env.STOWAGE_HTTP_TRANSPORT === 'fetch';

/** Keys fetch cannot address: URL parsing drops `.` and `..` path segments. */
export const DOT_KEYS = new Set(['.', '..']);
