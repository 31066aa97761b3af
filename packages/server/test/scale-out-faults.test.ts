// PostgreSQL stopped, then the S3 store stopped, while clients keep calling: requests get 503
// StorageUnavailable with Retry-After instead of hanging, readiness says so, the server recovers
// by itself once the service is back, and nothing acknowledged is lost. This suite starts its own
// PostgreSQL and Ceph RGW (scripts/services/), so stopping them disturbs no other suite.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { rawRequest } from './helpers/raw-http.js';
import { runCli, runProcess, type ServerProcess, startServerProcess } from './helpers/server-process.js';

const SCRIPTS = path.resolve(import.meta.dirname, '../../../scripts/services');
const PG_BIN = process.env.PG_BIN ?? '/usr/lib/postgresql/15/bin';
const skip =
  process.env.STOWAGE_TEST_PG_URL && process.env.STOWAGE_TEST_S3_ENDPOINT ? false : 'needs PostgreSQL and Ceph RGW (scripts/test.sh)';
/** Longer than STOWAGE_STORAGE_TIMEOUT below plus the SDK's retries: a request that takes this long hung. */
const HANG_MS = 20_000;

describe('PostgreSQL and the S3 store going away under load', { skip, timeout: 300_000 }, () => {
  let servicesDir: string;
  let pgDir: string;
  let cephDir: string;
  let env: Record<string, string>;
  let dataDir: string;
  let server: ServerProcess;
  let headers: Record<string, string>;
  const acknowledged = new Map<string, Buffer>();

  before(async () => {
    servicesDir = await mkdtemp('/tmp/stowage-faults-');
    pgDir = path.join(servicesDir, 'pg');
    cephDir = path.join(servicesDir, 'ceph');
    const pg = await runProcess(path.join(SCRIPTS, 'postgres-start.sh'), [pgDir]);
    assert.equal(pg.code, 0, pg.stderr);
    // Ports apart from the shared RGW's, so both run at once.
    const rgw = await runProcess(path.join(SCRIPTS, 'rgw-start.sh'), [cephDir], {
      env: { RGW_PORT: '17580', MON_PORT: '13400', OSD_PORT_MIN: '16900', OSD_PORT_MAX: '16999', CEPH_NO_INSTALL: '1' },
    });
    assert.equal(rgw.code, 0, rgw.stderr);
    const vars = parseEnv(`${pg.stdout}\n${rgw.stdout}`);
    const s3 = new S3Client({
      endpoint: vars.S3_ENDPOINT,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: vars.S3_ACCESS_KEY ?? '', secretAccessKey: vars.S3_SECRET_KEY ?? '' },
    });
    await s3.send(new CreateBucketCommand({ Bucket: 'faults' }));
    s3.destroy();
    env = {
      STOWAGE_INDEX: vars.STOWAGE_TEST_PG_URL ?? '',
      STOWAGE_BLOBS: 's3://faults/stowage',
      STOWAGE_S3_ENDPOINT: vars.S3_ENDPOINT ?? '',
      STOWAGE_S3_ACCESS_KEY_ID: vars.S3_ACCESS_KEY ?? '',
      STOWAGE_S3_SECRET_ACCESS_KEY: vars.S3_SECRET_KEY ?? '',
      STOWAGE_JWT_SECRET: randomBytes(32).toString('hex'),
      STOWAGE_STORAGE_TIMEOUT: '3s',
    };
    dataDir = await mkdtemp(path.join(tmpdir(), 'stowage-faults-data-'));
    server = await startServerProcess(dataDir, env);
    const token = await runCli(['token', '--user', 'faults', '--data-dir', dataDir], env);
    assert.equal(token.code, 0, token.stderr);
    headers = { authorization: `Bearer ${token.stdout.trim()}` };
  });
  after(async () => {
    server?.child.kill('SIGTERM');
    await server?.exited;
    if (cephDir) await runProcess(path.join(SCRIPTS, 'rgw-stop.sh'), [cephDir, '--purge']);
    if (pgDir) await runProcess(path.join(SCRIPTS, 'postgres-stop.sh'), [pgDir, '--purge']);
    if (servicesDir) await rm(servicesDir, { recursive: true, force: true });
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const call = (method: string, route: string, body?: Buffer) =>
    rawRequest(server.origin, method, `/storage/v1${route}`, { headers, body, timeoutMs: HANG_MS });
  const ready = () => rawRequest(server.origin, 'GET', '/readyz', { timeoutMs: HANG_MS });

  /** Writes values both small (kept in the index) and large (blobs), recording what was acknowledged. */
  async function writeSome(label: string, count: number): Promise<number[]> {
    const statuses = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const key = `${label}/${i}`;
        const value = randomBytes(i % 2 === 0 ? 1_000 : 200_000);
        const response = await call('PUT', `/data/set/${key}`, value);
        if (response.status === 200) acknowledged.set(key, value);
        return response.status;
      }),
    );
    return statuses;
  }

  async function assertAcknowledgedIntact(): Promise<void> {
    for (const [key, value] of acknowledged) {
      const response = await call('GET', `/data/get/${key}`);
      assert.equal(response.status, 200, key);
      assert.deepEqual(response.body, value, key);
    }
  }

  test('PostgreSQL stopped: 503 StorageUnavailable with Retry-After, then recovery by itself', async () => {
    assert.deepEqual(new Set(await writeSome('before-pg', 8)), new Set([200]));
    await pgCtl(pgDir, 'stop', '-m', 'fast');
    for (const route of ['/data/get/before-pg/0', '/data/list', '/data/set/during-pg']) {
      const response = await call(route.includes('/set/') ? 'PUT' : 'GET', route, route.includes('/set/') ? Buffer.from('x') : undefined);
      assert.equal(response.status, 503, `${route}: ${response.text}`);
      assert.equal(response.json<{ code: string }>().code, 'StorageUnavailable');
      assert.match(String(response.headers['retry-after']), /^\d+$/);
    }
    assert.equal((await ready()).status, 503);
    await pgCtl(pgDir, 'start', '-w', '-l', path.join(pgDir, 'postgres.log'));
    await waitFor(async () => (await ready()).status === 200, 30_000);
    assert.deepEqual(new Set(await writeSome('after-pg', 8)), new Set([200]));
    await assertAcknowledgedIntact();
  });

  test('the S3 store stopped: blob reads and writes get 503 with Retry-After, then recover', async () => {
    const rgw = await stopRadosgw(cephDir);
    try {
      const read = await call('GET', '/data/get/before-pg/1'); // a 200 kB value: its bytes are in the bucket
      assert.equal(read.status, 503, read.text);
      assert.equal(read.json<{ code: string }>().code, 'StorageUnavailable');
      assert.match(String(read.headers['retry-after']), /^\d+$/);
      const write = await call('PUT', '/data/set/during-s3', randomBytes(300_000));
      assert.equal(write.status, 503, write.text);
      assert.equal((await ready()).status, 503);
      // Nothing of the refused write is visible.
      assert.equal((await call('GET', '/data/get/during-s3')).status, 404);
    } finally {
      rgw.restart();
    }
    await waitFor(async () => (await ready()).status === 200, 60_000);
    assert.deepEqual(new Set(await writeSome('after-s3', 8)), new Set([200]));
    await assertAcknowledgedIntact();
  });
});

