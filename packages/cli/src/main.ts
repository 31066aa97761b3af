import { CommanderError } from 'commander';
import { buildProgram } from './program.js';

const program = buildProgram();
try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) process.exit(error.exitCode === 1 ? 2 : error.exitCode);
  process.stderr.write(`stowage: ${(error as Error).message}\n`);
  process.exit(4);
}
