// Guards the start-up of `stowage` commands: those of a few small requests go over Node's fetch
// and never load undici (its index takes 60-80 ms to load); set, get and cp, which move object
// bytes, go over undici, about twice as fast on large values.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import { startTestServer, type TestServer } from '../../server/test/helpers/test-server.js';
import { createContext } from '../src/context.js';

const undiciLoaded = () => Object.keys(createRequire(import.meta.url).cache).some((file) => /[\\/]node_modules[\\/]undici[\\/]/.test(file));

let ts: TestServer;
before(async () => {
  delete process.env.STOWAGE_HTTP_TRANSPORT;
  ts = await startTestServer();
});
after(() => ts.close());

test('ls, stat and the other small commands do not load undici; get does', async () => {
  const token = await ts.token('dev');
  const ls = createContext({ url: ts.url, token }, 'ls');
  await ls.storage.set('k', 'v');
  assert.deepEqual(await ls.storage.list(), ['k']);
  await ls.storage.close();
  assert.equal(undiciLoaded(), false, 'a command over fetch loaded undici');
  const get = createContext({ url: ts.url, token }, 'get');
  assert.equal(await get.storage.get('k'), 'v');
  await get.storage.close();
  assert.equal(undiciLoaded(), true, 'get moved its bytes over undici');
});
