// Guards the client's start-up, which every `stowage` command waits for: importing the client
// loads no undici (60-80 ms of modules); the undici transport loads it on its first request.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { Auth, Storage } from '../src/node/index.js';

const undiciFiles = () =>
  Object.keys(createRequire(import.meta.url).cache).filter((file) => /[\\/]node_modules[\\/]undici[\\/]/.test(file));

test('importing the client loads no undici; the first request over undici loads its public index', async () => {
  assert.deepEqual(undiciFiles(), [], 'undici was loaded by importing the client');
  const server = createServer((_request, response) => response.end('[]'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  const storage = new Storage({ url: `http://127.0.0.1:${port}/storage/v1`, auth: new Auth({ token: 't', env: {} }), transport: 'undici' });
  try {
    assert.deepEqual(undiciFiles(), [], 'undici was loaded by making a client');
    assert.deepEqual(await storage.list(), []);
    assert.ok(
      undiciFiles().some((file) => /[\\/]undici[\\/]index\.js$/.test(file)),
      'undici is used through its public index',
    );
  } finally {
    await storage.close();
    server.close();
  }
});
