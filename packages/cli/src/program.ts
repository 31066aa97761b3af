import { setFlagsFromString } from 'node:v8';
import { Command, Option } from 'commander';
import { STORAGE_TYPES } from 'stowage-client/protocol';
import { registerFsckCommand } from './commands/fsck.js';
import { registerKeysCommand } from './commands/keys.js';
import { registerQuotaCommand } from './commands/quota.js';
import { registerServeCommand } from './commands/serve.js';
import { registerTokenCommand } from './commands/token.js';
import type { GlobalOptions } from './context.js';
import { UsageError } from './remote-path.js';
import { type CommandSpec, USER_COMMANDS } from './spec.js';

/** The `stowage` command tree. */
export function buildProgram(): Command {
  const program = new Command('stowage')
    .description('Stowage: key-value blob storage. Run the server, administer it, use it.')
    .showHelpAfterError()
    .exitOverride();
  registerServeCommand(program);
  registerTokenCommand(program);
  registerKeysCommand(program);
  registerQuotaCommand(program);
  registerFsckCommand(program);
  for (const spec of USER_COMMANDS) registerUserCommand(program, spec);
  return program;
}

/** Builds one commander command from its spec, with the options every storage command shares. */
function registerUserCommand(program: Command, spec: CommandSpec): void {
  const command = program
    .command(`${spec.name} ${spec.args}`.trim())
    .description(spec.summary)
    .addOption(new Option('-t, --storage-type <type>', 'storage type').choices(STORAGE_TYPES).default('data'))
    .option('--url <url>', 'API base URL (env STOWAGE_URL)')
    .option('--token <token>', 'bearer token (env STOWAGE_TOKEN; else ~/.stowage/token_info.json)')
    .addHelpText('after', `\nExamples:\n${spec.examples.map((example) => `  $ ${example}`).join('\n')}`);
  // A command that takes -h for itself (du -h) keeps --help only.
  if (spec.options.some(([flags]) => flags.startsWith('-h,'))) command.helpOption('--help', 'display help for command');
  for (const [flags, description, kind] of spec.options) {
    if (kind === 'repeatable') command.option(flags, description, (value: string, previous: string[] = []) => [...previous, value]);
    else command.option(flags, description);
  }
  command.action(async (...received: unknown[]) => {
    const self = received.at(-1) as Command;
    const options = self.opts<GlobalOptions & Record<string, unknown>>();
    // -t's default is data, but some commands (du) do something else when no type was chosen.
    options.storageTypeChosen = self.getOptionValueSource('storageType') !== 'default';
    // Within the first requests, V8 recompiles undici's HTTP parser (llhttp, WebAssembly) with
    // TurboFan: about 150 ms of CPU on a background thread, and the process cannot exit (not
    // even by process.exit) before that is done. A command that makes a few requests gains
    // nothing from the faster code; with Liftoff's baseline code a request costs some 10-20 us
    // more CPU. The flag is process-wide, so it is set for the storage commands only: `serve`
    // keeps TurboFan for its own WebAssembly.
    setFlagsFromString('--liftoff-only');
    // The client (and undici) load only for the storage commands, not for serve, admin or --help.
    const { createContext, Exit, exitCodeFor } = await import('./context.js');
    const ctx = createContext(options);
    try {
      process.exitCode = await spec.run(ctx, self.args, options);
    } catch (error) {
      process.stderr.write(`stowage ${spec.name}: ${(error as Error).message}\n`);
      process.exitCode = error instanceof UsageError ? Exit.usage : exitCodeFor(error);
    } finally {
      await ctx.storage.close();
    }
  });
}
