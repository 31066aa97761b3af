import { fail } from '../errors.js';

// RFC 9110 §8.3.1 media-type = type "/" subtype parameters; §5.6.2 token; §5.6.6 parameters;
// §5.6.4 quoted-string (qdtext and quoted-pair, without control characters but HTAB).
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const QUOTED = '"(?:[\\t !#-\\[\\]-~\\x80-\\xff]|\\\\[\\t -~\\x80-\\xff])*"';
const PARAMETER = `[ \\t]*;[ \\t]*(?:${TOKEN}=(?:${TOKEN}|${QUOTED}))?`;
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(?:${PARAMETER})*$`);
const MAX_CONTENT_TYPE_LENGTH = 256;

/**
 * The content type a client asked to store, checked against RFC 9110's media-type syntax, or
 * undefined when it sent none. A value with CR/LF, NUL or DEL would break the header it is later
 * served in (a 500 on HEAD, or a silently dropped type on GET), so it is refused up front.
 */
export function parseContentType(value: string | undefined, source = 'Content-Type'): string | undefined {
  if (value === undefined || value === '') return undefined;
  if (value.length > MAX_CONTENT_TYPE_LENGTH || !MEDIA_TYPE.test(value)) {
    throw fail(
      'InvalidContentType',
      `${source} must be a media type such as "text/csv; charset=utf-8" (at most ${MAX_CONTENT_TYPE_LENGTH} characters)`,
    );
  }
  return value;
}
