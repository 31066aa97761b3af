import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import pino from 'pino';
import { lazyChildLogger } from '../src/http/request-logger.js';

/** A pino logger at `level` whose lines land in `lines`, parsed. */
function capture(level: string) {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk, _encoding, callback) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      callback();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

describe('request logger', () => {
  it('every line a request logs carries its bindings, as a pino child would', () => {
    const { logger, lines } = capture('info');
    const log = lazyChildLogger(logger, { reqId: 'r-1' }, {});
    log.info('first');
    log.error({ err: new Error('boom') }, 'second');
    log.child({ step: 'commit' }).warn('third');
    assert.deepEqual(
      lines.map((line) => [line.reqId, line.msg]),
      [
        ['r-1', 'first'],
        ['r-1', 'second'],
        ['r-1', 'third'],
      ],
    );
    assert.equal(lines[1]?.level, 50);
    assert.equal((lines[1]?.err as { message?: string } | undefined)?.message, 'boom');
    assert.equal(lines[2]?.step, 'commit');
  });

  it('lines below the level are dropped without making a child', () => {
    const { logger, lines } = capture('warn');
    let children = 0;
    const counting = Object.assign(Object.create(logger), {
      child: (...args: Parameters<typeof logger.child>) => {
        children++;
        return logger.child(...args);
      },
    });
    const log = lazyChildLogger(counting, { reqId: 'r-2' }, {});
    log.debug('not shown');
    log.info('not shown either');
    assert.equal(children, 0);
    assert.equal(log.level, 'warn');
    log.warn('shown');
    assert.equal(children, 1);
    assert.deepEqual(
      lines.map((line) => line.msg),
      ['shown'],
    );
  });

  it('a level of its own (a route log level) applies from the first line', () => {
    const { logger, lines } = capture('warn');
    const log = lazyChildLogger(logger, { reqId: 'r-3' }, { level: 'debug' });
    log.debug('shown at debug');
    assert.deepEqual(
      lines.map((line) => [line.reqId, line.msg]),
      [['r-3', 'shown at debug']],
    );
  });
});
