// Unit checks of the small pure pieces: config parsing, units, prefix ranges, page tokens, raw keys.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { listStart, prefixUpperBound } from '../src/backends/key-range.js';
import { partTarget } from '../src/backends/s3/s3-uploads.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { keyFromRawUrl } from '../src/http/request-key.js';
import { decodePageToken, encodePageToken } from '../src/storage/page-token.js';
import { parseByteSize, parseDuration } from '../src/units.js';

describe('config', () => {
  test('defaults', () => {
    const config = loadConfig({});
    assert.equal(config.port, 8787);
    assert.equal(config.host, '127.0.0.1');
    assert.equal(config.durability, 'full');
    assert.equal(config.tmpTtlMs, 24 * 3_600_000);
    assert.ok(Object.isFrozen(config));
  });

  test('flags win over the environment', () => {
    const config = loadConfig({ STOWAGE_PORT: '9000', STOWAGE_TMP_TTL: '2h' }, { port: '9001' });
    assert.equal(config.port, 9001);
    assert.equal(config.tmpTtlMs, 7_200_000);
  });

  test('every invalid field is reported at once', () => {
    assert.throws(
      () => loadConfig({ STOWAGE_PORT: '70000', STOWAGE_DURABILITY: 'maybe', STOWAGE_TMP_TTL: 'soon', STOWAGE_JWT_SECRET: 'short' }),
      (error: unknown) => error instanceof ConfigError && error.problems.length === 4,
    );
  });

  test('the S3 keep-alive interval must be shorter than the send-idle timeout, which would cut long answers', () => {
    assert.equal(loadConfig({}).s3KeepAliveMs, 5_000);
    assert.throws(
      () => loadConfig({ STOWAGE_S3_KEEPALIVE_INTERVAL: '60s', STOWAGE_SEND_IDLE_TIMEOUT: '30s' }),
      (error: unknown) =>
        error instanceof ConfigError && /STOWAGE_S3_KEEPALIVE_INTERVAL: must be less than STOWAGE_SEND_IDLE_TIMEOUT/.test(error.message),
    );
  });

  test('read offload: off by default; nginx needs blob files, redirect an S3 store, and each its own settings', () => {
    assert.deepEqual(loadConfig({}).readOffload, { kind: 'off' });
    assert.deepEqual(loadConfig({ STOWAGE_READ_OFFLOAD: 'nginx', STOWAGE_READ_OFFLOAD_MIN_SIZE: '4MiB' }).readOffload, {
      kind: 'nginx',
      minBytes: 4 * 1024 ** 2,
      location: '/_stowage_blobs/',
    });
    const s3 = { STOWAGE_BLOBS: 's3://bucket', STOWAGE_INDEX: 'postgres://db/x', STOWAGE_JWT_SECRET: 'x'.repeat(32) };
    assert.deepEqual(loadConfig({ ...s3, STOWAGE_READ_OFFLOAD: 'redirect', STOWAGE_READ_REDIRECT_TTL: '2m' }).readOffload, {
      kind: 'redirect',
      minBytes: 1024 ** 2,
      ttlMs: 120_000,
    });
    const refused = (env: Record<string, string>, pattern: RegExp) =>
      assert.throws(
        () => loadConfig(env),
        (error: unknown) => error instanceof ConfigError && pattern.test(error.message),
      );
    refused({ STOWAGE_READ_OFFLOAD: 'sendfile' }, /STOWAGE_READ_OFFLOAD: "sendfile" is not one of off, nginx, redirect/);
    refused({ STOWAGE_READ_OFFLOAD: 'redirect' }, /redirect sends clients to the S3 store, so it needs STOWAGE_BLOBS=s3/);
    refused({ ...s3, STOWAGE_READ_OFFLOAD: 'nginx' }, /nginx sends blob files, so it needs STOWAGE_BLOBS=files/);
    refused(
      { STOWAGE_READ_OFFLOAD: 'nginx', STOWAGE_NGINX_BLOB_LOCATION: '/blobs;return 200' },
      /must be a path such as \/_stowage_blobs\//,
    );
    refused({ ...s3, STOWAGE_READ_OFFLOAD: 'redirect', STOWAGE_REPLACED_BLOB_GRACE: '10s' }, /must be at least STOWAGE_READ_REDIRECT_TTL/);
    refused({ ...s3, STOWAGE_S3_PUBLIC_ENDPOINT: 'ftp://store' }, /STOWAGE_S3_PUBLIC_ENDPOINT must be an http\(s\) URL/);
    refused({ STOWAGE_READ_OFFLOAD: 'nginx', STOWAGE_REPLACED_BLOB_GRACE: '0s' }, /at least 1s with nginx read offload/);
    refused(
      { ...s3, STOWAGE_BLOBS: 's3://bucket/a/../b', STOWAGE_READ_OFFLOAD: 'redirect' },
      /redirect cannot name blobs under a prefix with \. or \.\. segments/,
    );
  });

  test('the S3 port: none by default; a port number from the flag or STOWAGE_S3_PORT, not the API port', () => {
    assert.equal(loadConfig({}).s3Port, undefined);
    assert.equal(loadConfig({ STOWAGE_S3_PORT: '9100' }).s3Port, 9100);
    assert.equal(loadConfig({ STOWAGE_S3_PORT: '9100' }, { s3Port: '9200' }).s3Port, 9200);
    assert.throws(
      () => loadConfig({ STOWAGE_S3_PORT: 's3' }),
      (error: unknown) => error instanceof ConfigError && /STOWAGE_S3_PORT: "s3" is not a port number/.test(error.message),
    );
    assert.throws(
      () => loadConfig({ STOWAGE_PORT: '9000', STOWAGE_S3_PORT: '9000' }),
      (error: unknown) => error instanceof ConfigError && /STOWAGE_S3_PORT: must differ from the API port/.test(error.message),
    );
  });

  test('the user-content origin: none by default; an http(s) origin other than the public URL', () => {
    assert.equal(loadConfig({}).userContentUrl, undefined);
    const env = { STOWAGE_USER_CONTENT_URL: 'https://usercontent.example.net/ignored/path' };
    assert.equal(loadConfig(env).userContentUrl, 'https://usercontent.example.net');
    assert.equal(loadConfig(env, { userContentUrl: 'http://files.test:8080' }).userContentUrl, 'http://files.test:8080');
    assert.throws(
      () => loadConfig({ STOWAGE_USER_CONTENT_URL: 'ftp://files.test' }),
      (error: unknown) => error instanceof ConfigError && /STOWAGE_USER_CONTENT_URL: must be an http\(s\) URL/.test(error.message),
    );
    assert.throws(
      () => loadConfig({ STOWAGE_PUBLIC_URL: 'https://storage.example.com', STOWAGE_USER_CONTENT_URL: 'https://storage.example.com/' }),
      (error: unknown) => error instanceof ConfigError && /STOWAGE_USER_CONTENT_URL: must be another origin/.test(error.message),
    );
  });
});

