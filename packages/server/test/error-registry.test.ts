// Guards the one error registry: every code has a 4xx/5xx status and a message, the docs page
// lists exactly the registry's codes with the same statuses, and errors render as JSON bodies; the
// same for the S3 front's registry and docs/s3.md.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { ERRORS, StowageError } from '../src/errors.js';
import { S3_ERRORS, S3Error } from '../src/s3/errors.js';
import { ruleErrors } from '../src/storage/rule-error.js';

describe('error registry', () => {
  test('every code has an error status and a message', () => {
    for (const [code, { status, message }] of Object.entries(ERRORS)) {
      assert.ok(status >= 400 && status < 600, code);
      assert.ok(message.length > 0, code);
    }
  });

  test('docs/errors.md lists exactly the registry codes, with the same statuses', async () => {
    const page = await readFile(new URL('../../../docs/errors.md', import.meta.url), 'utf8');
    const documented = new Map([...page.matchAll(/^\| `(\w+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]));
    assert.deepEqual([...documented.keys()].sort(), Object.keys(ERRORS).sort());
    for (const [code, { status }] of Object.entries(ERRORS)) assert.equal(documented.get(code), status, code);
  });

  test('docs/s3.md lists exactly the S3 registry codes, with the same statuses', async () => {
    const page = await readFile(new URL('../../../docs/s3.md', import.meta.url), 'utf8');
    const section = page.slice(page.indexOf('<!-- section: errors -->'));
    const documented = new Map([...section.matchAll(/^\| `(\w+)` \| (\d{3}) \|/gm)].map((m) => [m[1], Number(m[2])]));
    assert.deepEqual([...documented.keys()].sort(), Object.keys(S3_ERRORS).sort());
    for (const [code, { status }] of Object.entries(S3_ERRORS)) assert.equal(documented.get(code), status, code);
  });

  test('an S3Error takes its status from the registry', () => {
    for (const [code, { status }] of Object.entries(S3_ERRORS)) {
      assert.ok(status >= 400 && status < 600, code);
      assert.equal(new S3Error(code as keyof typeof S3_ERRORS).status, status, code);
    }
    assert.equal(new S3Error('NoSuchKey').message, S3_ERRORS.NoSuchKey.message);
  });

  test("the domain's S3 rule errors are codes of the S3 registry, with its statuses", () => {
    const made = [
      ruleErrors.noSuchUpload(),
      ruleErrors.invalidPart(),
      ruleErrors.entityTooSmall(),
      ruleErrors.invalidRequest('x'),
      ruleErrors.badDigest('x'),
      ruleErrors.invalidRange(1),
    ];
    for (const error of made) assert.equal(S3_ERRORS[error.code as keyof typeof S3_ERRORS]?.status, error.status, error.code);
  });

  test('a StowageError renders the JSON body with its code and request id', () => {
    const error = new StowageError('NoSuchKey', 'No object at data/x');
    assert.equal(error.status, 404);
    assert.deepEqual(error.toBody('req-1'), { code: 'NoSuchKey', message: 'No object at data/x', requestId: 'req-1' });
  });
});
