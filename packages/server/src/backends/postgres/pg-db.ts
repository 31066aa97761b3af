import type pg from 'pg';
import { asIndexError, isConnectionBroken, isRetryableConflict } from './pg-errors.js';

/** A statement prepared once per connection under its name (the hot paths). */
export interface Statement {
  readonly name: string;
  readonly text: string;
}

/** Names a statement; its name is its identity on every pooled connection, so it must be unique. */
export function statement(name: string, text: string): Statement {
  return { name: `stowage_${name}`, text };
}

/** Something that runs statements: the pool (autocommit) or one transaction's connection. */
export interface Queries {
  run<R extends pg.QueryResultRow = pg.QueryResultRow>(statement: Statement, values: readonly unknown[]): Promise<pg.QueryResult<R>>;
  /** In a transaction: what its earlier attempts learnt, for the next one (see RetryTransaction). */
  readonly memo?: Map<string, unknown>;
}

/**
 * Thrown inside a transaction to roll it back and run it again at once, having noted in `memo`
 * what to do differently: for a path that found it holds a lock it must not hold while waiting
 * for the next one.
 */
export class RetryTransaction extends Error {}

/** Deadlocks between concurrent transactions are rolled back by the server; the transaction runs again. */
const CONFLICT_ATTEMPTS = 4;

/**
 * The pool with the rules every query follows: errors that mean the database did not answer
 * become StorageUnavailable (503, Retry-After), a connection that broke is discarded rather than
 * reused, and transactions roll back whole on any error.
 */
export class PgDb implements Queries {
  constructor(readonly pool: pg.Pool) {
    // An idle connection that breaks (the server restarted) is dropped by the pool; the next
    // checkout opens a fresh one. Without a listener the error would end the process.
    pool.on('error', () => {});
  }

  async run<R extends pg.QueryResultRow = pg.QueryResultRow>(statement: Statement, values: readonly unknown[]): Promise<pg.QueryResult<R>> {
    try {
      return await this.pool.query<R>({ name: statement.name, text: statement.text, values: [...values] });
    } catch (error) {
      throw asIndexError(error);
    }
  }

  /** Runs `work` in one transaction (READ COMMITTED), committed if it returns, rolled back if it throws. */
  async transaction<T>(work: (tx: Queries) => Promise<T>): Promise<T> {
    const memo = new Map<string, unknown>();
    for (let attempt = 1; ; attempt++) {
      let client: pg.PoolClient;
      try {
        client = await this.pool.connect();
      } catch (error) {
        throw asIndexError(error);
      }
      // A checked-out connection has no listener of the pool's: one that breaks between two
      // queries would otherwise throw from an event emitter.
      let broken: unknown;
      const onError = (error: unknown) => {
        broken = error;
      };
      client.on('error', onError);
      const tx: Queries = {
        run: <R extends pg.QueryResultRow>(statement: Statement, values: readonly unknown[]) =>
          client.query<R>({ name: statement.name, text: statement.text, values: [...values] }),
        memo,
      };
      try {
        await client.query('BEGIN');
        const result = await work(tx);
        await client.query('COMMIT');
        return result;
      } catch (error) {
        if (isConnectionBroken(error) && !(error instanceof RetryTransaction)) broken ??= error;
        else if (broken === undefined)
          await client.query('ROLLBACK').catch((rollbackError: unknown) => {
            broken = rollbackError;
          });
        // A RetryTransaction is not a conflict: the memo makes it happen once per cause, so it
        // does not count against the conflicts' attempts.
        if (broken === undefined && error instanceof RetryTransaction) {
          attempt--;
          continue;
        }
        if (broken === undefined && isRetryableConflict(error) && attempt < CONFLICT_ATTEMPTS) continue;
        throw asIndexError(error);
      } finally {
        client.removeListener('error', onError);
        client.release(broken === undefined ? undefined : broken instanceof Error ? broken : true);
      }
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}
