import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { ObjectRef } from '../src/backends/backend.js';
import { SqliteIndex } from '../src/backends/fs/sqlite-index.js';
import { PgIndex } from '../src/backends/postgres/pg-index.js';
import { MIGRATIONS } from '../src/backends/postgres/pg-schema.js';
import { ATTRIBUTE_LAYOUT } from '../src/storage/object-attributes.js';
import { objectIndexContract } from './contract/object-index-contract.js';
import { freshPgSchema, type PgSchema } from './helpers/postgres.js';

const pgSkip = process.env.STOWAGE_TEST_PG_URL ? false : 'STOWAGE_TEST_PG_URL is not set (scripts/services/postgres-start.sh)';

/** The key columns of `ref`'s row, as both indexes store them. */
function keyOf(ref: ObjectRef): [string, string, Buffer] {
  return [ref.tenant, ref.type, Buffer.from(ref.key, 'utf8')];
}

/** The server opens it with a row cache; admin commands without. Both must keep the contract. */
for (const [name, rowCacheBytes] of [
  ['SQLite', 1024 * 1024],
  ['SQLite without a row cache', 0],
] as const) {
  objectIndexContract(name, async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'stowage-index-'));
    const index = await SqliteIndex.open({
      file: path.join(dir, 'index.sqlite'),
      durability: 'process',
      defaultQuotaBytes: null,
      rowCacheBytes,
      attributeLayout: ATTRIBUTE_LAYOUT,
    });
    const sql = index.db.db;
    return {
      index,
      attributesColumn: {
        async read(ref) {
          const found = sql.prepare('SELECT attributes FROM objects WHERE tenant = ? AND type = ? AND key = ?').get(...keyOf(ref)) as
            | { attributes: string | null }
            | undefined;
          return found?.attributes ?? null;
        },
        async write(ref, column) {
          sql.prepare('UPDATE objects SET attributes = ? WHERE tenant = ? AND type = ? AND key = ?').run(column, ...keyOf(ref));
        },
      },
      async makeLegacy(ref) {
        sql
          .prepare('UPDATE objects SET version_id = NULL, current_since = NULL WHERE tenant = ? AND type = ? AND key = ?')
          .run(...keyOf(ref));
      },
      async close() {
        await index.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  });
}

/** Each index of the PostgreSQL run gets a schema of its own in the test database. */
objectIndexContract(
  'PostgreSQL',
  async () => {
    const schema = await freshPgSchema();
    if (!schema) throw new Error('STOWAGE_TEST_PG_URL is not set');
    const index = await PgIndex.open({
      connectionString: schema.url,
      schema: schema.schema,
      poolSize: 8,
      defaultQuotaBytes: null,
      attributeLayout: ATTRIBUTE_LAYOUT,
    });
    const client = new pg.Client({ connectionString: schema.url, options: `-c search_path=${schema.schema}` });
    await client.connect();
    return {
      index,
      attributesColumn: {
        async read(ref) {
          const { rows } = await client.query<{ attributes: string | null }>(
            'SELECT attributes FROM objects WHERE tenant = $1 AND type = $2 AND key = $3',
            keyOf(ref),
          );
          return rows[0]?.attributes ?? null;
        },
        async write(ref, column) {
          await client.query('UPDATE objects SET attributes = $1 WHERE tenant = $2 AND type = $3 AND key = $4', [column, ...keyOf(ref)]);
        },
      },
      async makeLegacy(ref) {
        await client.query(
          'UPDATE objects SET version_id = NULL, current_since = NULL WHERE tenant = $1 AND type = $2 AND key = $3',
          keyOf(ref),
        );
      },
      async close() {
        await client.end();
        await index.close();
        await schema.drop();
      },
    };
  },
  { skip: pgSkip },
);

const ref: ObjectRef = { tenant: 'acme', type: 'data', key: 'k' };
const row = { size: 1, sha256: 'aa', contentType: 'x', lastModified: 1, expiresAt: null, blobId: null, inline: Buffer.from('x') };

