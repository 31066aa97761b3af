import type { WriteCondition } from '../backends/backend.js';
import { fail } from '../errors.js';

/** Throws 412 PreconditionFailed unless the current ETag (undefined: no object) meets the condition. */
export function assertCondition(currentEtag: string | undefined, condition: WriteCondition | undefined): void {
  if (!condition) return;
  if (condition.ifNoneMatch && currentEtag !== undefined)
    throw fail('PreconditionFailed', 'If-None-Match: * but an object exists at this key');
  if (condition.ifMatch) {
    const matches = currentEtag !== undefined && (condition.ifMatch.includes('*') || condition.ifMatch.includes(currentEtag));
    if (!matches)
      throw fail(
        'PreconditionFailed',
        currentEtag === undefined ? 'If-Match but no object exists at this key' : 'If-Match does not match the current ETag',
      );
  }
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
