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
      [409, errors.ConflictError],
      [412, errors.PreconditionFailedError],
      [413, errors.PayloadTooLargeError],
      [429, errors.RateLimitError],
      [500, errors.ServerError],
      [503, errors.ServerError],
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

  test('every server code maps to the class its status implies', () => {
    for (const [code, { status }] of Object.entries(ERRORS)) {
      const byCode = errorFromResponse(status, { code, message: 'm' });
      const byStatus = errorFromResponse(status, { message: 'm' });
      if (code !== 'InvalidSignature' && code !== 'UrlExpired') assert.equal(byCode.constructor, byStatus.constructor, code);
      assert.equal(byCode.code, code);
    }
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
    assert.ok(retry.isRetryableStatus('GET', 429, true));
    assert.ok(!retry.isRetryableStatus('GET', 429, false));
    assert.ok(!retry.isRetryableStatus('GET', 404, false));
    assert.ok(!retry.isRetryableStatus('POST', 503, false));
  });

  test('Retry-After as seconds or an HTTP date', () => {
    assert.equal(parseRetryAfter('5'), 5);
    const fromDate = parseRetryAfter(new Date(Date.now() + 10_000).toUTCString(), Date.now()) ?? 0;
    assert.ok(fromDate > 8 && fromDate <= 10, String(fromDate));
    assert.equal(parseRetryAfter('soon'), undefined);
    assert.equal(parseRetryAfter(undefined), undefined);
  });
});