function parseEnv(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (match?.[1]) vars[match[1]] = match[2] ?? '';
  }
  return vars;
}

/** pg_ctl on the throwaway cluster, as its owner (PostgreSQL refuses to run as root). */
async function pgCtl(pgDir: string, ...args: string[]): Promise<void> {
  const pgCtlArgs = ['-D', path.join(pgDir, 'data'), ...args];
  const asRoot = process.getuid?.() === 0;
  const result = asRoot
    ? await runProcess('runuser', ['-u', 'postgres', '--', path.join(PG_BIN, 'pg_ctl'), ...pgCtlArgs])
    : await runProcess(path.join(PG_BIN, 'pg_ctl'), pgCtlArgs);
  assert.equal(result.code, 0, `pg_ctl ${args.join(' ')}: ${result.stderr}`);
}

/** Kills only the radosgw daemon (the OSD keeps the data) and gives a way to start it again. */
async function stopRadosgw(cephDir: string): Promise<{ restart(): ChildProcess }> {
  const pids = await readFile(path.join(cephDir, 'pids'), 'utf8');
  const line = pids.split('\n').find((entry) => entry.startsWith('client.rgw'));
  const pid = Number(line?.split(' ')[1]);
  assert.ok(pid > 0, `no radosgw pid in ${cephDir}/pids`);
  const cmdline = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter(Boolean);
  process.kill(pid, 'SIGKILL');
  await waitFor(async () => {
    try {
      process.kill(pid, 0);
      return false;
    } catch {
      return true;
    }
  }, 10_000);
  return {
    restart() {
      const [command, ...args] = cmdline;
      const child = spawn(command as string, args, {
        detached: true,
        stdio: 'ignore',
        env: { ...process.env, CEPH_CONF: path.join(cephDir, 'ceph.conf') },
      });
      child.unref();
      // rgw-stop.sh stops what DIR/pids names: record the new daemon there.
      void readFile(path.join(cephDir, 'pids'), 'utf8').then((text) =>
        import('node:fs/promises').then(({ writeFile }) =>
          writeFile(path.join(cephDir, 'pids'), text.replace(`${line}`, `client.rgw.test ${child.pid}`)),
        ),
      );
      return child;
    },
  };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`not true within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
