// Guards crash safety under load: round after round on one data directory, several clients
// write small (inline) and large values, overwrite, delete and upload in chunks by the resumable
// protocol while the server is SIGKILLed, either after a random delay or by a named failpoint
// (STOWAGE_FAILPOINTS) at a step of the write path. After each crash, before any restart, fsck
// finds nothing but what start-up cleanup removes. After the restart every acknowledged write
// reads back with its sha256, every acknowledged delete stays deleted, an unanswered write or
// delete left the old value or the new one whole, and interrupted uploads resume from the offset
// the server reports and complete with the right sha256; fsck then finds nothing at all.
//
// The schedule is seeded (printed; replay with STOWAGE_CRASH_SEED=<seed>): each client's
// operations and sizes and each round's kill follow from it; where a kill lands among the
// requests in flight still depends on timing.
import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fsck, issueAdminToken } from '../src/admin.js';
import type { FindingKind } from '../src/backends/fs/fsck-findings.js';
import { defineConfig } from '../src/config.js';
import { FAILPOINTS, type FailpointName } from '../src/failpoints.js';
import {
  checkEveryKey,
  type InterruptedUpload,
  KeyModel,
  OPERATION_NAMES,
  type OperationName,
  resumeUploads,
  runWorker,
  type Workload,
} from './helpers/crash-workload.js';
import { embeddedOnly } from './helpers/deployment.js';
import { seededRandom } from './helpers/seeded-random.js';
import { type ServerProcess, startServerProcess } from './helpers/server-process.js';

const SEED = Number(process.env.STOWAGE_CRASH_SEED ?? randomInt(2 ** 31));
const ROUNDS = 24;
const CLIENTS = 4;
const KEYS_PER_CLIENT = 5;
/** What a crash may leave that start-up cleanup removes: not damage, and gone after the restart. */
const CLEARED_BY_RESTART: ReadonlySet<FindingKind> = new Set(['temp-file', 'orphan-blob', 'stale-part']);

/** The steps this workload reaches (prefix operations, backups and stowage migrate have crash tests of their own). */
const WRITE_PATH_FAILPOINTS = FAILPOINTS.filter(
  (name) => !name.startsWith('batch.') && !name.startsWith('backup.') && !name.startsWith('migrate.'),
);

type KillPlan = { kind: 'delay'; ms: number } | { kind: 'failpoint'; name: FailpointName; hit: number };

/** Even rounds kill after a random delay; odd ones at each failpoint in turn, on its 1st to 3rd hit. */
function planRounds(seed: number): KillPlan[] {
  const random = seededRandom(seed);
  return Array.from({ length: ROUNDS }, (_, round) =>
    round % 2 === 0
      ? { kind: 'delay', ms: random.int(30, 900) }
      : {
          kind: 'failpoint',
          name: WRITE_PATH_FAILPOINTS[((round - 1) / 2) % WRITE_PATH_FAILPOINTS.length] as FailpointName,
          hit: random.int(1, 3),
        },
  );
}

/** What the server writes from now on (warnings and errors), for failure messages. */
function logOf(server: ServerProcess): () => string {
  let log = '';
  const keep = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-4000);
  };
  server.child.stdout?.on('data', keep);
  server.child.stderr?.on('data', keep);
  return () => log;
}

const describePlan = (plan: KillPlan) => (plan.kind === 'delay' ? `SIGKILL after ${plan.ms} ms` : `failpoint ${plan.name}@${plan.hit}`);

describe(`crash suite (seed ${SEED}; replay with STOWAGE_CRASH_SEED=${SEED})`, { skip: embeddedOnly }, () => {
  let dataDir: string;
  let auth: { authorization: string };
  const model = new KeyModel();
  const interrupted: InterruptedUpload[] = [];
  const done = Object.fromEntries(OPERATION_NAMES.map((name) => [name, 0])) as Record<OperationName, number>;
  const fired = new Set<FailpointName>();
  let resumed = 0;

  before(async () => {
    console.log(`crash suite seed ${SEED} (replay: STOWAGE_CRASH_SEED=${SEED})`);
    dataDir = await mkdtemp(path.join(tmpdir(), 'stowage-crash-suite-'));
    auth = { authorization: `Bearer ${await issueAdminToken(defineConfig({ dataDir }), 'crash', 3_600_000)}` };
  });
  after(() => rm(dataDir, { recursive: true, force: true }));

  planRounds(SEED).forEach((plan, round) => {
    test(`round ${round + 1}: ${describePlan(plan)}`, async () => {
      const context = `seed ${SEED}, round ${round + 1} (${describePlan(plan)})`;
      const env: Record<string, string> = plan.kind === 'failpoint' ? { STOWAGE_FAILPOINTS: `${plan.name}@${plan.hit}` } : {};
      const server = await startServerProcess(dataDir, env);
      const serverLog = logOf(server);
      const unexpected: string[] = [];
      const workloads = Array.from(
        { length: CLIENTS },
        (_, client): Workload => ({
          origin: server.origin,
          auth,
          random: seededRandom(SEED + 7919 * (round + 1) + client),
          model,
          interrupted,
          unexpected,
          done,
          serverExited: server.exited,
        }),
      );
      const clients = workloads.map((workload, client) =>
        runWorker(
          workload,
          Array.from({ length: KEYS_PER_CLIENT }, (_, k) => `c${client}-k${k}`),
        ),
      );
      // A failpoint that is never reached would hang the round: kill it ourselves, and fail below.
      let killedByTest = false;
      const killer = setTimeout(
        () => {
          killedByTest = true;
          server.child.kill('SIGKILL');
        },
        plan.kind === 'delay' ? plan.ms : 30_000,
      );
      const exit = await server.exited;
      clearTimeout(killer);
      await Promise.all(clients);
      assert.equal(exit, 'SIGKILL', context);
      if (plan.kind === 'failpoint') {
        assert.ok(!killedByTest, `${context}: the failpoint fired`);
        fired.add(plan.name);
      }
      assert.deepEqual(unexpected, [], `${context}: answers the server must never give; its log:\n${serverLog()}`);

      const crashed = await fsck({ dataDir });
      const damage = crashed.findings.filter((finding) => !CLEARED_BY_RESTART.has(finding.kind));
      assert.deepEqual(damage, [], `${context}: before the restart, fsck finds only what start-up cleanup removes`);

      const restarted = await startServerProcess(dataDir);
      const restartedLog = logOf(restarted);
      try {
        resumed += interrupted.length;
        const problems = [
          ...(await checkEveryKey(restarted.origin, auth, model)),
          ...(await resumeUploads(restarted.origin, auth, model, interrupted)),
        ];
        assert.deepEqual(problems, [], `${context}: after the restart; the server's log:\n${restartedLog()}`);
      } finally {
        restarted.child.kill('SIGTERM');
        await restarted.exited;
      }
      const report = await fsck({ dataDir });
      assert.deepEqual(report.findings, [], `${context}: fsck after the restart`);
      assert.equal(report.exitCode, 0);
    });
  });

  test('the rounds reached every failpoint and every kind of operation, and interrupted uploads', () => {
    console.log(`operations completed: ${JSON.stringify(done)}; interrupted uploads resumed: ${resumed}`);
    assert.deepEqual([...fired].sort(), [...WRITE_PATH_FAILPOINTS].sort());
    for (const name of OPERATION_NAMES) assert.ok(done[name] > 0, `${name} completed at least once`);
    assert.ok(resumed > 0, 'some upload was cut short and resumed');
  });
});
