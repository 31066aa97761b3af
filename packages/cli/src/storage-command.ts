import { setFlagsFromString } from 'node:v8';
import type { CommandContext, GlobalOptions } from './context.js';

/**
 * Runs a command that talks to the storage API: builds its context (the client) from the global
 * options, reports a failure as `stowage NAME: message` with its exit code, and closes the client.
 */
export async function runStorageCommand(
  name: string,
  options: GlobalOptions,
  run: (ctx: CommandContext) => Promise<number>,
): Promise<void> {
  // Within the first requests, V8 recompiles undici's HTTP parser (llhttp, WebAssembly) with
  // TurboFan: about 150 ms of CPU on a background thread, and the process cannot exit (not
  // even by process.exit) before that is done. A command that makes a few requests gains
  // nothing from the faster code; with Liftoff's baseline code a request costs some 10-20 us
  // more CPU. The flag is process-wide, so it is set for the storage commands only: `serve`
  // keeps TurboFan for its own WebAssembly.
  setFlagsFromString('--liftoff-only');
  // The client (and undici) load only for the storage commands, not for serve, admin or --help.
  const { createContext } = await import('./context.js');
  const { failureOf } = await import('./failure.js');
  let ctx: CommandContext | undefined;
  try {
    ctx = createContext(options, name);
    process.exitCode = await run(ctx);
  } catch (error) {
    const failure = failureOf(error, { url: ctx?.storage.url ?? options.url ?? '' });
    if (failure.message !== undefined) process.stderr.write(`stowage ${name}: ${failure.message}\n`);
    process.exitCode = failure.exit;
  } finally {
    await ctx?.storage.close();
  }
}
