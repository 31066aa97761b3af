import type { ReadPlan } from '../backends/backend.js';
import { fail } from '../errors.js';

/** A parsed `Range: bytes=…` header (one range), before the object size is known. */
export type RangeSpec = { start: number; end: number | undefined } | { suffix: number };

/**
 * Parses a single-range `Range` header. Malformed → 400 InvalidRange. Several ranges are not
 * served as multipart: the header is answered with the whole object (RFC 9110 §14.2 allows it).
 */
export function parseRangeHeader(header: string | undefined): RangeSpec | undefined {
  if (header === undefined) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match) {
    if (/^bytes=[\d\s,-]+$/.test(header.trim()) && header.includes(',')) return undefined;
    throw fail('InvalidRange', `Cannot parse Range "${header}"; use bytes=START-END, bytes=START- or bytes=-SUFFIX`);
  }
  const [, first, last] = match as unknown as [string, string, string];
  if (first === '' && last === '') throw fail('InvalidRange');
  if (first === '') return { suffix: Number(last) };
  const start = Number(first);
  const end = last === '' ? undefined : Number(last);
  if (end !== undefined && end < start) throw fail('InvalidRange', `Range end ${end} is before its start ${start}`);
  return { start, end };
}

/** Resolves a range against the size: 416 when unsatisfiable (with the size in Content-Range). */
export function resolveRange(spec: RangeSpec, size: number): Extract<ReadPlan, { kind: 'range' }> {
  const unsatisfiable = () => fail('RangeNotSatisfiable', `The object has ${size} bytes`, { 'content-range': `bytes */${size}` });
  if ('suffix' in spec) {
    if (spec.suffix === 0 || size === 0) throw unsatisfiable();
    return { kind: 'range', start: Math.max(0, size - spec.suffix), end: size - 1 };
  }
  if (spec.start >= size) throw unsatisfiable();
  return { kind: 'range', start: spec.start, end: Math.min(spec.end ?? size - 1, size - 1) };
}

/** A parsed `Content-Range` of a resumable upload request. */
export type ContentRange =
  // "bytes STAR/TOTAL" or "bytes STAR/STAR" (STAR = the asterisk): a status query, empty body.
  | { kind: 'query'; total: number | undefined }
  // "bytes A-B/TOTAL" or "bytes A-B/STAR": a chunk.
  | { kind: 'chunk'; start: number; end: number; total: number | undefined };

export function parseContentRange(header: string): ContentRange {
  const match = /^bytes (?:(\d+)-(\d+)|\*)\/(\d+|\*)$/.exec(header.trim());
  if (!match)
    throw fail('InvalidContentRange', `Cannot parse Content-Range "${header}"; use bytes A-B/TOTAL, bytes A-B/* or bytes */TOTAL`);
  const [, first, last, totalText] = match;
  const total = totalText === '*' ? undefined : Number(totalText);
  if (first === undefined || last === undefined) return { kind: 'query', total };
  const start = Number(first);
  const end = Number(last);
  if (end < start) throw fail('InvalidContentRange', `Content-Range end ${end} is before its start ${start}`);
  if (total !== undefined && end >= total) throw fail('InvalidContentRange', `Content-Range end ${end} is not below the total ${total}`);
  return { kind: 'chunk', start, end, total };
}
