// nginx in front of a test server, for the read offload tests (docs/deploy.md, "Read offload"):
// one process as the current user (so it reads the test's blob files), everything in a temp dir.
//   STOWAGE_TEST_NGINX_BIN  the binary (scripts/services/nginx.sh finds or installs one)
//   STOWAGE_TEST_NGINX      1: no nginx is an error (CI), 0: the tests skip; unset: they skip with a reason
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './doc-blocks.js';

const mode = process.env.STOWAGE_TEST_NGINX;
const nginxPath =
  mode === '0' ? undefined : (process.env.STOWAGE_TEST_NGINX_BIN ?? ['/usr/sbin/nginx', '/usr/local/sbin/nginx'].find(existsSync));

function skipReason(): string | false {
  if (mode === '0') return 'nginx tests turned off (STOWAGE_TEST_NGINX=0)';
  if (nginxPath) return false;
  const reason = 'nginx not found (run scripts/services/nginx.sh as root to install Debian nginx-light)';
  if (mode === '1') throw new Error(`STOWAGE_TEST_NGINX=1 but ${reason}`);
  return reason;
}

/** For `describe(..., { skip })`: false when nginx is there, else why its tests are skipped. */
export const nginxSkip: string | false = skipReason();

export interface RunningNginx {
  origin: string;
  stop(): Promise<void>;
}

/** Starts nginx with `serverBlock` (a `server { listen 80; ... }`) on a free port of 127.0.0.1. */
export async function startNginx(serverBlock: string): Promise<RunningNginx> {
  if (!nginxPath) throw new Error('no nginx');
  const dir = await mkdtemp(path.join(tmpdir(), 'stowage-nginx-'));
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const temps = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((name) => `${name}_temp_path ${dir}/${name};`).join(' ');
    const config = [
      `daemon off; master_process off; pid ${dir}/nginx.pid; error_log ${dir}/error.log warn;`,
      'events { worker_connections 256; }',
      `http { access_log off; ${temps} default_type application/octet-stream; sendfile on;`,
      serverBlock.replace(/listen 80;/, `listen 127.0.0.1:${port};`),
      '}',
    ].join('\n');
    const file = path.join(dir, 'nginx.conf');
    await writeFile(file, config);
    const check = spawnSync(nginxPath, ['-t', '-p', dir, '-c', file], { encoding: 'utf8' });
    if (check.status !== 0) throw new Error(`nginx -t refused the configuration: ${check.stderr}`);
    const child = spawn(nginxPath, ['-p', dir, '-c', file], { stdio: 'ignore' });
    if (await listening(child, port)) {
      return {
        origin: `http://127.0.0.1:${port}`,
        async stop() {
          child.kill('SIGTERM');
          if (child.exitCode === null) await new Promise((resolve) => child.once('exit', resolve));
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    child.kill('SIGKILL');
    if (attempt === 3) throw new Error(`nginx did not start: ${await readFile(path.join(dir, 'error.log'), 'utf8').catch(() => '')}`);
  }
}

async function listening(child: ChildProcess, port: number): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && child.exitCode === null) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      }).on('error', () => resolve(false));
    });
    if (open) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}
