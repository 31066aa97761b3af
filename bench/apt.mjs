// The bench's tools from Debian's packages: a binary that is missing is installed with apt-get when
// the harness runs as root (apt's index updated once if the package is not found), else the
// scenarios that need it are skipped with the reason.
import { run, which } from './procs.mjs';

/**
 * The path of `binary` (as `find` finds it: on PATH by default), installing the first of
 * `packages` that apt can install when it is missing; undefined when it is still missing.
 */
export async function ensureBinary(binary, packages, log, find = () => which(binary)) {
  let found = find();
  if (found || process.getuid?.() !== 0 || !which('apt-get')) return found;
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const [i, pkg] of packages.entries()) {
    log(`${binary} is missing: apt-get install -y ${pkg}`);
    let result = await run('apt-get', ['install', '-y', '-qq', pkg], { env });
    if (result.code !== 0 && i === 0) {
      await run('apt-get', ['update', '-qq'], { env });
      result = await run('apt-get', ['install', '-y', '-qq', pkg], { env });
    }
    found = find();
    if (found) return found;
  }
  return undefined;
}
