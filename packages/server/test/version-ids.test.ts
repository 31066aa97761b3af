// Version ids come from a pool of random bytes refilled every 512 ids: across refills they stay
// distinct, of one shape, and ordered by the time they were made.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { newVersionId } from '../src/backends/object-columns.js';

const SHAPE = /^[0-9a-z]{9}[A-Za-z0-9_-]{12}$/;

test('version ids made in the same millisecond, across refills of their random pool, are distinct and of one shape', () => {
  const now = Date.now();
  const ids = Array.from({ length: 5000 }, () => newVersionId(now));
  for (const id of ids) assert.match(id, SHAPE);
  assert.equal(new Set(ids).size, ids.length);
  // Each refill draws new bytes: the random parts do not repeat from one pool to the next.
  assert.equal(new Set(ids.map((id) => id.slice(9))).size, ids.length);
});

test('version ids sort by the time they were made', () => {
  const times = [0, 1, 999, 1_700_000_000_000, 1_700_000_000_001, 4_102_444_800_000];
  const ids = times.map((time) => newVersionId(time));
  assert.deepEqual([...ids].sort(), ids);
});
