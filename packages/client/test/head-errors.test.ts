// A HEAD answer has no body: its error code comes in X-Stowage-Error-Code. `info` of a missing key
// says NoSuchKey, and `exists` against a URL that is not the API throws RouteNotFound instead of
// answering false, against a real server.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { NotFoundError } from '../src/errors.js';
import { Auth, Storage } from '../src/index.js';

describe('errors of HEAD requests', () => {
  let ts: TestServer;
  let token: string;
  before(async () => {
    ts = await startTestServer();
    token = await ts.token('head');
  });
  after(() => ts.close());

  test('info of a missing key is NotFoundError NoSuchKey, with the registry message', async () => {
    const storage = new Storage({ url: ts.url, auth: new Auth({ token }) });
    try {
      const error = await storage.info('never-was').catch((caught: unknown) => caught);
      assert.ok(error instanceof NotFoundError);
      assert.equal(error.code, 'NoSuchKey');
      assert.equal(error.message, 'No object exists at this key');
      assert.equal(await storage.exists('never-was'), false);
    } finally {
      await storage.close();
    }
  });

  test('exists against a base URL without /storage/v1 throws RouteNotFound instead of answering false', async () => {
    const storage = new Storage({ url: ts.origin, auth: new Auth({ token }) });
    try {
      const error = await storage.exists('anything').catch((caught: unknown) => caught);
      assert.ok(error instanceof NotFoundError, String(error));
      assert.equal(error.code, 'RouteNotFound');
    } finally {
      await storage.close();
    }
  });
});
