// Guards the documentation: the README's example of folders, batch deletes, copy, move and
// metadata runs as written against a real server and prints what its comments say.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { docBlock, runJsExample } from '../../server/test/helpers/doc-blocks.js';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';

describe('README folders and metadata example', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer();
  });
  after(() => ts.close());

  test('runs as written and prints what its comments promise', async () => {
    const { code: exit, stdout, stderr } = await runJsExample(ts, await docBlock('README.md', 'folders-example', 'js'));
    assert.equal(exit, 0, stderr);
    const lines = stdout.split('\n');
    assert.deepEqual(lines.slice(0, 8), [
      '{',
      "  objects: [ 'photos/index.html' ],",
      "  folders: [ 'photos/2025/', 'photos/2026/' ]",
      '}',
      'photos/2025/ (folder)',
      'photos/2026/ (folder)',
      'photos/index.html',
      '10 København',
    ]);
    assert.match(stdout, /\{ camera: 'X100', city: 'København' \}\n4 39 \{ objects: 1, bytes: 10 \}\n/);
    assert.match(stdout, /\[ 'photos\/index\.html', 'never-was: NoSuchKey' \]\n\{ deleted: 1, bytes: 10 \}\n/);
    const url = lines.at(-2) as string;
    const download = await fetch(url);
    assert.equal(await download.text(), 'jpeg bytes');
    assert.match(download.headers.get('content-disposition') ?? '', /filename\*=UTF-8''Best%20of%202025\.jpg/);
  });
});
