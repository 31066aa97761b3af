import { Command, InvalidArgumentError, Option } from 'commander';
import { registerBackupCommands } from './commands/backup.js';
import { registerBucketCommand } from './commands/bucket.js';
import { registerFsckCommand } from './commands/fsck.js';
import { registerKeysCommand } from './commands/keys.js';
import { registerMigrateCommand } from './commands/migrate.js';
import { registerQuotaCommand } from './commands/quota.js';
import { registerServeCommand } from './commands/serve.js';
import { registerTokenCommand } from './commands/token.js';
import { addConnectionOptions } from './connection-options.js';
import type { GlobalOptions } from './context.js';
import { explainNotBucket } from './remote-path.js';
import { type CommandSpec, USER_COMMANDS } from './spec.js';
import { runStorageCommand } from './storage-command.js';
import { cliVersion } from './version.js';

/** The `stowage` command tree. */
export function buildProgram(): Command {
  const program = new Command('stowage')
    .description('Stowage: key-value blob storage. Run the server, administer it, use it.')
    .version(cliVersion(), '-V, --version', 'print the version of this command')
    .showHelpAfterError()
    .exitOverride();
  registerServeCommand(program);
  registerTokenCommand(program);
  registerKeysCommand(program);
  registerQuotaCommand(program);
  registerFsckCommand(program);
  registerBackupCommands(program);
  registerMigrateCommand(program);
  for (const spec of USER_COMMANDS) registerUserCommand(program, spec);
  registerBucketCommand(program);
  return program;
}

/** Builds one commander command from its spec, with the options every storage command shares. */
function registerUserCommand(program: Command, spec: CommandSpec): void {
  const command = program
    .command(`${spec.name} ${spec.args}`.trim())
    .description(spec.summary)
    .addOption(
      new Option('-t, --storage-type <type>', 'storage type (data, tmp, result) or the name of a bucket')
        .argParser(parseStorageType)
        .default('data'),
    )
    .option('--anonymous', 'send no credentials: read buckets shared with everyone')
    .addHelpText('after', `\nExamples:\n${spec.examples.map((example) => `  $ ${example}`).join('\n')}`);
  addConnectionOptions(command);
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
    await runStorageCommand(spec.name, options, (ctx) => spec.run(ctx, self.args, options));
  });
}

/** -t: a storage type or a bucket name (commander reports the error, exit 2). */
function parseStorageType(text: string): string {
  const problem = explainNotBucket(text);
  if (problem) throw new InvalidArgumentError(problem);
  return text;
}
