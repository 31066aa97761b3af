// Bucket names: S3's naming rules for general purpose buckets, the names Stowage keeps, and the
// cheap check the index makes of a row's storage type column.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import {
  explainInvalidBucketName,
  isReservedBucketName,
  isStorageTypeOrBucketName,
  RESERVED_BUCKET_NAMES,
} from '../src/storage/bucket-names.js';

describe('bucket names', () => {
  test('names S3 takes are taken', () => {
    for (const name of ['abc', 'my-bucket', 'my.bucket.example', 'a1b2c3', '123', 'a'.repeat(63), 'logs-2024.eu', 'x-n--a'])
      assert.equal(explainInvalidBucketName(name), undefined, name);
  });

  test('length: 3 to 63 characters', () => {
    assert.match(explainInvalidBucketName('ab') ?? '', /3 to 63 characters long; this one has 2/);
    assert.match(explainInvalidBucketName('a'.repeat(64)) ?? '', /this one has 64/);
    assert.match(explainInvalidBucketName('') ?? '', /has 0/);
  });

  test('lower-case letters, digits, dots and hyphens only', () => {
    for (const name of ['MyBucket', 'my_bucket', 'my bucket', 'bücket', 'a/b', 'abc\n'])
      assert.match(explainInvalidBucketName(name) ?? '', /only lower-case letters, digits, dots/, name);
  });

  test('begins and ends with a letter or digit', () => {
    for (const name of ['-abc', 'abc-', '.abc', 'abc.']) assert.match(explainInvalidBucketName(name) ?? '', /begins and ends/, name);
  });

  test('no two adjacent dots, not an IP address', () => {
    assert.match(explainInvalidBucketName('a..b') ?? '', /two adjacent dots/);
    assert.match(explainInvalidBucketName('192.168.5.4') ?? '', /IP address/);
    assert.match(explainInvalidBucketName('999.999.999.999') ?? '', /IP address/);
    assert.equal(explainInvalidBucketName('192.168.5'), undefined);
    assert.equal(explainInvalidBucketName('192.168.5.4.5'), undefined);
    assert.equal(explainInvalidBucketName('v1.2.3.4'), undefined);
  });

  test("S3's reserved prefixes and suffixes", () => {
    for (const name of ['xn--abc', 'sthree-abc', 'sthree-configurator', 'amzn-s3-demo-bucket'])
      assert.match(explainInvalidBucketName(name) ?? '', /may not begin with/, name);
    for (const name of ['abc-s3alias', 'abc--ol-s3', 'abc.mrap', 'abc--x-s3', 'abc--table-s3'])
      assert.match(explainInvalidBucketName(name) ?? '', /may not end with/, name);
    assert.equal(explainInvalidBucketName('abc-s3aliases'), undefined);
  });

  test("Stowage's reserved names: the built-in buckets and storage API v1's path segments", () => {
    assert.deepEqual(
      [...RESERVED_BUCKET_NAMES].sort(),
      ['buckets', 'copy', 'data', 'keys', 'move', 'result', 'signed', 'tmp', 'upload', 'usage'].sort(),
    );
    for (const name of RESERVED_BUCKET_NAMES) {
      assert.ok(isReservedBucketName(name), name);
      // Valid S3 names, so the refusal is Stowage's own, not the naming rules'.
      assert.equal(explainInvalidBucketName(name), undefined, name);
    }
    assert.equal(isReservedBucketName('data2'), false);
    assert.equal(isReservedBucketName('Data'), false);
  });

  test('the storage type column holds a storage type or a bucket-shaped name', () => {
    for (const value of ['data', 'tmp', 'result', 'my-bucket', 'a.b.c']) assert.ok(isStorageTypeOrBucketName(value), value);
    for (const value of ['', 'ab', 'My-Bucket', '-abc', 'a'.repeat(64), 'a/b', 7, null, undefined])
      assert.equal(isStorageTypeOrBucketName(value), false, String(value));
  });

  test('every valid name passes the cheap check', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9.-]{1,70}$/),
        (name) => explainInvalidBucketName(name) !== undefined || isStorageTypeOrBucketName(name),
      ),
    );
  });
});
