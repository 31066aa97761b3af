import pino from 'pino';
import pretty from 'pino-pretty';
import type { ServerConfig } from './config.js';

/**
 * The server's logger: JSON lines on stdout for log collectors (the default), or one readable
 * line per entry for a person watching a terminal (`pretty`, what `stowage serve` picks when
 * stdout is one). Pretty lines are written synchronously, so they keep their order with the
 * start-up lines `stowage serve` prints itself.
 */
export function createLogger(config: Pick<ServerConfig, 'logLevel' | 'logFormat'>): pino.Logger {
  if (config.logFormat === 'json') return pino({ level: config.logLevel });
  return pino(
    { level: config.logLevel },
    pretty({ sync: true, colorize: process.stdout.isTTY === true, translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' }),
  );
}
