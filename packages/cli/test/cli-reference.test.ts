// docs/cli.md is the commands' own help: a change to a command without `npm run docs:cli` fails here.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { REPOSITORY_ROOT } from '../../server/test/helpers/doc-blocks.js';
import { buildProgram } from '../src/program.js';
import { cliReference } from '../src/reference.js';

test('docs/cli.md is what the commands print (regenerate with npm run docs:cli)', async () => {
  const page = await readFile(`${REPOSITORY_ROOT}docs/cli.md`, 'utf8');
  const generated = cliReference(buildProgram());
  assert.equal(page, generated);
  for (const command of ['set', 'get', 'sync', 'login', 'serve', 'backup', 'migrate', 'bucket create'])
    assert.match(page, new RegExp(`^## \`stowage ${command}\`$`, 'm'), `${command} has a section`);
});
