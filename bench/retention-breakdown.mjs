// What an overwrite costs the embedded index with retention on, part by part: the index's own
// put (no HTTP), 64 keys overwritten per commit as under the retention-overwrite row's load, with
// retention off, on, and on with each index of object_versions dropped in turn (what that index
// costs). Prints JSON: µs per put for each setting, the median of `--reps` runs of `--rounds`
// commits each. The versions' key and purge orders are filed in batches (sqlite-versions.ts), in
// commits of their own among these.
//
//   node bench/retention-breakdown.mjs [--rounds 1000] [--reps 3]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { SqliteIndex } from '../packages/server/dist/backends/fs/sqlite-index.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '1000' }, reps: { type: 'string', default: '3' } } });
const ROUNDS = Number(values.rounds);
const KEYS_PER_COMMIT = 64;
const WEEK = 7 * 86_400_000;

/** Settings measured: [name, retention on, indexes of object_versions dropped]. */
const SETTINGS = [
  ['retention off', false, []],
  ['retention on', true, []],
  ['on, without (version_id, tenant, type, key)', true, ['object_versions_by_version_id']],
];

async function measure(retain, dropped) {
  const dir = mkdtempSync(path.join(tmpdir(), 'stowage-retention-breakdown-'));
  const index = await SqliteIndex.open({
    file: path.join(dir, 'index.sqlite'),
    durability: 'full',
    defaultQuotaBytes: null,
    attributeLayout: { contentFields: [] },
  });
  try {
    for (const name of dropped) index.db.db.exec(`DROP INDEX ${name}`);
    const inline = Buffer.alloc(1024, 1);
    const round = async () => {
      const now = Date.now();
      const row = { size: 1024, sha256: 'a'.repeat(64), contentType: 'application/octet-stream', lastModified: now, expiresAt: null };
      const puts = [];
      for (let k = 0; k < KEYS_PER_COMMIT; k++) {
        puts.push(
          index.put({
            ref: { tenant: 'bench', type: 'data', key: `ow/${k}` },
            row: { ...row, blobId: null, inline, attributes: {} },
            condition: undefined,
            now,
            collectAfter: now,
            purgeAfter: retain ? now + WEEK : undefined,
          }),
        );
      }
      await Promise.all(puts);
    };
    for (let i = 0; i < ROUNDS / 5; i++) await round();
    const started = process.hrtime.bigint();
    for (let i = 0; i < ROUNDS; i++) await round();
    return Number(process.hrtime.bigint() - started) / 1000 / (ROUNDS * KEYS_PER_COMMIT);
  } finally {
    await index.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const result = {};
for (let rep = 0; rep < Number(values.reps); rep++)
  for (const [name, retain, dropped] of SETTINGS) result[name] = [...(result[name] ?? []), await measure(retain, dropped)];
const median = (list) => [...list].sort((a, b) => a - b)[Math.floor(list.length / 2)];
console.log(JSON.stringify(Object.fromEntries(Object.entries(result).map(([name, list]) => [name, Number(median(list).toFixed(1))]))));
