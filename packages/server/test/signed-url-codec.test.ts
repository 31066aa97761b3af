// Property tests of the signed-URL codec: every URL the server makes verifies to exactly what
// it was made for, and any tampering with any field — another value, text moved from one field
// to its neighbour, a repeated field — is refused.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { MAX_KEY_BYTES, STORAGE_TYPES } from 'stowage-client/protocol';
import { UrlSigner } from '../src/auth/url-signer.js';
import { isStowageError } from '../src/errors.js';
import type { Query } from '../src/storage/signed-url-fields.js';
import { SignedUrls } from '../src/storage/signed-urls.js';

const NOW = 1_800_000_000_000;
const urls = new SignedUrls(new UrlSigner(Buffer.alloc(32, 7)), () => NOW);

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const text = (maxLength: number) => fc.string({ unit: 'grapheme', minLength: 1, maxLength }).filter((s) => !CONTROL.test(s));
// partsOf reads the URL as WHATWG URL does, which drops "." and ".." path segments (even
// percent-encoded): those two keys are outside what this property is about.
const key = text(60).filter((k) => Buffer.byteLength(k) <= MAX_KEY_BYTES && k !== '.' && k !== '..');
const tenant = text(20);
const type = fc.constantFrom(...STORAGE_TYPES);
const token = fc.stringMatching(/^[a-z0-9!#$&^_.+-]{1,12}$/);
const contentType = fc.option(
  fc.tuple(token, token, fc.option(token, { nil: undefined })).map(([t, s, p]) => (p ? `${t}/${s}; charset=${p}` : `${t}/${s}`)),
  { nil: undefined },
);
const objectTtl = fc.option(fc.integer({ min: 1, max: 10 ** 9 }), { nil: undefined });
const ttlMs = fc.integer({ min: 1000, max: 7 * 86_400_000 });

/** The parts of a URL the verifier sees: type, decoded key and the query (repeats as arrays). */
function partsOf(url: string): { type: string; key: string; query: Query } {
  const parsed = new URL(url);
  const [, , , , urlType = '', ...rest] = parsed.pathname.split('/');
  const query: Query = {};
  for (const [name, value] of parsed.searchParams) {
    const previous = query[name];
    query[name] = previous === undefined ? value : ([] as string[]).concat(previous, value);
  }
  return { type: urlType, key: decodeURIComponent(rest.join('/')), query };
}

function assertRefused(verify: () => unknown, what: string): void {
  try {
    verify();
  } catch (error) {
    assert.ok(isStowageError(error) && error.status >= 400 && error.status < 500, `${what}: ${String(error)}`);
    return;
  }
  assert.fail(`${what} was accepted`);
}

const uploadUrl = fc.record({ tenant, type, key, contentType, objectTtl, ttlMs }).map((input) => ({
  input,
  url: urls.createUploadUrl('http://h', input, {
    ttlMs: input.ttlMs,
    contentType: input.contentType,
    objectTtlSeconds: input.objectTtl,
  }),
}));

const SIGNED_FIELDS = ['tenant', 'expires', 'upload_id', 'content_type', 'object_ttl', 'signature'] as const;

describe('signed-URL codec (property-based)', () => {
  test('an upload URL verifies to exactly the grant it was made for', () => {
    fc.assert(
      fc.property(uploadUrl, ({ input, url }) => {
        const { type: urlType, key: urlKey, query } = partsOf(url);
        const grant = urls.verifyUpload(urlType, urlKey, query);
        assert.deepEqual(grant.ref, { tenant: input.tenant, type: input.type, key: input.key });
        assert.equal(grant.contentType, input.contentType);
        assert.equal(grant.objectTtlMs, input.objectTtl === undefined ? undefined : input.objectTtl * 1000);
        assert.equal(grant.urlExpiresAt, Math.floor((NOW + input.ttlMs) / 1000) * 1000);
        assert.match(grant.uploadId, /^[0-9a-f]{32}$/);
      }),
      { numRuns: 300 },
    );
  });

  test('replacing any signed field, the key or the type with any other value is refused', () => {
    fc.assert(
      fc.property(
        uploadUrl,
        fc.constantFrom(...SIGNED_FIELDS, 'key', 'type'),
        fc.string({ maxLength: 40 }),
        ({ url }, field, replacement) => {
          const parts = partsOf(url);
          if (field === 'key' || field === 'type') {
            fc.pre(parts[field] !== replacement);
            const edited = { ...parts, [field]: replacement };
            assertRefused(() => urls.verifyUpload(edited.type, edited.key, edited.query), `${field}=${JSON.stringify(replacement)}`);
            return;
          }
          fc.pre(parts.query[field] !== replacement && !(parts.query[field] === undefined && replacement === ''));
          const query = { ...parts.query, [field]: replacement };
          assertRefused(() => urls.verifyUpload(parts.type, parts.key, query), `${field}=${JSON.stringify(replacement)}`);
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('moving text from one field to the next, or repeating a field, is refused', () => {
    fc.assert(
      fc.property(
        uploadUrl,
        fc.integer({ min: 0, max: SIGNED_FIELDS.length - 2 }),
        fc.nat(),
        fc.constantFrom('', '\0', ':', '&', '1'),
        fc.boolean(),
        ({ url }, index, cut, glue, backward) => {
          const { type: urlType, key: urlKey, query } = partsOf(url);
          const [left, right] = [SIGNED_FIELDS[index] as string, SIGNED_FIELDS[index + 1] as string];
          const [from, to] = backward ? [right, left] : [left, right];
          const source = String(query[from] ?? '');
          const at = source.length === 0 ? 0 : cut % source.length;
          // Forward: a suffix of the left field starts the right one; backward: a prefix of the right ends the left.
          const moved = backward ? source.slice(0, at + 1) : source.slice(at);
          const kept = backward ? source.slice(at + 1) : source.slice(0, at);
          fc.pre(moved.length > 0 || glue.length > 0);
          const target = String(query[to] ?? '');
          const grown = backward ? `${target}${glue}${moved}` : `${moved}${glue}${target}`;
          const shifted = { ...query, [from]: kept, [to]: grown };
          assertRefused(() => urls.verifyUpload(urlType, urlKey, shifted), `${from}→${to}`);
          if (source !== '') {
            const repeated = { ...query, [from]: [source, source] };
            assertRefused(() => urls.verifyUpload(urlType, urlKey, repeated), `repeated ${from}`);
          }
        },
      ),
      { numRuns: 1000 },
    );
  });

  test('a download URL serves only its tenant, type and key, for GET, until it expires', () => {
    fc.assert(
      fc.property(tenant, type, key, ttlMs, fc.string({ maxLength: 20 }), (t, ty, k, ttl, other) => {
        const url = urls.createDownloadUrl('http://h', { tenant: t, type: ty, key: k }, ttl);
        const parts = partsOf(url);
        assert.deepEqual(urls.verifyDownload(parts.type, parts.key, parts.query), {
          ref: { tenant: t, type: ty, key: k },
          filename: undefined,
          urlExpiresAt: Number(parts.query.expires) * 1000,
        });
        if (other !== k) assertRefused(() => urls.verifyDownload(parts.type, other, parts.query), 'another key');
        if (other !== t)
          assertRefused(() => urls.verifyDownload(parts.type, parts.key, { ...parts.query, tenant: other }), 'another tenant');
        assertRefused(() => urls.verifyUpload(parts.type, parts.key, { ...parts.query, upload_id: '0'.repeat(32) }), 'as an upload URL');
        const late = new SignedUrls(new UrlSigner(Buffer.alloc(32, 7)), () => NOW + ttl + 1000);
        assertRefused(() => late.verifyDownload(parts.type, parts.key, parts.query), 'expired');
      }),
      { numRuns: 300 },
    );
  });
});
