// Guards the one error registry: every code has a 4xx/5xx status and a message, the docs page
// lists exactly the registry's codes with the same statuses, and errors render as JSON bodies.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { ERRORS, StowageError } from '../src/errors.js';

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

  test('a StowageError renders the JSON body with its code and request id', () => {
    const error = new StowageError('NoSuchKey', 'No object at data/x');
    assert.equal(error.status, 404);
    assert.deepEqual(error.toBody('req-1'), { code: 'NoSuchKey', message: 'No object at data/x', requestId: 'req-1' });
  });
});
