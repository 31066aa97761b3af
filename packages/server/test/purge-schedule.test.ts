// The purge schedule of retention with lifecycle rules by prefix: each key's instant, the pieces a
// range operation runs in (one instant per piece), and the schedule of a copy's destinations seen
// from its sources' keys, checked against the rule itself over random rules and keys.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { prefixRetentionDays, windowNewerVersions } from 'stowage-client/protocol';
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

  test('keptNewerAt: the count of the rule that gives the key its time; of rules as short, the fewest (none is fewest)', () => {
    const schedule = new PurgeSchedule(
      WINDOW,
      [
        { prefix: 'logs/', ms: 1, newer: 3 },
        { prefix: 'logs/keep/', ms: 90, newer: 10 },
        { prefix: 'tie/', ms: 5, newer: 4 },
        { prefix: 'tie/a', ms: 5, newer: 2 },
        { prefix: 'tie/b', ms: 5 },
      ],
      NOW,
      7,
    );
    assert.equal(schedule.keptNewerAt('logs/keep/a'), 3);
    assert.equal(schedule.keptNewerAt('tie/x'), 4);
    assert.equal(schedule.keptNewerAt(Buffer.from('tie/a1')), 2);
    assert.equal(schedule.keptNewerAt('tie/b1'), undefined);
    assert.equal(schedule.keptNewerAt('other'), 7, 'a key under no rule: the window’s');
    assert.equal(schedule.seenFrom('src/', 'logs/').keptNewerAt('src/x'), 3, 'a copy’s destinations, seen from its sources');
    const suspended = new PurgeSchedule(0, [{ prefix: 'logs/', ms: 1, newer: 3 }], NOW, 7);
    assert.equal(suspended.at('logs/a'), undefined, 'a window of 0 keeps nothing more');
    assert.equal(suspended.keptNewerAt('logs/a'), 3, 'but what was kept keeps its rules');
  });

  test('prefixRetentionDays: a rule for every key that bounds a prefix’s days gives its count too', () => {
    const rule = (prefix: string, days: number, newerVersions?: number) => ({
      id: prefix,
      prefix,
      days,
      enabled: true,
      ...(newerVersions === undefined ? {} : { newerVersions }),
    });
    const rules = [rule('', 3, 5), rule('logs/', 90, 2), rule('tmp/', 1, 2), rule('even/', 3), rule('same/', 3, 8)];
    assert.deepEqual(prefixRetentionDays(rules), [
      { prefix: 'logs/', days: 3, newerVersions: 5 },
      { prefix: 'tmp/', days: 1, newerVersions: 2 },
      { prefix: 'even/', days: 3 },
      { prefix: 'same/', days: 3, newerVersions: 5 },
    ]);
    assert.equal(windowNewerVersions(rules), 5);
    assert.equal(windowNewerVersions([...rules, rule('', 3)]), undefined, 'of rules for every key as short, the fewest');
    assert.equal(windowNewerVersions([rule('logs/', 1, 2)]), undefined);
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