describe('units', () => {
  test('durations', () => {
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('15m'), 900_000);
    assert.equal(parseDuration('7d'), 604_800_000);
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('30'), 30_000);
    assert.throws(() => parseDuration('1 week'));
  });

  test('byte sizes', () => {
    assert.equal(parseByteSize('512k'), 524_288);
    assert.equal(parseByteSize('64MiB'), 67_108_864);
    assert.equal(parseByteSize('1048576'), 1_048_576);
    assert.throws(() => parseByteSize('lots'));
  });
});

describe('prefix ranges', () => {
  test('the bound is above every extension of the prefix and below every key past it', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 8 }),
        fc.uint8Array({ maxLength: 8 }),
        fc.uint8Array({ maxLength: 8 }),
        (p, tail, other) => {
          const prefix = Buffer.from(p);
          const bound = prefixUpperBound(prefix);
          const extended = Buffer.concat([prefix, Buffer.from(tail)]);
          if (bound === undefined) return prefix.every((byte) => byte === 0xff);
          const candidate = Buffer.from(other);
          const inRange = Buffer.compare(candidate, prefix) >= 0 && Buffer.compare(candidate, bound) < 0;
          return Buffer.compare(extended, bound) < 0 && inRange === candidate.subarray(0, prefix.length).equals(prefix);
        },
      ),
    );
  });

  test('empty or all-0xFF prefixes have no bound', () => {
    assert.equal(prefixUpperBound(Buffer.alloc(0)), undefined);
    assert.equal(prefixUpperBound(Buffer.from([0xff, 0xff])), undefined);
    assert.deepEqual(prefixUpperBound(Buffer.from([0x61, 0xff])), Buffer.from([0x62]));
  });

  test('a page starts past `after` but never before the prefix', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 6 }), fc.string({ maxLength: 6 }), (p, after) => {
        const prefix = Buffer.from(p, 'utf8');
        const start = listStart(prefix, after.replaceAll('\0', ''));
        const past = Buffer.concat([Buffer.from(after.replaceAll('\0', ''), 'utf8'), Buffer.from([0])]);
        return Buffer.compare(start, prefix) >= 0 && Buffer.compare(start, past) >= 0 && (start.equals(prefix) || start.equals(past));
      }),
    );
    assert.deepEqual(listStart(Buffer.from('b/'), 'a'), Buffer.from('b/'), 'an `after` before the prefix starts at the prefix');
    assert.deepEqual(listStart(Buffer.from('b/'), 'b/x'), Buffer.from('b/x\0'));
  });
});

describe('page tokens', () => {
  test('round-trip any prefix and key', () => {
    fc.assert(
      fc.property(
        fc.string(),
        fc.string(),
        (prefix, rest) => decodePageToken(encodePageToken(prefix, prefix + rest), prefix) === prefix + rest,
      ),
    );
  });
});

describe('keys from raw URLs', () => {
  test('decoded exactly once, query stripped, + kept', () => {
    assert.equal(keyFromRawUrl('/storage/v1/data/get/a%2Fb+c%2520?x=1', 4), 'a/b+c%20');
    assert.equal(keyFromRawUrl('/storage/v1/data/get//lead', 4), '/lead');
    assert.equal(keyFromRawUrl('/storage/v1/data/x%2F..%2Fy', 3), 'x/../y');
    assert.equal(keyFromRawUrl('/storage/v1/data/get/', 4), '');
  });
});

describe('S3 parts of a resumable upload', () => {
  test('5 TiB sent in chunks of 256 KiB or 8 MiB fits S3: at most 10,000 parts, none past 5 GiB', () => {
    const TIB = 1024 ** 4;
    for (const chunk of [256 * 1024, 8 * 1024 * 1024]) {
      let inParts = 0;
      let staged = 0;
      let parts = 0;
      let largest = 0;
      for (let sent = 0; sent < 5 * TIB; sent += chunk) {
        staged += chunk;
        if (staged >= partTarget(inParts)) {
          parts++;
          largest = Math.max(largest, staged);
          inParts += staged;
          staged = 0;
        }
      }
      assert.ok(parts <= 10_000, `${parts} parts with chunks of ${chunk}`);
      assert.ok(largest <= 5 * 1024 ** 3, `a part of ${largest} bytes`);
    }
  });
});
