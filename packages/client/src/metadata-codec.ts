/**
 * How user metadata values travel in `x-stowage-meta-NAME` headers. HTTP header values are
 * visible ASCII: any other text goes as an RFC 8187 ext-value, `UTF-8''` and the
 * percent-encoded UTF-8 bytes. The client encodes what it sends and decodes what it reads; the
 * server decodes what it stores and encodes what it serves, with these same two functions, so
 * every string round-trips byte for byte.
 *
 * @example
 * encodeMetadataValue('København');            // "UTF-8''K%C3%B8benhavn"
 * decodeMetadataValue("UTF-8''K%C3%B8benhavn"); // 'København'
 *
 * @module
 */

/** Visible ASCII and spaces, with no space at either end (a parser trims those, RFC 9110 §5.5). */
const PLAIN = /^(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?$/;

/** What reads as an ext-value: a value that starts so is never sent as it is. */
const EXT_VALUE_START = /^utf-8'/i;

/** `UTF-8'language'value-chars` (RFC 8187 §3.2.1; the language tag is allowed and ignored). */
const EXT_VALUE = /^utf-8'[A-Za-z0-9-]*'((?:%[0-9A-Fa-f]{2}|[A-Za-z0-9!#$&+\-.^_`|~])*)$/i;

/** RFC 8187 attr-char: sent as itself; every other byte is percent-encoded. */
const ATTR_CHAR = /[A-Za-z0-9!#$&+\-.^_`|~]/;

// ignoreBOM: a value that begins with U+FEFF keeps it.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The header form of a metadata value: the value itself when it is visible ASCII (inner spaces
 * allowed) and does not look like an ext-value; otherwise `UTF-8''` and its percent-encoded
 * UTF-8 bytes. Plain values that start with `UTF-8'` (any case) and values with a space at
 * either end are encoded too, so that decoding gives them back unchanged.
 * @throws {TypeError} for a string that is not well-formed UTF-16 (a lone surrogate has no UTF-8).
 */
export function encodeMetadataValue(value: string): string {
  if (PLAIN.test(value) && !EXT_VALUE_START.test(value)) return value;
  if (!value.isWellFormed()) throw new TypeError('metadata value must be well-formed Unicode (no lone surrogates)');
  let out = "UTF-8''";
  for (const byte of new TextEncoder().encode(value)) {
    const char = String.fromCharCode(byte);
    out += byte < 0x80 && ATTR_CHAR.test(char) ? char : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/**
 * The value a metadata header carries: an ext-value decoded, visible ASCII as it is.
 * `undefined` when the header is not valid: raw bytes outside visible ASCII and space, or a
 * value that starts as a UTF-8 ext-value (`UTF-8'`, any case) but is malformed or does not
 * decode to UTF-8. (Only UTF-8 ext-values are decoded: `ISO-8859-1''%E9` is plain text.)
 */
export function decodeMetadataValue(raw: string): string | undefined {
  if (!EXT_VALUE_START.test(raw)) return /^[\x20-\x7e]*$/.test(raw) ? raw : undefined;
  const match = EXT_VALUE.exec(raw);
  if (!match) return undefined;
  const encoded = match[1] ?? '';
  const bytes: number[] = [];
  for (let i = 0; i < encoded.length; i++) {
    if (encoded[i] === '%') {
      bytes.push(Number.parseInt(encoded.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(encoded.charCodeAt(i));
    }
  }
  try {
    return UTF8.decode(new Uint8Array(bytes));
  } catch {
    return undefined;
  }
}
