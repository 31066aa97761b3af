// The purge schedule of retention with lifecycle rules by prefix: each key's instant, the pieces a
// range operation runs in (one instant per piece), and the schedule of a copy's destinations seen
// from its sources' keys, checked against the rule itself over random rules and keys.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { keptUnder, prefixRetentionDays, windowNewerVersions } from 'stowage-client/protocol';
import { countCap, heldByRules, type KeyVersionsBeside } from '../src/backends/kept-newer.js';
import { prefixRange } from '../src/backends/key-range.js';
import { PurgeSchedule } from '../src/backends/purge-schedule.js';

const NOW = 1_000_000;
const WINDOW = 30;
// Multi-byte characters too: cuts fall between bytes, not characters.
const text = (maxLength: number) => fc.array(fc.constantFrom('a', 'b', '/', 'é', '😀', 'ÿ'), { maxLength }).map((chars) => chars.join(''));
const rules = fc.array(fc.record({ prefix: text(3), ms: fc.integer({ min: 1, max: 100 }) }), { maxLength: 5 });

/** The rule as stated: the shortest of the rules whose prefix the key starts with, else the window. */
function expectedAt(ruleList: Array<{ prefix: string; ms: number }>, key: string): number {
  const matching = ruleList.filter((rule) => key.startsWith(rule.prefix)).map((rule) => rule.ms);
  return NOW + (matching.length > 0 ? Math.min(...matching) : WINDOW);
}