/** The test database's URL with the port (and optionally the database or password) replaced. */
function urlWith(changes: { port?: number; database?: string; password?: string }): string {
  const url = new URL(process.env.STOWAGE_TEST_PG_URL as string);
  if (changes.port !== undefined) url.port = String(changes.port);
  if (changes.database !== undefined) url.pathname = `/${changes.database}`;
  if (changes.password !== undefined) url.password = changes.password;
  return url.toString();
}

/**
 * A loopback TCP proxy in front of PostgreSQL that can go silent (accept and forward nothing, as
 * a hung or partitioned server) or cut every connection (as a restart).
 */
class FaultProxy {
  silent = false;
  private readonly sockets = new Set<net.Socket>();
  private readonly server: net.Server;

  private constructor(upstream: { host: string; port: number }) {
    this.server = net.createServer((client) => {
      const server = net.connect(upstream.port, upstream.host);
      for (const [from, to] of [
        [client, server],
        [server, client],
      ] as const) {
        this.sockets.add(from);
        from.on('error', () => {});
        from.on('close', () => {
          this.sockets.delete(from);
          to.destroy();
        });
        from.on('data', (data) => {
          if (!this.silent) to.write(data);
        });
      }
    });
  }

  static async start(): Promise<FaultProxy> {
    const target = new URL(process.env.STOWAGE_TEST_PG_URL as string);
    const proxy = new FaultProxy({ host: target.hostname, port: Number(target.port || 5432) });
    await new Promise<void>((resolve) => proxy.server.listen(0, '127.0.0.1', resolve));
    return proxy;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  cut(): void {
    for (const socket of this.sockets) socket.destroy();
  }

  async close(): Promise<void> {
    this.cut();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

async function elapsed(work: () => Promise<unknown>): Promise<{ ms: number; result: PromiseSettledResult<unknown> }> {
  const start = performance.now();
  const [result] = await Promise.allSettled([work()]);
  return { ms: performance.now() - start, result: result as PromiseSettledResult<unknown> };
}

function reasonOf(result: PromiseSettledResult<unknown>): { code?: string; message?: string; headers?: Record<string, string> } {
  assert.equal(result.status, 'rejected', 'expected a failure');
  return (result as PromiseRejectedResult).reason;
}

describe("PgIndex: a tenant's usage in stripes", { skip: pgSkip }, () => {
  it('concurrent writes of one tenant charge several usage rows, whose sum is the usage; near its quota they still hold it exactly', async () => {
    const schema = await freshPgSchema();
    assert.ok(schema);
    const index = await PgIndex.open({
      connectionString: schema.url,
      schema: schema.schema,
      poolSize: 16,
      defaultQuotaBytes: 100_000,
      attributeLayout: ATTRIBUTE_LAYOUT,
    });
    const client = new pg.Client({ connectionString: schema.url, options: `-c search_path=${schema.schema}` });
    await client.connect();
    try {
      const write = (key: string, size: number) =>
        index.put({
          ref: { tenant: 'batch', type: 'data', key },
          row: { ...row, size, inline: Buffer.alloc(size) },
          now: 1,
          collectAfter: 1,
        });
      await Promise.all(Array.from({ length: 256 }, (_, i) => write(`k${i}`, 100)));
      const stripes = await client.query<{ stripes: string; bytes: string }>(
        "SELECT count(*) AS stripes, sum(bytes) AS bytes FROM usage WHERE tenant = 'batch'",
      );
      assert.ok(Number(stripes.rows[0]?.stripes) > 1, `the writes went to ${stripes.rows[0]?.stripes} usage row(s)`);
      assert.equal(Number(stripes.rows[0]?.bytes), 25_600);
      const usage = await index.usage('batch');
      assert.deepEqual([usage.bytes, usage.objects, usage.quotaBytes], [25_600, 256, 100_000]);
      // 74,400 bytes are left: 744 more writes of 100 fit, whatever stripe each one lands on.
      const settled = await Promise.allSettled(Array.from({ length: 800 }, (_, i) => write(`more${i}`, 100)));
      assert.equal(settled.filter((result) => result.status === 'fulfilled').length, 744);
      assert.equal((await index.usage('batch')).bytes, 100_000);
    } finally {
      await client.end();
      await index.close();
      await schema.drop();
    }
  });

  it('ceilings set under a quota are not used again after growth without one: a quota that comes back holds exactly', async () => {
    const schema = await freshPgSchema();
    assert.ok(schema);
    const open = (defaultQuotaBytes: number | null) =>
      PgIndex.open({
        connectionString: schema.url,
        schema: schema.schema,
        poolSize: 4,
        defaultQuotaBytes,
        attributeLayout: ATTRIBUTE_LAYOUT,
      });
    const write = (index: PgIndex, key: string, size: number) =>
      index.put({
        ref: { tenant: 'cycle', type: 'data', key },
        row: { ...row, size, inline: Buffer.alloc(size) },
        now: 1,
        collectAfter: 1,
      });
    try {
      // The default quota (STOWAGE_QUOTA) of 10,000: the first write sets the stripes' ceilings.
      let index = await open(10_000);
      await write(index, 'a', 100);
      await index.close();
      // Restarted without a default quota: the tenant grows past what the quota allowed, through
      // two stripes at most; the others keep room under the ceilings set for that quota.
      index = await open(null);
      await write(index, 'b0', 6_000);
      await write(index, 'b1', 6_000);
      await index.close();
      // The default quota is back: the tenant is over it, so no write may grow it, whatever
      // stripe it lands on.
      index = await open(10_000);
      const refused = async (prefix: string) => {
        const settled = await Promise.allSettled(Array.from({ length: 32 }, (_, i) => write(index, `${prefix}${i}`, 1)));
        return settled.filter((result) => result.status === 'rejected' && (result.reason as { code?: string }).code === 'QuotaExceeded')
          .length;
      };
      assert.equal(await refused('c'), 32);
      // A tenant quota set and then lifted and set again: the same.
      await index.setQuota('cycle', 20_000);
      await write(index, 'd', 100);
      await index.setQuota('cycle', null);
      await write(index, 'e0', 6_000);
      await write(index, 'e1', 6_000);
      await index.setQuota('cycle', 20_000);
      assert.equal(await refused('f'), 32);
      assert.equal((await index.usage('cycle')).bytes, 100 + 12_000 + 100 + 12_000);
      await index.close();
    } finally {
      await schema.drop();
    }
  });
});

describe('PgIndex: opening, migrations, schemas, and a database that does not answer', { skip: pgSkip }, () => {
  const schemas: PgSchema[] = [];
  const fresh = async (): Promise<PgSchema> => {
    const schema = await freshPgSchema();
    assert.ok(schema);
    schemas.push(schema);
    return schema;
  };
  after(async () => {
    for (const schema of schemas) await schema.drop();
  });

  it('fails fast and readably on a bad URL, a closed port, or a missing database, never showing the password', async () => {
    await assert.rejects(
      PgIndex.open({ connectionString: 'not a url', defaultQuotaBytes: null, attributeLayout: ATTRIBUTE_LAYOUT }),
      /not a valid URL/,
    );
    await assert.rejects(
      PgIndex.open({ connectionString: 'mysql://h/db', defaultQuotaBytes: null, attributeLayout: ATTRIBUTE_LAYOUT }),
      /postgres:\/\//,
    );
    await assert.rejects(
      PgIndex.open({ connectionString: urlWith({}), schema: 'bad-name; DROP', defaultQuotaBytes: null, attributeLayout: ATTRIBUTE_LAYOUT }),
      /schema name "bad-name; DROP" is not allowed/,
    );
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await elapsed(() =>
      PgIndex.open({
        connectionString: urlWith({ port, password: 'hunter2-secret' }),
        connectTimeoutMs: 2_000,
        defaultQuotaBytes: null,
        attributeLayout: ATTRIBUTE_LAYOUT,
      }),
    );
    const message = reasonOf(refused.result).message ?? '';
    assert.match(message, new RegExp(`127\\.0\\.0\\.1:${port}`));
    assert.match(message, /ECONNREFUSED/);
    assert.doesNotMatch(message, /hunter2/);
    assert.ok(refused.ms < 2_500, `took ${refused.ms} ms`);
    const missing = await elapsed(() =>
      PgIndex.open({
        connectionString: urlWith({ database: 'no_such_db', password: 'hunter2-secret' }),
        defaultQuotaBytes: null,
        attributeLayout: ATTRIBUTE_LAYOUT,
      }),
    );
    assert.match(reasonOf(missing.result).message ?? '', /database "no_such_db" does not exist/);
    assert.doesNotMatch(reasonOf(missing.result).message ?? '', /hunter2/);
  });

  it('fails fast when the server accepts but never answers', async () => {
    const proxy = await FaultProxy.start();
    try {
      proxy.silent = true;
      const hung = await elapsed(() =>
        PgIndex.open({
          connectionString: urlWith({ port: proxy.port }),
          connectTimeoutMs: 500,
          defaultQuotaBytes: null,
          attributeLayout: ATTRIBUTE_LAYOUT,
        }),
      );
      assert.match(reasonOf(hung.result).message ?? '', new RegExp(`127\\.0\\.0\\.1:${proxy.port}.*timeout`));
      assert.ok(hung.ms < 2_000, `took ${hung.ms} ms`);
    } finally {
      await proxy.close();
    }
  });

  it('servers starting together apply each migration once; reopening applies none', async () => {
    const { url, schema } = await fresh();
    const indexes = await Promise.all(
      Array.from({ length: 5 }, () =>
        PgIndex.open({ connectionString: url, schema, poolSize: 2, defaultQuotaBytes: null, attributeLayout: ATTRIBUTE_LAYOUT }),
      ),
    );
    await Promise.all(indexes.map((index) => index.close()));
    const reopened = await PgIndex.open({
      connectionString: url,
      schema,
      poolSize: 2,
      defaultQuotaBytes: null,
      attributeLayout: ATTRIBUTE_LAYOUT,
    });
    await reopened.close();
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query(`SELECT version FROM "${schema}".stowage_migrations ORDER BY version`);
      assert.deepEqual(
        rows.map((r) => r.version),
        MIGRATIONS.map((m) => m.version),
      );
    } finally {
      await client.end();
    }
  });

  it('creates a missing schema, and schemas of one database are fully apart', async () => {
    const first = await fresh();
    const second = await fresh();
    await second.drop(); // PgIndex.open creates it again
    const a = await PgIndex.open({
      connectionString: first.url,
      schema: first.schema,
      poolSize: 2,
      defaultQuotaBytes: null,
      attributeLayout: ATTRIBUTE_LAYOUT,
    });
    const b = await PgIndex.open({
      connectionString: second.url,
      schema: second.schema,
      poolSize: 2,
      defaultQuotaBytes: 5,
      attributeLayout: ATTRIBUTE_LAYOUT,
    });
    try {
      await a.put({ ref, row, condition: undefined, now: 1, collectAfter: 1 });
      await a.apiKeys.insert({ clientId: 'stw_x', tenant: 'acme', secretHash: 'h', createdAt: 1 });
      assert.ok(await a.find({ ref, now: 1 }));
      assert.equal(await b.find({ ref, now: 1 }), undefined);
      assert.equal(await b.apiKeys.find('stw_x'), undefined);
      assert.equal((await b.usage('acme')).bytes, 0);
      assert.equal((await b.usage('acme')).quotaBytes, 5);
      assert.equal((await a.usage('acme')).quotaBytes, null);
    } finally {
      await a.close();
      await b.close();
    }
  });

  describe('a database that stops answering', () => {
    let proxy: FaultProxy;
    let index: PgIndex;
    before(async () => {
      const { schema } = await fresh();
      proxy = await FaultProxy.start();
      index = await PgIndex.open({
        connectionString: urlWith({ port: proxy.port }),
        schema,
        poolSize: 4,
        statementTimeoutMs: 300,
        connectTimeoutMs: 300,
        defaultQuotaBytes: null,
        attributeLayout: ATTRIBUTE_LAYOUT,
      });
      await index.put({ ref, row, condition: undefined, now: 1, collectAfter: 1 });
    });
    after(async () => {
      await index?.close();
      await proxy?.close();
    });

    it('a statement that runs past the timeout is StorageUnavailable (503, Retry-After)', async () => {
      const { url, schema } = schemas.at(-1) as PgSchema;
      const blocker = new pg.Client({ connectionString: url });
      await blocker.connect();
      try {
        await blocker.query('BEGIN');
        await blocker.query(`LOCK TABLE "${schema}".objects IN ACCESS EXCLUSIVE MODE`);
        for (const work of [
          () => index.find({ ref, now: 1 }),
          () => index.put({ ref, row, condition: undefined, now: 1, collectAfter: 1 }),
        ]) {
          const blocked = await elapsed(work);
          const reason = reasonOf(blocked.result);
          assert.equal(reason.code, 'StorageUnavailable');
          assert.match(reason.message ?? '', /^The index database does not answer: /);
          assert.deepEqual(reason.headers, { 'retry-after': '2' });
          assert.ok(blocked.ms < 3_000, `took ${blocked.ms} ms`);
        }
      } finally {
        await blocker.query('ROLLBACK').catch(() => {});
        await blocker.end();
      }
      assert.ok(await index.find({ ref, now: 1 }));
    });

    it('a silent server is StorageUnavailable within a bounded time; service resumes on its own', async () => {
      proxy.silent = true;
      try {
        const calls = [
          () => index.find({ ref, now: 1 }),
          () => index.put({ ref, row, condition: undefined, now: 1, collectAfter: 1 }),
          () => index.checkReady(),
          () => index.takeGarbage({ now: 1, limit: 1, leaseMs: 1 }),
        ];
        const results = await Promise.all(calls.map((call) => elapsed(call)));
        for (const { ms, result } of results) {
          assert.equal(reasonOf(result).code, 'StorageUnavailable');
          assert.ok(ms < 4_000, `took ${ms} ms`);
        }
      } finally {
        proxy.silent = false;
      }
      proxy.cut();
      assert.ok(await index.find({ ref, now: 1 }));
    });

    it('connections cut under an idle pool (a restart) do not crash the process; the pool reconnects', async () => {
      await Promise.all(Array.from({ length: 4 }, () => index.find({ ref, now: 1 })));
      proxy.cut();
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(await index.find({ ref, now: 1 }));
      await index.checkReady();
    });

    it('a refused connection is StorageUnavailable at once', async () => {
      const { schema } = schemas.at(-1) as PgSchema;
      const gone = await FaultProxy.start();
      const lonely = await PgIndex.open({
        connectionString: urlWith({ port: gone.port }),
        schema,
        poolSize: 1,
        defaultQuotaBytes: null,
        attributeLayout: ATTRIBUTE_LAYOUT,
      });
      try {
        await gone.close();
        const refused = await elapsed(() => lonely.find({ ref, now: 1 }));
        assert.equal(reasonOf(refused.result).code, 'StorageUnavailable');
        assert.ok(refused.ms < 1_000, `took ${refused.ms} ms`);
      } finally {
        await lonely.close();
      }
    });
  });
});
