// A model-based property test of retention and undo, through storage API v1 on whichever
// deployment the suite runs: random writes, overwrites, deletes, copies, moves, deletes by prefix
// and by list against a model with timestamps (the server's clock moved between operations); then a
// restore of a prefix at a random time T must give exactly the model's state at T under that
// prefix (and leave every other key as it is), a second restore must change nothing, and once the
// window has passed the sweeper must leave exactly the blobs the current objects name.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import type { RestorePrefixResult, UsageReport } from 'stowage-client/protocol';
import { type ApiClient, apiClient } from './helpers/api-client.js';
import { startTestServer, type TestServer } from './helpers/test-server.js';

const DAY = 86_400_000;
const RETENTION = 7 * DAY;
/** Past the 16 KiB an index row holds inline: such a value is a blob of its own. */
const LARGE = 20_000;
const KEYS = ['p/a', 'p/b', 'p/d/c', 'p/d/e', 'q/a', 'q/f'];
const RESTORED_PREFIX = 'p/';

/** A value, by the write that made it: copies and moves carry it (they share its blob). */
interface Value {
  readonly id: number;
  readonly large: boolean;
}

type Op =
  | { kind: 'write'; key: string; large: boolean }
  | { kind: 'delete'; key: string }
  | { kind: 'copy' | 'move'; from: string; to: string }
  | { kind: 'deletePrefix'; prefix: string }
  | { kind: 'deleteMany'; keys: string[] };

const key = fc.constantFrom(...KEYS);
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('write' as const), key, large: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('delete' as const), key }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('copy' as const), from: key, to: key }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('move' as const), from: key, to: key }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('deletePrefix' as const), prefix: fc.constantFrom('p/', 'p/d/', 'q/') }) },
  {
    weight: 1,
    arbitrary: fc.record({ kind: fc.constant('deleteMany' as const), keys: fc.uniqueArray(key, { minLength: 1, maxLength: 3 }) }),
  },
);

function bodyOf(value: Value): Buffer {
  const tag = `value ${value.id}`;
  return value.large ? Buffer.concat([Buffer.from(tag), Buffer.alloc(LARGE - tag.length, value.id % 251)]) : Buffer.from(tag);
}

describe('retention model: restore of a prefix at a time T gives the state at T', () => {
  let ts: TestServer;
  let nextValue = 1;
  /** Large values current at the end of every run: the blobs that must survive the purge. */
  const survivors = new Set<number>();
  before(async () => {
    ts = await startTestServer({ retentionMs: RETENTION });
  });
  after(() => ts.close());

  async function apply(api: ApiClient, state: Map<string, Value>, step: Op): Promise<void> {
    if (step.kind === 'write') {
      const value = { id: nextValue++, large: step.large };
      const res = await api.put('data', step.key, bodyOf(value));
      assert.equal(res.status, 200, res.text);
      state.set(step.key, value);
    } else if (step.kind === 'delete') {
      const res = await api.call('DELETE', `/data/${encodeURIComponent(step.key)}`);
      assert.equal(res.status, state.has(step.key) ? 204 : 404, res.text);
      state.delete(step.key);
    } else if (step.kind === 'copy' || step.kind === 'move') {
      const body = { source: { type: 'data', key: step.from }, destination: { type: 'data', key: step.to }, overwrite: true };
      const res = await (step.kind === 'copy' ? api.copy(body) : api.move(body));
      const source = state.get(step.from);
      if (step.from === step.to) assert.equal(res.status, 400, res.text);
      else if (!source) assert.equal(res.status, 404, res.text);
      else {
        assert.equal(res.status, 200, res.text);
        state.set(step.to, source);
        if (step.kind === 'move') state.delete(step.from);
      }
    } else if (step.kind === 'deletePrefix') {
      const res = await api.deletePrefix('data', step.prefix);
      assert.equal(res.status, 200, res.text);
      for (const k of [...state.keys()]) if (k.startsWith(step.prefix)) state.delete(k);
    } else {
      const res = await api.call('POST', '/data/delete_many', { body: { keys: step.keys } });
      assert.equal(res.status, 200, res.text);
      for (const k of step.keys) state.delete(k);
    }
  }

  async function stored(api: ApiClient): Promise<Map<string, string>> {
    const found = new Map<string, string>();
    for (const k of await api.keys('data', '')) {
      const res = await api.get('data', k);
      assert.equal(res.status, 200);
      found.set(k, res.body.toString('latin1'));
    }
    return found;
  }

  const expected = (state: Map<string, Value>) => new Map([...state].map(([k, v]) => [k, bodyOf(v).toString('latin1')]));

  test('random histories, a restore at a random time, a second restore, then the purge', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 14 }),
        fc.nat(),
        fc.array(fc.integer({ min: 2, max: 3_000 }), { minLength: 15, maxLength: 15 }),
        async (ops, pick, gaps) => {
          const api = apiClient(ts.origin, await ts.token(`model-${run++}`, 100 * DAY));
          const state = new Map<string, Value>();
          /** The state after each operation, and when it was made: history[i] holds from times[i] on. */
          const history: Array<Map<string, Value>> = [new Map()];
          const times: number[] = [ts.clock.nowMs];
          for (const [i, step] of ops.entries()) {
            ts.clock.advance(gaps[i] ?? 2);
            await apply(api, state, step);
            history.push(new Map(state));
            times.push(ts.clock.nowMs);
          }
          ts.clock.advance(1_000);
          // T strictly between two operations (or after the last): the state then is history[i].
          const i = pick % history.length;
          const at = (times[i] as number) + 1;
          const atT = history[i] as Map<string, Value>;
          const res = await api.call('POST', '/data/restore', { body: { prefix: RESTORED_PREFIX, at: new Date(at).toISOString() } });
          assert.equal(res.status, 200, res.text);
          const want = new Map(state);
          for (const k of KEYS) {
            if (!k.startsWith(RESTORED_PREFIX)) continue;
            const value = atT.get(k);
            if (value) want.set(k, value);
            else want.delete(k);
          }
          assert.deepEqual(await stored(api), expected(want), `restore at #${i} of ${JSON.stringify(ops)}`);
          // Resumable: running it again converges to the same state and changes nothing.
          ts.clock.advance(1_000);
          const again = await api.call('POST', '/data/restore', { body: { prefix: RESTORED_PREFIX, at: new Date(at).toISOString() } });
          assert.equal(again.status, 200, again.text);
          const second = again.json<RestorePrefixResult>();
          assert.deepEqual([second.restored, second.deleted, second.skipped], [0, 0, 0], again.text);
          assert.deepEqual(await stored(api), expected(want));
          for (const value of want.values()) if (value.large) survivors.add(value.id);
        },
      ),
      { numRuns: 25 },
    );

    // Past the window every version goes; their blobs go unless a current object names them.
    ts.clock.advance(RETENTION + DAY);
    await ts.server.context.objects.sweep();
    // A blob store with a grace for replaced blobs (S3) collects them once it passed.
    ts.clock.advance(10 * 60_000);
    await ts.server.context.objects.sweep();
    assert.equal((await ts.files()).blobs.length, survivors.size);
    const usage = (await apiClient(ts.origin, await ts.token('model-0', DAY)).call('GET', '/usage')).json<UsageReport>();
    assert.equal(usage.retainedBytes, 0);
  });
});