describe('PurgeSchedule', () => {
  test("at: the shortest matching rule's time, else the window; nothing kept while the window is 0", () => {
    const schedule = new PurgeSchedule(
      WINDOW,
      [
        { prefix: 'logs/', ms: 1 },
        { prefix: 'logs/keep/', ms: 90 },
      ],
      NOW,
    );
    assert.equal(schedule.at('logs/keep/a'), NOW + 1);
    assert.equal(schedule.at('logs'), NOW + WINDOW);
    assert.equal(schedule.at('other'), NOW + WINDOW);
    assert.equal(new PurgeSchedule(0, [{ prefix: 'logs/', ms: 1 }], NOW).at('logs/a'), undefined);
    assert.equal(PurgeSchedule.none.at('k'), undefined);
  });

  test('countRulesAt: every rule covering the key, when one of them counts; none when none does', () => {
    const counted = [
      { prefix: 'logs/', ms: 1, newer: 3 },
      { prefix: 'logs/keep/', ms: 90, newer: 0 },
      { prefix: '', ms: 40, newer: 0 },
      { prefix: 'plain/', ms: 5, newer: 0 },
    ];
    const schedule = new PurgeSchedule(WINDOW, [], NOW, counted);
    assert.deepEqual(schedule.countRulesAt(Buffer.from('logs/keep/a')), [counted[0], counted[1], counted[2]]);
    assert.equal(schedule.countRulesAt(Buffer.from('plain/a')), undefined, 'no rule covering it counts');
    assert.equal(schedule.countRulesAt(Buffer.from('other')), undefined);
    assert.equal(new PurgeSchedule(WINDOW, [], NOW).countRulesAt(Buffer.from('logs/a')), undefined);
    const suspended = new PurgeSchedule(0, [{ prefix: 'logs/', ms: 1 }], NOW, counted);
    assert.equal(suspended.at('logs/a'), undefined, 'a window of 0 keeps nothing more');
    assert.deepEqual(suspended.countRulesAt(Buffer.from('logs/a')), [counted[0], counted[2]], 'but what was kept keeps its rules');
  });

  test('heldByRules: each rule on its own, as on S3; a current delete marker is not a noncurrent version', () => {
    const version = { tenant: 't', type: 'b', key: Buffer.from('logs/a'), stoppedAt: 0, deleteMarker: false };
    const beside = (newer: number, extra: Partial<KeyVersionsBeside> = {}) => ({
      newer,
      hasRow: true,
      keptInPlace: false,
      newestIsNewerMarker: false,
      older: true,
      ...extra,
    });
    const countThree = { prefix: 'logs/', ms: 10, newer: 3 };
    assert.equal(heldByRules([countThree], version, 9, beside(5)), true, 'its days not passed');
    assert.equal(heldByRules([countThree], version, 10, beside(2)), true, 'fewer than 3 newer');
    assert.equal(heldByRules([countThree], version, 10, beside(3)), false);
    // A key deleted: its newest version, a marker, is current; deleted in place: its value is one more.
    assert.equal(heldByRules([countThree], version, 10, beside(3, { hasRow: false, newestIsNewerMarker: true })), true);
    assert.equal(heldByRules([countThree], version, 10, beside(2, { keptInPlace: true })), false);
    // A longer rule without a count lets it go by its own days.
    const longer = { prefix: '', ms: 90, newer: 0 };
    assert.equal(heldByRules([countThree, longer], version, 89, beside(0)), true);
    assert.equal(heldByRules([countThree, longer], version, 90, beside(0)), false);
    assert.equal(countCap([countThree, longer]), 4);
    // A delete marker left as its key's only version hides nothing: never held; with versions behind it, held as any.
    const marker = { ...version, deleteMarker: true };
    const alone = { hasRow: false, older: false };
    assert.equal(heldByRules([countThree], marker, 10, beside(0, alone)), false);
    assert.equal(heldByRules([countThree], marker, 10, beside(0, { ...alone, older: true })), true);
    assert.equal(heldByRules([countThree], version, 10, beside(0, alone)), true, 'a value alone is the newest: held');
  });

  test('prefixRetentionDays: a prefix keeps the shortest days and, for good, the fewest count of its rules and those for every key', () => {
    const rule = (prefix: string, days: number, newerVersions?: number) => ({
      id: prefix,
      prefix,
      days,
      enabled: true,
      ...(newerVersions === undefined ? {} : { newerVersions }),
    });
    const rules = [rule('', 3, 5), rule('logs/', 90, 2), rule('tmp/', 1, 7), rule('even/', 3)];
    assert.deepEqual(prefixRetentionDays(rules), [
      { prefix: 'logs/', days: 3, newerVersions: 2 },
      { prefix: 'tmp/', days: 1, newerVersions: 5 },
      { prefix: 'even/', days: 3 },
    ]);
    assert.equal(windowNewerVersions(rules), 5);
    assert.equal(windowNewerVersions([...rules, rule('', 40)]), undefined, 'a rule for every key without a count keeps none for good');
    assert.equal(windowNewerVersions([rule('logs/', 1, 2)]), undefined);
    assert.deepEqual(
      keptUnder([
        { days: 4, newerVersions: 2 },
        { days: 1, newerVersions: 3 },
      ]),
      { days: 1, newerVersions: 2 },
    );
  });

  test('pieces: cover the range in order, and every key of a piece has the piece’s instant', () => {
    fc.assert(
      fc.property(rules, text(2), fc.array(text(6), { maxLength: 30 }), (ruleList, prefix, keys) => {
        const schedule = new PurgeSchedule(WINDOW, ruleList, NOW);
        const { start, end } = prefixRange(prefix);
        const pieces = PurgeSchedule.pieces(start, end, [schedule]);
        assert.ok(pieces[0]?.start.equals(start));
        assert.ok(pieces.at(-1)?.end.equals(end));
        pieces.forEach((piece, i) => {
          assert.ok(Buffer.compare(piece.start, piece.end) < 0, 'no empty piece');
          if (i > 0) assert.ok(piece.start.equals(pieces[i - 1]?.end as Buffer), 'no gap, no overlap');
        });
        for (const key of keys.map((rest) => prefix + rest)) {
          const bytes = Buffer.from(key, 'utf8');
          const piece = pieces.find((p) => Buffer.compare(p.start, bytes) <= 0 && Buffer.compare(bytes, p.end) < 0);
          assert.ok(piece, `a piece holds ${key}`);
          assert.equal(piece.purgeAfter[0], expectedAt(ruleList, key), key);
          assert.equal(schedule.at(key), expectedAt(ruleList, key));
        }
      }),
    );
  });

  test('seenFrom: a source key’s instant is its destination’s, also in the pieces of a transfer', () => {
    fc.assert(
      fc.property(
        rules,
        rules,
        text(2),
        text(2),
        fc.array(text(5), { maxLength: 20 }),
        (destinationRules, sourceRules, from, to, rests) => {
          fc.pre(!from.startsWith(to) && !to.startsWith(from));
          const destinations = new PurgeSchedule(WINDOW, destinationRules, NOW);
          const sources = new PurgeSchedule(WINDOW, sourceRules, NOW);
          const seen = destinations.seenFrom(from, to);
          const { start, end } = prefixRange(from);
          const pieces = PurgeSchedule.pieces(start, end, [seen, sources]);
          for (const rest of rests) {
            const bytes = Buffer.from(from + rest, 'utf8');
            const piece = pieces.find((p) => Buffer.compare(p.start, bytes) <= 0 && Buffer.compare(bytes, p.end) < 0);
            assert.deepEqual(piece?.purgeAfter, [expectedAt(destinationRules, to + rest), expectedAt(sourceRules, from + rest)]);
          }
        },
      ),
    );
  });
});
