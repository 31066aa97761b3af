import { Command } from 'commander';
import { registerKeysCommand } from './commands/keys.js';
import { registerServeCommand } from './commands/serve.js';
import { registerTokenCommand } from './commands/token.js';

/** The `stowage` command tree. */
export function buildProgram(): Command {
  const program = new Command('stowage')
    .description('Stowage: key-value blob storage. Run the server, administer it, use it.')
    .showHelpAfterError()
    .exitOverride();
  registerServeCommand(program);
  registerTokenCommand(program);
  registerKeysCommand(program);
  return program;
}
