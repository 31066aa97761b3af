// The Python data libraries (pyarrow, polars, pandas) pointed at a server's S3 API with their
// DEFAULT settings, each script run in an environment of its own (env -i, a throwaway HOME) so
// nothing from the machine's AWS setup leaks in.
//
//   STOWAGE_TEST_DATA_PYTHON  a python that imports pyarrow, polars and pandas (default: the venv
//                             scripts/services/data-tools.sh creates, under
//                             ${XDG_CACHE_HOME:-$HOME/.cache}/stowage/data-tools)
//   STOWAGE_TEST_S3_TOOLS     1: missing libraries are an error (CI), 0: their tests skip; unset:
//                             their tests skip with a reason when they are missing
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import type { S3Endpoint, ToolResult } from './s3-tools.js';
import { runProcess } from './server-process.js';

const IMPORTS = 'import pyarrow, pyarrow.fs, polars, pandas';
const mode = process.env.STOWAGE_TEST_S3_TOOLS;

function defaultPython(): string {
  const cache = process.env.XDG_CACHE_HOME || path.join(homedir(), '.cache');
  const venv = process.env.STOWAGE_DATA_TOOLS_VENV || path.join(cache, 'stowage', 'data-tools');
  return path.join(venv, 'bin', 'python');
}

function locate(): string | undefined {
  const named = process.env.STOWAGE_TEST_DATA_PYTHON;
  const candidate = named || defaultPython();
  const works = existsSync(candidate) && spawnSync(candidate, ['-c', IMPORTS], { stdio: 'ignore', timeout: 120_000 }).status === 0;
  if (named && !works) throw new Error(`STOWAGE_TEST_DATA_PYTHON=${named} does not import pyarrow, polars and pandas`);
  return works && mode !== '0' ? candidate : undefined;
}

/** A python that imports pyarrow, polars and pandas, or undefined. */
export const dataPythonPath = locate();

function skipReason(): string | false {
  if (mode === '0') return 'S3 tool tests turned off (STOWAGE_TEST_S3_TOOLS=0)';
  if (dataPythonPath) return false;
  const reason = 'no python with pyarrow, polars and pandas (run scripts/services/data-tools.sh to create its venv)';
  if (mode === '1') throw new Error(`STOWAGE_TEST_S3_TOOLS=1 but ${reason}`);
  return reason;
}

/** For `describe(..., { skip })`: false when the libraries are there, else why their tests are skipped. */
export const dataToolsSkip: string | false = skipReason();

/** The libraries' versions, for test names. */
export function dataToolVersions(): string {
  if (!dataPythonPath) return 'missing';
  const answer = spawnSync(
    dataPythonPath,
    [
      '-c',
      'import pyarrow, polars, pandas; print(f"pyarrow {pyarrow.__version__}, polars {polars.__version__}, pandas {pandas.__version__}")',
    ],
    { encoding: 'utf8', timeout: 120_000 },
  );
  return answer.stdout.trim();
}

/**
 * Runs a Python script with the endpoint and key in its environment as the libraries read them
 * by default: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION, AWS_ENDPOINT_URL (and
 * S3_ENDPOINT for scripts that pass it themselves). No checksum setting is made: each library
 * uses its own default.
 */
export async function runDataScript(target: S3Endpoint, script: string): Promise<ToolResult> {
  if (!dataPythonPath) throw new Error('no python with pyarrow, polars and pandas (see scripts/services/data-tools.sh)');
  const home = await mkdtemp(path.join(tmpdir(), 'stowage-data-tools-'));
  try {
    const env = [
      `HOME=${home}`,
      `TMPDIR=${tmpdir()}`,
      `PATH=${process.env.PATH ?? '/usr/bin:/bin'}`,
      `AWS_ACCESS_KEY_ID=${target.accessKeyId}`,
      `AWS_SECRET_ACCESS_KEY=${target.secretAccessKey}`,
      `AWS_REGION=${target.region ?? 'us-east-1'}`,
      `AWS_ENDPOINT_URL=${target.endpoint}`,
      'AWS_EC2_METADATA_DISABLED=true',
      `S3_ENDPOINT=${target.endpoint}`,
      'PYTHONDONTWRITEBYTECODE=1',
      'PYTHONUNBUFFERED=1',
    ];
    return await runProcess('/usr/bin/env', ['-i', ...env, dataPythonPath, '-c', script], { cwd: home });
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
