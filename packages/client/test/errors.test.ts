// Guards error mapping: classes come from the body's code first, then the status, never from
// message text; instanceof works across two copies of the module (duplicate installs).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import * as errors from '../src/errors.js';
import { ERRORS } from '../src/protocol.js';
import { parseRetryAfter, Retry } from '../src/retry.js';

const { errorFromResponse } = errors;

describe('errorFromResponse', () => {
  test('maps statuses', () => {
    const cases: Array<[number, unknown]> = [
      [400, errors.BadRequestError],
      [422, errors.BadRequestError],
      [401, errors.AuthError],
      [403, errors.ForbiddenError],
      [404, errors.NotFoundError],
      [408, errors.TimeoutError],
      [409, errors.ConflictError],
      [412, errors.PreconditionFailedError],
      [413, errors.PayloadTooLargeError],
      [429, errors.RateLimitError],
      [500, errors.ServerError],
      [503, errors.ServerError],
      [507, errors.InsufficientStorageError],
      [418, errors.ServerError],
    ];
    for (const [status, ErrorClass] of cases) {
      const error = errorFromResponse(status, undefined);
      assert.ok(error instanceof (ErrorClass as typeof errors.StorageError), `${status}`);
      assert.equal(error.status, status);
    }
  });

  test('the code wins over the status and the message is never parsed', () => {
    assert.ok(errorFromResponse(400, { code: 'NoSuchKey', message: 'forbidden!' }) instanceof errors.NotFoundError);
    assert.ok(errorFromResponse(404, { code: 'Whatever', message: 'NoSuchKey' }) instanceof errors.NotFoundError);
    assert.ok(errorFromResponse(500, { message: 'not found' }) instanceof errors.ServerError);
    const withFields = errorFromResponse(429, { code: 'SlowDown', message: 'later', requestId: 'r1' }, { retryAfter: 7 });
    assert.ok(withFields instanceof errors.RateLimitError);
    assert.equal(withFields.retryAfter, 7);
    assert.equal(withFields.requestId, 'r1');
    assert.equal(withFields.message, 'later');
  });

  test('every server code maps to the class its status implies, or a subclass of it', () => {
    for (const [code, { status }] of Object.entries(ERRORS)) {
      const byCode = errorFromResponse(status, { code, message: 'm' });
      const byStatus = errorFromResponse(status, { message: 'm' });
      assert.ok(byCode instanceof (byStatus.constructor as typeof errors.StorageError), `${code} is a ${byStatus.constructor.name}`);
      assert.equal(byCode.code, code);
      assert.equal(byCode.status, status);
    }
  });

  test('the hardening codes map to classes users can catch', () => {
    const cases: Array<[string, typeof errors.StorageError, typeof errors.StorageError]> = [
      ['QuotaExceeded', errors.QuotaExceededError, errors.ForbiddenError],
      ['RateLimited', errors.RateLimitError, errors.StorageError],
      ['InsufficientStorage', errors.InsufficientStorageError, errors.ServerError],
      ['Overloaded', errors.ServerError, errors.StorageError],
      ['RequestTimeout', errors.TimeoutError, errors.StorageError],
      ['InvalidContentType', errors.BadRequestError, errors.StorageError],
      ['UnsupportedTransferEncoding', errors.ServerError, errors.StorageError],
    ];
    for (const [code, ErrorClass, Parent] of cases) {
      const entry = ERRORS[code as keyof typeof ERRORS];
      assert.ok(entry, `${code} is in the registry`);
      const error = errorFromResponse(entry.status, { code, message: entry.message });
      assert.equal(error.constructor, ErrorClass, code);
      assert.ok(error instanceof Parent, code);
    }
    assert.ok(!(errorFromResponse(403, { code: 'InvalidSignature' }) instanceof errors.QuotaExceededError));
    assert.ok(!(errorFromResponse(503, { code: 'Overloaded' }) instanceof errors.InsufficientStorageError));
  });

  test('the codes of buckets and sharing map to their classes, whatever the status', () => {
    const cases: Array<[string, typeof errors.StorageError]> = [
      ['NoSuchBucket', errors.NotFoundError],
      ['AccessDenied', errors.ForbiddenError],
      ['BucketAlreadyExists', errors.ConflictError],
      ['BucketAlreadyOwnedByYou', errors.ConflictError],
      ['BucketNotEmpty', errors.ConflictError],
      ['InvalidBucketName', errors.BadRequestError],
      ['TooManyBuckets', errors.BadRequestError],
    ];
    for (const [code, ErrorClass] of cases) {
      const entry = ERRORS[code as keyof typeof ERRORS];
      assert.ok(entry, `${code} is in the registry`);
      assert.equal(errorFromResponse(entry.status, { code, message: entry.message }).constructor, ErrorClass, code);
      // A proxy that rewrites the status does not change what the code means.
      assert.equal(errorFromResponse(400, { code, message: entry.message }).constructor, ErrorClass, `${code} under 400`);
    }
    assert.ok(!(errorFromResponse(403, { code: 'AccessDenied' }) instanceof errors.QuotaExceededError));
  });

  test('Retry-After is kept on every error that had one, not only 429', () => {
    assert.equal(errorFromResponse(503, { code: 'Overloaded' }, { retryAfter: 3 }).retryAfter, 3);
    assert.equal(errorFromResponse(429, { code: 'RateLimited' }, { retryAfter: 5 }).retryAfter, 5);
    assert.equal(errorFromResponse(500, { code: 'InternalError' }).retryAfter, undefined);
  });

  test('the package root exports the new classes, branded across copies', async () => {
    const root = await import('../src/index.js');
    assert.equal(root.QuotaExceededError, errors.QuotaExceededError);
    assert.equal(root.InsufficientStorageError, errors.InsufficientStorageError);
    const copy = (await import(`../src/errors.ts?copy=quota-${Date.now()}`)) as typeof errors;
    assert.ok(new copy.QuotaExceededError('x') instanceof errors.ForbiddenError);
    assert.ok(new copy.InsufficientStorageError('x') instanceof errors.ServerError);
  });

  test('instanceof works across two copies of the module', async () => {
    const copy = (await import(`../src/errors.ts?copy=${Date.now()}`)) as typeof errors;
    assert.notEqual(copy.NotFoundError, errors.NotFoundError);
    const foreign = new copy.NotFoundError('x');
    assert.ok(foreign instanceof errors.NotFoundError);
    assert.ok(foreign instanceof errors.StorageError);
    assert.ok(!(foreign instanceof errors.AuthError));
    assert.ok(!({} instanceof errors.StorageError));
  });
});

