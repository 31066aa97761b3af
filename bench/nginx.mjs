// The nginx reference: Debian's nginx (package nginx-light or nginx, which build in the WebDAV
// module; installed with apt-get when missing and the harness runs as root), run as the current
// user with bench/nginx.conf filled in, everything under `dir`.
import { accessSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureBinary } from './apt.mjs';
import { run, startTracked, stopProcess, which } from './procs.mjs';
import { freePort, REPO } from './servers.mjs';

/** The nginx binary, or undefined. */
export function findNginx() {
  return which('nginx') ?? ['/usr/sbin/nginx', '/usr/local/sbin/nginx'].find(isExecutable);
}

function isExecutable(file) {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** `nginx -v`, e.g. "nginx/1.22.1". */
export async function nginxVersion(binary) {
  const { stderr } = await run(binary, ['-v']);
  return stderr.trim().replace(/^nginx version:\s*/, '');
}

/**
 * The `server` block of docs/deploy.md ("Read offload") as written, in front of the Stowage at
 * `origin` whose blob files are in `blobDir`, listening on `port`.
 */
function offloadServer({ origin, blobDir }, port) {
  const page = readFileSync(path.join(REPO, 'docs/deploy.md'), 'utf8');
  const block = /<!-- nginx-offload -->\n```nginx\n([\s\S]*?)```\n<!-- \/nginx-offload -->/.exec(page)?.[1];
  if (!block) throw new Error('docs/deploy.md has no nginx-offload block');
  return block
    .replace('listen 80;', `listen 127.0.0.1:${port};`)
    .replace('http://127.0.0.1:8787', origin)
    .replace('/var/lib/stowage/blobs/', `${blobDir}/`);
}

/**
 * Starts nginx serving `root` (GET /small.bin, /large.bin; PUT /put/NAME via WebDAV) on a free
 * port of 127.0.0.1, and, with `offload` ({ origin, blobDir } of a Stowage started with
 * STOWAGE_READ_OFFLOAD=nginx), the documented read offload proxy in front of it on another.
 * Returns { name: 'nginx', origin, offloadOrigin, pid, stop() }, or { skipped: reason }.
 */
export async function startNginx({ dir, root, log, offload }) {
  const binary = await ensureBinary('nginx', ['nginx-light', 'nginx'], log, findNginx);
  if (!binary) return { skipped: 'nginx is not installed (Debian: apt-get install nginx-light)' };
  mkdirSync(dir, { recursive: true });
  mkdirSync(path.join(root, 'put'), { recursive: true });
  const user = process.getuid?.() === 0 ? `user ${os.userInfo().username};` : '# not root: nginx runs as the current user';
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    const offloadPort = offload ? await freePort() : undefined;
    const config = readFileSync(path.join(REPO, 'bench/nginx.conf'), 'utf8')
      .replaceAll('{{USER}}', user)
      .replaceAll('{{DIR}}', dir)
      .replaceAll('{{ROOT}}', root)
      .replaceAll('{{PORT}}', String(port))
      .replace('{{OFFLOAD}}', offload ? offloadServer(offload, offloadPort) : '');
    const configFile = path.join(dir, 'nginx.conf');
    writeFileSync(configFile, config);
    const test = await run(binary, ['-t', '-p', dir, '-c', configFile, '-e', path.join(dir, 'error.log')]);
    if (test.code !== 0) return { skipped: `nginx -t rejected the config: ${test.stderr.trim()}` };
    const child = startTracked(binary, ['-p', dir, '-c', configFile, '-e', path.join(dir, 'error.log')]);
    const origin = `http://127.0.0.1:${port}`;
    try {
      await waitUntilAnswers(child, `${origin}/small.bin`);
      const offloadOrigin = offloadPort && `http://127.0.0.1:${offloadPort}`;
      return {
        name: 'nginx',
        origin,
        offloadOrigin,
        pid: child.pid,
        child,
        binary,
        version: await nginxVersion(binary),
        stop: () => stopProcess(child),
      };
    } catch (error) {
      await stopProcess(child);
      if (attempt === 2) return { skipped: `nginx did not start: ${error.message} ${readError(dir)}` };
    }
  }
  return { skipped: 'nginx did not start' };
}

function readError(dir) {
  try {
    return readFileSync(path.join(dir, 'error.log'), 'utf8').slice(-1000);
  } catch {
    return '';
  }
}

async function waitUntilAnswers(child, url) {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`nginx exited (${child.exitCode}): ${child.output}`);
    try {
      const response = await fetch(url);
      await response.arrayBuffer();
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no answer from ${url} in 10 s`);
}
