// Guards the POST policy rules (s3/post-policy.ts) as a table: which forms a policy's conditions
// let through and which they refuse, with S3's answers. The HTTP side (signatures, the file,
// nothing stored) is s3-post-object.test.ts.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { S3Error } from '../src/s3/errors.js';
import { checkPostPolicy, parsePostPolicy } from '../src/s3/post-policy.js';

const NOW = Date.parse('2030-01-01T00:00:00Z');
const policyOf = (conditions: unknown[], expiration = '2030-01-01T01:00:00Z') =>
  parsePostPolicy(Buffer.from(JSON.stringify({ expiration, conditions })).toString('base64'));

/** The S3 error code `check` throws, or 'ok'. */
function verdict(check: () => unknown): string {
  try {
    check();
    return 'ok';
  } catch (error) {
    if (error instanceof S3Error) return `${error.status} ${error.code}`;
    throw error;
  }
}

describe('POST policy conditions', () => {
  const cases: Array<[string, unknown[], Record<string, string>, string]> = [
    ['exact match, object form', [{ key: 'a.txt' }], { key: 'a.txt' }, 'ok'],
    ['exact match, eq', [['eq', '$key', 'a.txt']], { key: 'a.txt' }, 'ok'],
    ['eq differs', [['eq', '$key', 'a.txt']], { key: 'b.txt' }, '403 AccessDenied'],
    ['values are case-sensitive', [{ key: 'a.txt' }], { key: 'A.txt' }, '403 AccessDenied'],
    ['field names are not', [['eq', '$Content-Type', 'text/plain'], { key: 'k' }], { key: 'k', 'content-type': 'text/plain' }, 'ok'],
    ['starts-with', [['starts-with', '$key', 'up/']], { key: 'up/x' }, 'ok'],
    ['starts-with outside', [['starts-with', '$key', 'up/']], { key: 'down/x' }, '403 AccessDenied'],
    [
      'starts-with "" allows any value',
      [
        ['starts-with', '$key', ''],
        ['starts-with', '$x-amz-meta-a', ''],
      ],
      { key: 'k', 'x-amz-meta-a': 'v' },
      'ok',
    ],
    [
      'a condition on a field the form lacks sees it empty',
      [{ key: 'k' }, ['eq', '$success_action_status', '201']],
      { key: 'k' },
      '403 AccessDenied',
    ],
    ['bucket is the request bucket', [{ bucket: 'data' }, { key: 'k' }], { key: 'k' }, 'ok'],
    ['another bucket', [{ bucket: 'tmp' }, { key: 'k' }], { key: 'k' }, '403 AccessDenied'],
    ['a field no condition names', [{ key: 'k' }], { key: 'k', 'cache-control': 'no-store' }, '403 AccessDenied'],
    [
      'x-ignore-* and the signature fields need none',
      [{ key: 'k' }],
      { key: 'k', 'x-ignore-a': '1', policy: 'p', 'x-amz-signature': 's', signature: 's', awsaccesskeyid: 'a' },
      'ok',
    ],
    ['x-amz-credential needs one', [{ key: 'k' }], { key: 'k', 'x-amz-credential': 'c' }, '403 AccessDenied'],
  ];
  for (const [name, conditions, fields, expected] of cases)
    test(name, () => {
      assert.equal(
        verdict(() => checkPostPolicy(policyOf(conditions), new Map(Object.entries(fields)), 'data', NOW)),
        expected,
      );
    });

  test('content-length-range is answered for the file, not checked against fields', () => {
    assert.deepEqual(checkPostPolicy(policyOf([{ key: 'k' }, ['content-length-range', '1', 10]]), new Map([['key', 'k']]), 'data', NOW), {
      min: 1,
      max: 10,
    });
  });

  test('expiry', () => {
    const expired = policyOf([{ key: 'k' }], '2029-12-31T23:59:59Z');
    assert.equal(
      verdict(() => checkPostPolicy(expired, new Map([['key', 'k']]), 'data', NOW)),
      '403 AccessDenied',
    );
  });

  test('documents that are not policies', () => {
    const base64 = (text: string) => Buffer.from(text).toString('base64');
    for (const document of [
      'not json',
      '[]',
      '{"conditions": []}',
      '{"expiration": "soon", "conditions": []}',
      '{"expiration": "2030-01-01T00:00:00Z"}',
      '{"expiration": "2030-01-01T00:00:00Z", "conditions": [["eq", "key", "x"]]}',
      '{"expiration": "2030-01-01T00:00:00Z", "conditions": [["between", "$key", "x"]]}',
      '{"expiration": "2030-01-01T00:00:00Z", "conditions": [{"key": "a", "acl": "b"}]}',
      '{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", 10, 1]]}',
      '{"expiration": "2030-01-01T00:00:00Z", "conditions": [["content-length-range", -1, 1]]}',
    ])
      assert.equal(
        verdict(() => parsePostPolicy(base64(document))),
        '400 InvalidPolicyDocument',
        document,
      );
  });
});