describe('Retry', () => {
  test('separate budgets under one total, idempotent methods only for read errors', () => {
    const state = new Retry({ total: 3, connect: 1, read: 1, status: 5, backoffFactor: 0, backoffJitter: 0 }).start();
    assert.equal(state.next('GET', { kind: 'connect' }), 0);
    assert.equal(state.next('GET', { kind: 'connect' }), undefined);
    assert.equal(state.next('POST', { kind: 'read' }), undefined);
    assert.equal(state.next('GET', { kind: 'read' }), 0);
    assert.equal(state.next('GET', { kind: 'status', status: 503, retryAfterSeconds: 2 }), 2000);
    assert.equal(state.next('GET', { kind: 'status', status: 503, retryAfterSeconds: undefined }), undefined, 'total spent');
  });

  test('exponential backoff capped at backoffMax, Retry-After capped too', () => {
    const state = new Retry({ total: 10, connect: 10, backoffFactor: 1, backoffJitter: 0, backoffMax: 5 }).start();
    const delays = Array.from({ length: 5 }, () => state.next('GET', { kind: 'connect' }));
    assert.deepEqual(delays, [1000, 2000, 4000, 5000, 5000]);
    const capped = new Retry({ backoffMax: 120 }).start();
    assert.equal(capped.next('GET', { kind: 'status', status: 429, retryAfterSeconds: 3600 }), 120_000);
  });

  test('which statuses are retried', () => {
    const retry = new Retry();
    assert.ok(retry.isRetryableStatus('GET', 503, false));
    assert.ok(retry.isRetryableStatus('PUT', 503, true));
    assert.ok(retry.isRetryableStatus('GET', 429, true));
    assert.ok(!retry.isRetryableStatus('GET', 429, false));
    for (const status of [403, 408, 501, 507]) assert.ok(!retry.isRetryableStatus('PUT', status, false), `${status}`);
    assert.ok(!retry.isRetryableStatus('GET', 404, false));
    assert.ok(!retry.isRetryableStatus('POST', 503, false));
  });

  test('alsoRetrying adds methods and keeps every other setting', () => {
    const base = new Retry({ total: 1, status: 1, backoffFactor: 0, backoffJitter: 0 });
    const withPost = base.alsoRetrying('POST');
    assert.ok(!base.isRetryableStatus('POST', 503, false));
    assert.ok(withPost.isRetryableStatus('POST', 503, false));
    assert.ok(withPost.isRetryableStatus('GET', 503, false));
    const state = withPost.start();
    assert.equal(state.next('POST', { kind: 'status', status: 503, retryAfterSeconds: undefined }), 0);
    assert.equal(state.next('POST', { kind: 'status', status: 503, retryAfterSeconds: undefined }), undefined, 'budget kept');
    assert.equal(Retry.none().alsoRetrying('POST').start().next('POST', { kind: 'read' }), undefined);
  });

  test('Retry-After as seconds or an HTTP date', () => {
    assert.equal(parseRetryAfter('5'), 5);
    const fromDate = parseRetryAfter(new Date(Date.now() + 10_000).toUTCString(), Date.now()) ?? 0;
    assert.ok(fromDate > 8 && fromDate <= 10, String(fromDate));
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
  });
});
