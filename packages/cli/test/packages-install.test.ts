// Guards the packages as users get them outside this repository: `npm run pack`'s three tarballs,
// checked by publint and attw; the client and the CLI installed into an empty project (an ES module
// and a CommonJS script talk to a server the installed CLI starts; TypeScript consumers type-check
// under nodenext and bundler resolution); the server as a library into another; the CLI into a
// global prefix. The client's and server's dependencies come from the registry or npm's cache; the
// CLI's are in its tarball, and its better-sqlite3 binding is downloaded by its install script as a
// prebuilt binary, as users get it (served here from this checkout's own build: servePrebuiltBinding).
// STOWAGE_TEST_PACKAGES=0 skips it (scripts/test.sh does on the scale-out pass, where the packages
// are the same).
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const skip = process.env.STOWAGE_TEST_PACKAGES === '0' ? 'STOWAGE_TEST_PACKAGES=0' : false;
const NPM_QUIET = ['--no-audit', '--no-fund', '--prefer-offline'];
/** Dependencies that declare Node ≥ 22 yet run on 20.19 (require of ES modules); see README, Node versions. */
const NODE22_ONLY_DEPENDENCIES = ['content-disposition', 'cookie'];

interface Output {
  stdout: string;
  stderr: string;
}

/** Runs a command to completion; a non-zero exit rejects with its output. */
function run(command: string, args: string[], options: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Output> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { ...options, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve({ stdout, stderr });
    });
  });
}

/**
 * Serves this Node's better-sqlite3 binding (this checkout's build) where its install script,
 * prebuild-install, downloads a prebuilt binary from (npm_config_better_sqlite3_binary_host), in
 * the archive it expects: the install runs as users' does, against the package's GitHub
 * releases, without compiling SQLite on every run. Another Node's binary is 404, and
 * prebuild-install then builds it, as it would for a user. `requested`: the paths asked for.
 */
