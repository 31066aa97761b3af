// Guards the header form of metadata values shared by client and server: every well-formed
// string round-trips (non-ASCII, control characters, spaces at the ends, plain text that looks
// like an ext-value), plain visible ASCII goes as it is, and malformed headers decode to undefined.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { decodeMetadataValue, encodeMetadataValue } from '../src/metadata-codec.js';

describe('metadata value codec', () => {
  test('plain visible ASCII is sent as it is (another charset than UTF-8 is just text)', () => {
    for (const value of ['', 'X100', 'max-age=60, public', 'a b  c', "it's 100% ok", "ISO-8859-1''%E9"]) {
      assert.equal(encodeMetadataValue(value), value);
      assert.equal(decodeMetadataValue(value), value);
    }
  });

  test('other text becomes an RFC 8187 ext-value', () => {
    assert.equal(encodeMetadataValue('København'), "UTF-8''K%C3%B8benhavn");
    assert.equal(encodeMetadataValue('a b'), 'a b');
    assert.equal(encodeMetadataValue(' lead'), "UTF-8''%20lead");
    assert.equal(encodeMetadataValue('tab\there'), "UTF-8''tab%09here");
    assert.equal(encodeMetadataValue('🚀'), "UTF-8''%F0%9F%9A%80");
    assert.equal(decodeMetadataValue("UTF-8''K%C3%B8benhavn"), 'København');
    assert.equal(decodeMetadataValue("utf-8'da'K%c3%b8benhavn"), 'København', 'charset case and a language tag are accepted');
  });

  test('plain values that look like ext-values are encoded so they round-trip', () => {
    for (const value of ["UTF-8''abc", "utf-8'en'x", "UTF-8'"]) {
      const encoded = encodeMetadataValue(value);
      assert.notEqual(encoded, value);
      assert.equal(decodeMetadataValue(encoded), value);
    }
  });

  test('malformed headers decode to undefined', () => {
    for (const raw of ['Kø', "UTF-8''%C3", "UTF-8''%zz", "UTF-8''a b", "UTF-8'x", "UTF-8''%FF", 'a\tb']) {
      assert.equal(decodeMetadataValue(raw), undefined, raw);
    }
  });

  test('a lone surrogate cannot be encoded', () => {
    assert.throws(() => encodeMetadataValue('\ud800'), TypeError);
  });

  test('every well-formed string round-trips, and its header form is visible ASCII', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), fc.string({ unit: 'binary', maxLength: 40 }), (a, b) => {
        for (const value of [a, b, `\ufeff${a}`, ` ${b} `]) {
          if (!value.isWellFormed()) continue;
          const encoded = encodeMetadataValue(value);
          assert.match(encoded, /^[\x20-\x7e]*$/);
          assert.equal(decodeMetadataValue(encoded), value);
        }
      }),
      { numRuns: 500 },
    );
  });
});
