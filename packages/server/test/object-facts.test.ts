// Guards the rules both fronts share for what they say of an object: the ETag each gives (sha256
// for storage API v1, the MD5-style one for S3, sha256-N for multipart objects from before MD5s),
// metadata values as headers carry them, the expiry, and the metadata limits (METADATA_LIMITS).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { METADATA_LIMITS } from 'stowage-client/protocol';
import { isMetadataName, metadataOverLimit } from '../src/storage/metadata-limits.js';
import { objectFacts } from '../src/storage/object-facts.js';

const sha256 = 'a'.repeat(64);
const info = {
  size: 3,
  etag: `"${sha256}"`,
  sha256,
  contentType: 'text/plain',
  lastModified: Date.UTC(2024, 0, 1),
  expiresAt: Date.UTC(2024, 0, 2),
  attributes: { metadata: { city: 'Zürich' }, cacheControl: 'max-age=60', contentDisposition: null, content: { s3Etag: 'b'.repeat(32) } },
};

test('each front gets its ETag, and the same dates, metadata and expiry', () => {
  const v1 = objectFacts(info, 'sha256', Date.UTC(2024, 0, 1, 12));
  const s3 = objectFacts(info, 'md5', Date.UTC(2024, 0, 1, 12));
  assert.equal(v1.etag, `"${sha256}"`);
  assert.equal(s3.etag, `"${'b'.repeat(32)}"`);
  assert.equal(v1.lastModified, 'Mon, 01 Jan 2024 00:00:00 GMT');
  assert.deepEqual(v1.metadata, [['city', "UTF-8''Z%C3%BCrich"]]);
  assert.deepEqual(v1.expiry, { at: 'Tue, 02 Jan 2024 00:00:00 GMT', ttlSeconds: 12 * 3600 });
  assert.deepEqual(s3.metadata, v1.metadata);
  assert.equal(v1.cacheControl, 'max-age=60');
  assert.equal(v1.contentDisposition, null);
});

test('an object of a multipart upload completed before MD5 ETags gives sha256-N to S3', () => {
  const old = { ...info, attributes: { metadata: {}, cacheControl: null, contentDisposition: null, content: { parts: 3 } } };
  assert.equal(objectFacts(old, 'md5', 0).etag, `"${sha256}-3"`);
  assert.equal(objectFacts({ ...old, expiresAt: undefined }, 'md5', 0).expiry, undefined);
});

test('metadata limits are the protocol module’s', () => {
  assert.ok(isMetadataName('a'.repeat(METADATA_LIMITS.nameBytes)));
  assert.ok(!isMetadataName('a'.repeat(METADATA_LIMITS.nameBytes + 1)));
  assert.ok(!isMetadataName('Upper'));
  assert.ok(!isMetadataName(''));
  const fits = { n: 'x'.repeat(METADATA_LIMITS.totalBytes - 1) };
  assert.equal(metadataOverLimit(fits), undefined);
  assert.equal(metadataOverLimit({ ...fits, m: '' }), METADATA_LIMITS.totalBytes + 1);
});
