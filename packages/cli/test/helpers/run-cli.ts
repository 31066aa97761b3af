// The `stowage` binary as a user runs it: a process of its own, stdin closed (or fed), stdout and
// stderr collected as text.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CLI = fileURLToPath(new URL('../../bin/stowage.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliRunOptions {
  /** The whole environment of the process (the caller's is not added). */
  env: Record<string, string | undefined>;
  cwd?: string;
  input?: string;
  /** Close the reading end of stdout before the command writes anything (a reader that went away). */
  closeStdout?: boolean;
}

export function runCli(args: string[], { env, cwd, input, closeStdout = false }: CliRunOptions): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI, ...args], { env, cwd, stdio: 'pipe' });
  let stdout = '';
  let stderr = '';
  if (closeStdout) child.stdout.destroy();
  else child.stdout.on('data', (chunk) => (stdout += chunk));
  child.stderr.on('data', (chunk) => (stderr += chunk));
  child.stdin.end(input);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}
