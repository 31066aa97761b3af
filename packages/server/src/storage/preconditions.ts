import type { WriteCondition } from '../backends/backend.js';

/** Reads one request header by its lowercase name (a prefix such as `x-amz-copy-source-` may be added by the caller). */
export type HeaderReader = (name: string) => string | undefined;

/** The four conditional headers of a read (RFC 9110 §13.1), parsed; dates in ms, absent or unparsable ones undefined. */
export interface ReadPreconditions {
  readonly ifMatch: string[] | undefined;
  readonly ifNoneMatch: string[] | undefined;
  readonly ifModifiedSince: number | undefined;
  readonly ifUnmodifiedSince: number | undefined;
}

/** What a read's conditions say: serve it, answer 304 Not Modified, or 412 Precondition Failed. */
export type ReadVerdict = 'serve' | 'not-modified' | 'failed';

/** The object a condition is evaluated against: the ETags it answers to, and when it last changed. */
export interface ConditionTarget {
  /** Every form of its ETag a client may hold (the S3 API also gives an MD5 one). */
  readonly etags: readonly string[];
  readonly lastModified: number;
}

/** Parses an If-Match / If-None-Match list: `*`, or quoted ETags (weak prefixes dropped). */
export function parseEtagList(header: string | undefined): string[] | undefined {
  if (header === undefined || header.trim() === '') return undefined;
  if (header.trim() === '*') return ['*'];
  return header
    .split(',')
    .map((tag) => tag.trim().replace(/^W\//, ''))
    .filter((tag) => tag !== '')
    .map((tag) => (tag.startsWith('"') ? tag : `"${tag}"`));
}

/** The read conditions a request carries; undefined when it carries none. */
export function readPreconditionsOf(header: HeaderReader): ReadPreconditions | undefined {
  const date = (name: string) => {
    const ms = Date.parse(header(name) ?? '');
    // RFC 9110 §13.1.3/§13.1.4: a date that does not parse is ignored.
    return Number.isNaN(ms) ? undefined : ms;
  };
  const preconditions: ReadPreconditions = {
    ifMatch: parseEtagList(header('if-match')),
    ifNoneMatch: parseEtagList(header('if-none-match')),
    ifModifiedSince: date('if-modified-since'),
    ifUnmodifiedSince: date('if-unmodified-since'),
  };
  return Object.values(preconditions).some((value) => value !== undefined) ? preconditions : undefined;
}

/**
 * RFC 9110 §13.2.2's order, for GET and HEAD: If-Match (else If-Unmodified-Since) first, a failure
 * being 412; then If-None-Match (else If-Modified-Since), a current copy being 304. Dates compare at
 * second precision, the precision of Last-Modified.
 */
export function evaluateRead(preconditions: ReadPreconditions | undefined, target: ConditionTarget): ReadVerdict {
  if (!preconditions) return 'serve';
  const { ifMatch, ifNoneMatch, ifModifiedSince, ifUnmodifiedSince } = preconditions;
  const modified = Math.floor(target.lastModified / 1000);
  const matches = (list: string[]) => list.includes('*') || list.some((etag) => target.etags.includes(etag));
  if (ifMatch) {
    if (!matches(ifMatch)) return 'failed';
  } else if (ifUnmodifiedSince !== undefined && modified > Math.floor(ifUnmodifiedSince / 1000)) return 'failed';
  if (ifNoneMatch) return matches(ifNoneMatch) ? 'not-modified' : 'serve';
  if (ifModifiedSince !== undefined && modified <= Math.floor(ifModifiedSince / 1000)) return 'not-modified';
  return 'serve';
}

/**
 * If-Match / If-None-Match of a write or delete, checked in the write's own transaction. Only
 * `If-None-Match: *` (create only) means something for a write; any other list is refused
 * through `refuse`, which gives the caller's API its own error.
 */
export function writePreconditionsOf(header: HeaderReader, refuse: (message: string) => Error): WriteCondition | undefined {
  const ifMatch = parseEtagList(header('if-match'));
  const noneMatch = parseEtagList(header('if-none-match'));
  if (noneMatch && !(noneMatch.length === 1 && noneMatch[0] === '*')) throw refuse('On writes If-None-Match takes only "*" (create only)');
  if (!ifMatch && !noneMatch) return undefined;
  return { ifMatch, ifNoneMatch: noneMatch !== undefined };
}
