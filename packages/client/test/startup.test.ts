// Guards the client's start-up: it requires only the parts of undici it uses (Agent, request),
// which `stowage` commands wait for on every run.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { undiciLoadedLight } from '../src/transport.js';

test("the client loads undici's Agent and request without undici's index (start-up time)", () => {
  assert.equal(
    undiciLoadedLight,
    true,
    'undici no longer has lib/dispatcher/agent.js or lib/api/api-request.js: the client fell back to its index (all of undici)',
  );
  const loaded = Object.keys(createRequire(import.meta.url).cache);
  assert.ok(loaded.some((file) => /[\\/]undici[\\/]lib[\\/]dispatcher[\\/]agent\.js$/.test(file)));
  assert.ok(!loaded.some((file) => /[\\/]undici[\\/]index\.js$/.test(file)), "undici's index was loaded");
});