async function servePrebuiltBinding(dir: string): Promise<{ host: string; served: string; requested: string[]; close(): Promise<void> }> {
  const sqlite = path.join(ROOT, 'node_modules', 'better-sqlite3');
  const { version: sqliteVersion } = JSON.parse(await readFile(path.join(sqlite, 'package.json'), 'utf8')) as { version: string };
  const staging = path.join(dir, 'prebuilt');
  await mkdir(path.join(staging, 'build', 'Release'), { recursive: true });
  await copyFile(
    path.join(sqlite, 'build', 'Release', 'better_sqlite3.node'),
    path.join(staging, 'build', 'Release', 'better_sqlite3.node'),
  );
  const archive = path.join(dir, 'prebuilt.tar.gz');
  await run('tar', ['-czf', archive, '-C', staging, 'build']);
  const served = `/v${sqliteVersion}/better-sqlite3-v${sqliteVersion}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`;
  const requested: string[] = [];
  const server = createServer((request, response) => {
    requested.push(request.url ?? '');
    if (request.url !== served) return void response.writeHead(404).end();
    response.writeHead(200, { 'content-type': 'application/gzip' });
    createReadStream(archive).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { host, served, requested, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

const version = async (pkg: string) =>
  (JSON.parse(await readFile(path.join(ROOT, 'packages', pkg, 'package.json'), 'utf8')) as { version: string }).version;

describe('packages installed from their tarballs', { skip }, () => {
  let dir: string;
  let project: string;
  let tarballs: { client: string; server: string; cli: string };
  let install: Output;
  let libraryInstall: Output;
  let server: ReturnType<typeof spawn> | undefined;
  let env: NodeJS.ProcessEnv;
  let prebuilt: Awaited<ReturnType<typeof servePrebuiltBinding>> | undefined;

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'stowage-packages-'));
    const packed = await run(process.execPath, [path.join(ROOT, 'scripts', 'pack-packages.mjs'), path.join(dir, 'tarballs')]);
    const [client, server, cli] = packed.stdout.trim().split('\n');
    assert.ok(client && server && cli, `three tarballs, got: ${packed.stdout}`);
    tarballs = { client, server, cli };

    project = path.join(dir, 'project');
    await mkdir(project);
    // Recent npm runs no dependency's install script unless the project allows it: better-sqlite3 builds its binding.
    const manifest = { name: 'consumer', version: '1.0.0', private: true, allowScripts: { 'better-sqlite3': true } };
    await writeFile(path.join(project, 'package.json'), JSON.stringify(manifest));
    const typesNode = JSON.parse(await readFile(path.join(ROOT, 'node_modules', '@types', 'node', 'package.json'), 'utf8')).version;
    prebuilt = await servePrebuiltBinding(dir);
    install = await run('npm', ['install', ...NPM_QUIET, client, cli, `@types/node@${typesNode}`], {
      cwd: project,
      env: { ...process.env, npm_config_better_sqlite3_binary_host: prebuilt.host },
    });

    // The server as a library, its install script not allowed: importing it loads no binding.
    const library = path.join(dir, 'library');
    await mkdir(library);
    await writeFile(path.join(library, 'package.json'), JSON.stringify({ name: 'library', version: '1.0.0', private: true }));
    libraryInstall = await run('npm', ['install', ...NPM_QUIET, client, server], { cwd: library });
  });

  after(async () => {
    server?.kill();
    await prebuilt?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('publint and Are The Types Wrong find nothing wrong in the tarballs', async () => {
    const { stdout } = await run(process.execPath, [path.join(ROOT, 'scripts', 'lint-packages.mjs'), path.dirname(tarballs.cli)]);
    assert.match(stdout, /ok {2}attw stowage-client/);
    assert.match(stdout, /ok {2}publint stowage\n/);
  });

  test('the tarballs hold builds and manifests, no sources, tests, maps or build state', async () => {
    for (const tarball of Object.values(tarballs)) {
      // Ours, not the third-party packages the CLI bundles.
      const files = (await run('tar', ['tzf', tarball])).stdout
        .trim()
        .split('\n')
        .filter((file) => !/^package\/node_modules\/(?!stowage-)/.test(file));
      const devFiles = files.filter((file) => /\/(src|test|tests)\/|tsconfig|\.map$|\.tsbuildinfo$|\.test\.|\.ts$(?<!\.d\.ts)/.test(file));
      assert.deepEqual(devFiles, [], `${path.basename(tarball)} ships development files`);
      const manifest = JSON.parse((await run('tar', ['xzf', tarball, '-O', 'package/package.json'])).stdout) as {
        dependencies?: Record<string, string>;
      };
      for (const [name, range] of Object.entries(manifest.dependencies ?? {})) {
        assert.match(range, /^[\^~]?\d+\.\d+\.\d+/, `${path.basename(tarball)}: ${name} "${range}" is not a version range`);
      }
    }
    const server = (await run('tar', ['tzf', tarballs.server])).stdout;
    for (const file of ['dist/index.js', 'dist/console/index.html', 'dist/console/app.js'])
      assert.ok(server.includes(`package/${file}\n`), file);
    const client = (await run('tar', ['tzf', tarballs.client])).stdout;
    for (const file of ['dist/index.js', 'dist/cjs/index.js', 'dist/cjs/index.d.ts', 'dist/cjs/package.json']) {
      assert.ok(client.includes(`package/${file}\n`), file);
    }
    const cli = (await run('tar', ['tzf', tarballs.cli])).stdout;
    for (const file of ['bin/stowage.js', 'node_modules/stowage-client/dist/index.js', 'node_modules/stowage-server/dist/console/app.js']) {
      assert.ok(cli.includes(`package/${file}\n`), file);
    }
  });

  test("the README's install section names the tarballs npm run pack writes", async () => {
    const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Installing outside this repository'), readme.indexOf('## Running it'));
    for (const tarball of Object.values(tarballs)) assert.ok(section.includes(path.basename(tarball)), path.basename(tarball));
  });

  test('npm install warns of no engine but those the README names', () => {
    const warnedOf = (output: Output) => {
      const names = [...output.stderr.matchAll(/EBADENGINE Unsupported engine \{\s*npm warn EBADENGINE\s+package: '(@?[^@']+)@/g)];
      assert.equal(names.length, output.stderr.split('EBADENGINE Unsupported engine').length - 1, 'every warning is read');
      return names.map((match) => match[1]);
    };
    // The CLI bundles this repository's dependencies, overrides included: no warning on any Node.
    assert.deepEqual(warnedOf(install), [], install.stderr);
    assert.doesNotMatch(install.stderr, /install-scripts/, 'better-sqlite3 is the only install script, and it is allowed');
    const major = Number(process.versions.node.split('.')[0]);
    const allowed = major >= 22 ? [] : NODE22_ONLY_DEPENDENCIES;
    assert.deepEqual(
      warnedOf(libraryInstall).filter((name) => !allowed.includes(name ?? '')),
      [],
      libraryInstall.stderr,
    );
  });

  test("better-sqlite3's install script took its binding as a prebuilt binary, as from its releases", () => {
    assert.deepEqual(prebuilt?.requested, [prebuilt?.served]);
  });

  test('the server installed as a library imports, without its install script run', async () => {
    const library = path.join(dir, 'library');
    const script = `const server = await import('stowage-server');
const config = await import('stowage-server/config');
console.log(typeof server.serve, typeof config);`;
    assert.equal((await run(process.execPath, ['--input-type=module', '-e', script], { cwd: library })).stdout, 'function object\n');
    assert.match(libraryInstall.stderr, /better-sqlite3/, 'npm names the install script it did not run');
  });

  test('the installed CLI serves, with its console, and runs from npx', async () => {
    const child = spawn(
      path.join(project, 'node_modules', '.bin', 'stowage'),
      ['serve', '--port', '0', '--data-dir', path.join(dir, 'data'), '--log-level', 'warn', '--print-token', 'consumer'],
      { cwd: project, stdio: ['ignore', 'pipe', 'inherit'] },
    );
    server = child;
    let banner = '';
    const vars = await new Promise<Record<string, string>>((resolve, reject) => {
      child.on('exit', (code) => reject(new Error(`stowage serve exited with ${code}: ${banner}`)));
      child.stdout?.on('data', (chunk) => {
        banner += chunk;
        const found = Object.fromEntries([...banner.matchAll(/export (STOWAGE_\w+)=(\S+)/g)].map((match) => [match[1], match[2]]));
        if (found.STOWAGE_URL && found.STOWAGE_TOKEN) resolve(found);
      });
    });
    env = { ...process.env, ...vars, HOME: dir };
    const consolePage = await fetch(new URL('/console/', vars.STOWAGE_URL));
    assert.equal(consolePage.status, 200);
    assert.match(await consolePage.text(), /<html/i);

    const cliVersion = await version('cli');
    assert.equal((await run('npx', ['--no-install', 'stowage', '--version'], { cwd: project, env })).stdout, `${cliVersion}\n`);
    assert.match((await run('npx', ['--no-install', 'stowage', 'whoami'], { cwd: project, env })).stdout, /consumer/);
  });

  test('an ES module imports stowage-client and a CommonJS script requires it', async () => {
    assert.ok(env, 'the server runs');
    await writeFile(
      path.join(project, 'esm.mjs'),
      `import { Storage } from 'stowage-client';
import { STORAGE_TYPES } from 'stowage-client/protocol';
const storage = new Storage();
await storage.set('from-esm', 'written by an ES module');
console.log(JSON.stringify({ value: await storage.get('from-esm'), types: STORAGE_TYPES, resolved: import.meta.resolve('stowage-client') }));
await storage.close();
`,
    );
    await writeFile(
      path.join(project, 'cjs.cjs'),
      `const { NotFoundError, Storage } = require('stowage-client');
const { encodeMetadataValue } = require('stowage-client/metadata');
(async () => {
  const storage = new Storage();
  await storage.set('from-cjs', 'written by CommonJS');
  const missing = await storage.get('never-written').catch((error) => error);
  console.log(JSON.stringify({
    value: await storage.get('from-cjs'),
    esm: await storage.get('from-esm'),
    notFound: missing instanceof NotFoundError,
    metadata: typeof encodeMetadataValue,
    resolved: require.resolve('stowage-client'),
  }));
  await storage.close();
})();
`,
    );
    const esm = JSON.parse((await run(process.execPath, ['esm.mjs'], { cwd: project, env })).stdout);
    assert.equal(esm.value, 'written by an ES module');
    assert.deepEqual(esm.types, ['data', 'tmp', 'result']);
    assert.match(esm.resolved, /node_modules\/stowage-client\/dist\/node\/index\.js$/, "Node's entry, as ES modules");
    const { resolved, ...cjs } = JSON.parse((await run(process.execPath, ['cjs.cjs'], { cwd: project, env })).stdout);
    assert.deepEqual(cjs, { value: 'written by CommonJS', esm: 'written by an ES module', notFound: true, metadata: 'function' });
    // The CommonJS build, not the ES modules through require(esm).
    assert.ok(resolved.startsWith(path.join(project, 'node_modules', 'stowage-client', 'dist', 'cjs', 'node', path.sep)), resolved);
  });

  test('TypeScript finds the types from ES modules and CommonJS under nodenext, and under bundler', async () => {
    const source = `import { NotFoundError, Storage } from 'stowage-client';
import type { StorageType } from 'stowage-client/protocol';
import { encodeMetadataValue } from 'stowage-client/metadata';
export async function read(storage: Storage, type: StorageType): Promise<string> {
  // @ts-expect-error: a key is a string (an unused directive fails if the types are any)
  await storage.get(42);
  const text: string = await storage.get('key', type);
  return text + encodeMetadataValue('x') + String(new NotFoundError('x') instanceof Error);
}
`;
    const configs = {
      nodenext: { module: 'nodenext', moduleResolution: 'nodenext', files: ['esm.mts', 'cjs.cts'] },
      bundler: { module: 'esnext', moduleResolution: 'bundler', files: ['bundled.ts'] },
    };
    for (const [name, { files, ...resolution }] of Object.entries(configs)) {
      const tsDir = path.join(project, `ts-${name}`);
      await mkdir(tsDir);
      for (const file of files) await writeFile(path.join(tsDir, file), source);
      const compilerOptions = { ...resolution, target: 'es2022', strict: true, noEmit: true, types: ['node'], skipLibCheck: false };
      await writeFile(path.join(tsDir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }));
      await run(process.execPath, [TSC, '-p', tsDir], { cwd: project }).catch((error: Error) => {
        assert.fail(`${name}: ${error.message}`);
      });
    }
  });

  test('npm i -g of the CLI tarball alone gives a stowage command', async () => {
    const prefix = path.join(dir, 'global');
    // Its native build is the project's above; here only the CLI's own files and dependencies count.
    await run('npm', ['install', '--global', '--prefix', prefix, ...NPM_QUIET, '--ignore-scripts', tarballs.cli]);
    const bin = path.join(prefix, 'bin', 'stowage');
    assert.equal((await run(bin, ['--version'])).stdout, `${await version('cli')}\n`);
    assert.match((await run(bin, ['serve', '--help'])).stdout, /--data-dir/);
    // Outside any project, npx finds the global command (rather than asking the registry for "stowage").
    const outside = path.join(dir, 'elsewhere');
    await mkdir(outside);
    const global = { ...env, npm_config_prefix: prefix };
    assert.equal(
      (await run('npx', ['--no-install', 'stowage', '--version'], { cwd: outside, env: global })).stdout,
      `${await version('cli')}\n`,
    );
    assert.match((await run('npx', ['--no-install', 'stowage', 'whoami'], { cwd: outside, env: global })).stdout, /consumer/);
  });
});
