import { CommanderError } from 'commander';
import { endQuietlyOnBrokenPipe } from './broken-pipe.js';
import { Exit } from './exit-codes.js';
import { buildProgram } from './program.js';
import { UsageError } from './remote-path.js';

endQuietlyOnBrokenPipe();
const program = buildProgram();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 1 ? Exit.usage : error.exitCode);
  process.stderr.write(`stowage: ${(error as Error).message}\n`);
  process.exit(error instanceof UsageError ? Exit.usage : Exit.other);
}
