// S3 clients other than the AWS SDK for JavaScript, pointed at a server's S3 API: the AWS CLI,
// rclone, boto3 in python3, and s3cmd (which takes an endpoint as host:port only: the S3 port). Each runs in an environment of its own (env -i, a throwaway HOME
// and config files) so nothing from the machine's own AWS or rclone setup leaks in.
//
//   STOWAGE_TEST_AWS, STOWAGE_TEST_RCLONE, STOWAGE_TEST_PYTHON, STOWAGE_TEST_S3CMD  the binaries
//                          (default: `aws`, `rclone` and `s3cmd` on PATH, then /usr/bin; the first of `python3` on PATH and
//                          /usr/bin/python3 that imports boto3), as scripts/services/s3-tools.sh finds them
//   STOWAGE_TEST_S3_TOOLS  1: a missing tool is an error (CI), 0: the tool tests skip; unset: the
//                          tests of a missing tool skip with a reason
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runProcess } from './server-process.js';

export interface S3Endpoint {
  /** e.g. http://127.0.0.1:PORT/s3 */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Default us-east-1. */
  region?: string;
  /** The S3 port's endpoint (http://127.0.0.1:PORT), for s3cmd. */
  rootEndpoint?: string;
}

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The first candidate that exists and answers `probe` with exit code 0. */
function firstWorking(candidates: Array<string | undefined>, probe: string[]): string | undefined {
  for (const candidate of candidates) {
    if (!candidate || !existsSync(candidate)) continue;
    const answer = spawnSync(candidate, probe, { stdio: 'ignore', timeout: 60_000 });
    if (answer.status === 0) return candidate;
  }
  return undefined;
}

function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
  }
  return undefined;
}

const mode = process.env.STOWAGE_TEST_S3_TOOLS;

function locate(variable: string, candidates: Array<string | undefined>, probe: string[]): string | undefined {
  const fromEnv = process.env[variable];
  if (fromEnv) {
    const found = firstWorking([fromEnv], probe);
    if (!found) throw new Error(`${variable}=${fromEnv} does not exist or does not run (${probe.join(' ')})`);
    return found;
  }
  return mode === '0' ? undefined : firstWorking(candidates, probe);
}

/** The AWS CLI binary, or undefined. */
export const awsPath = locate('STOWAGE_TEST_AWS', [onPath('aws'), '/usr/bin/aws'], ['--version']);
/** The rclone binary, or undefined. */
export const rclonePath = locate('STOWAGE_TEST_RCLONE', [onPath('rclone'), '/usr/bin/rclone'], ['version']);
/** The s3cmd script, or undefined. */
export const s3cmdPath = locate('STOWAGE_TEST_S3CMD', [onPath('s3cmd'), '/usr/bin/s3cmd'], ['--version']);
/** A python3 that imports boto3, or undefined. */
export const pythonPath = locate('STOWAGE_TEST_PYTHON', [onPath('python3'), '/usr/bin/python3'], ['-c', 'import boto3']);

function skipReason(tool: string, found: string | undefined, install: string): string | false {
  if (mode === '0') return `S3 tool tests turned off (STOWAGE_TEST_S3_TOOLS=0)`;
  if (found) return false;
  const reason = `${tool} not found (run scripts/services/s3-tools.sh as root to install Debian's ${install})`;
  if (mode === '1') throw new Error(`STOWAGE_TEST_S3_TOOLS=1 but ${reason}`);
  return reason;
}

/** For `describe(..., { skip })`: false when the tool is there, else why its tests are skipped. */
export const awsSkip: string | false = skipReason('aws (the AWS CLI)', awsPath, 'awscli');
export const rcloneSkip: string | false = skipReason('rclone', rclonePath, 'rclone');
export const boto3Skip: string | false = skipReason('python3 with boto3', pythonPath, 'python3-boto3');
export const s3cmdSkip: string | false = skipReason('s3cmd', s3cmdPath, 's3cmd');

/** The version line of each tool found, for test names and reports. */
export function toolVersions(): Record<string, string> {
  const line = (command: string | undefined, args: string[]) => {
    if (!command) return 'missing';
    const answer = spawnSync(command, args, { encoding: 'utf8', timeout: 60_000 });
    return `${answer.stdout}${answer.stderr}`.trim().split('\n')[0] ?? '';
  };
  return {
    aws: line(awsPath, ['--version']),
    rclone: line(rclonePath, ['version']),
    boto3: line(pythonPath, ['-c', 'import boto3, botocore; print("boto3", boto3.__version__, "botocore", botocore.__version__)']),
    s3cmd: line(s3cmdPath, ['--version']),
  };
}

/** The variables a tool keeps from the test's own environment (PATH and pyenv's, which shims need). */
function baseEnv(home: string): string[] {
  const kept = ['PATH', 'LANG', 'LC_ALL', 'PYENV_ROOT', 'PYENV_VERSION', 'SYSTEMROOT'];
  return [
    `HOME=${home}`,
    `TMPDIR=${tmpdir()}`,
    ...kept.flatMap((name) => (process.env[name] === undefined ? [] : [`${name}=${process.env[name]}`])),
  ];
}

/** The remote name rclone commands use: `stowage:data/some/prefix`. */
export const RCLONE_REMOTE = 'stowage';

export interface S3Tools {
  /** A throwaway directory (the tools' HOME) that close() removes; files made for a test can go here too. */
  readonly dir: string;
  /** `aws --endpoint-url ENDPOINT ...args`, with region us-east-1 and path-style addressing from a config file. */
  aws(args: string[], options?: { cwd?: string; env?: Record<string, string> }): Promise<ToolResult>;
  /** `rclone --config CONF ...args`, the remote being `stowage:` (provider Other, force_path_style). */
  rclone(args: string[], options?: { cwd?: string; env?: Record<string, string> }): Promise<ToolResult>;
  /**
   * `python3 -c PREAMBLE+script`: the preamble imports os, sys, json, boto3 and
   * botocore.config.Config, and defines `endpoint`, `s3`, a client of the endpoint with
   * path-style addressing and boto3's defaults otherwise (as docs/s3.md shows it), and `s3v4`, the
   * same with signature_version="s3v4" (boto3 presigns with Signature Version 2 otherwise, which the server also takes).
   */
  python(script: string, args?: string[], options?: { cwd?: string; env?: Record<string, string> }): Promise<ToolResult>;
  /** `s3cmd -c CONF ...args` against the S3 port (path-style, Signature Version 4, no TLS). */
  s3cmd(args: string[], options?: { cwd?: string; env?: Record<string, string> }): Promise<ToolResult>;
  close(): Promise<void>;
}

const PYTHON_PREAMBLE = `import os, sys, json, boto3
from botocore.config import Config
endpoint = os.environ["S3_ENDPOINT"]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name=os.environ["S3_REGION"],
                  aws_access_key_id=os.environ["S3_ACCESS_KEY_ID"], aws_secret_access_key=os.environ["S3_SECRET_ACCESS_KEY"],
                  config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
s3v4 = boto3.client("s3", endpoint_url=endpoint, region_name=os.environ["S3_REGION"],
                    aws_access_key_id=os.environ["S3_ACCESS_KEY_ID"], aws_secret_access_key=os.environ["S3_SECRET_ACCESS_KEY"],
                    config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
`;

/** Config files for the three tools, in a fresh directory that is also their HOME. */
export async function s3Tools(target: S3Endpoint): Promise<S3Tools> {
  const region = target.region ?? 'us-east-1';
  const dir = await mkdtemp(path.join(tmpdir(), 'stowage-s3-tools-'));
  await mkdir(path.join(dir, '.aws'));
  const awsConfig = path.join(dir, '.aws', 'config');
  const awsCredentials = path.join(dir, '.aws', 'credentials');
  // signature_version = s3v4: aws-cli v1 otherwise presigns with Signature Version 2 (`s3 presign`);
  // the tests choose SigV4 unless they test SigV2. AWS_CONFIG_FILE pointing elsewhere (in `env`) leaves it out.
  await writeFile(awsConfig, `[default]\nregion = ${region}\noutput = json\ns3 =\n  addressing_style = path\n  signature_version = s3v4\n`);
  await writeFile(
    awsCredentials,
    `[default]\naws_access_key_id = ${target.accessKeyId}\naws_secret_access_key = ${target.secretAccessKey}\n`,
  );
  const rcloneConfig = path.join(dir, 'rclone.conf');
  await writeFile(
    rcloneConfig,
    [
      `[${RCLONE_REMOTE}]`,
      'type = s3',
      'provider = Other',
      'env_auth = false',
      `access_key_id = ${target.accessKeyId}`,
      `secret_access_key = ${target.secretAccessKey}`,
      `region = ${region}`,
      `endpoint = ${target.endpoint}`,
      'force_path_style = true',
      '',
    ].join('\n'),
  );

  const s3cmdConfig = path.join(dir, 's3cmd.conf');
  if (target.rootEndpoint) {
    const hostPort = new URL(target.rootEndpoint).host;
    await writeFile(
      s3cmdConfig,
      [
        '[default]',
        `access_key = ${target.accessKeyId}`,
        `secret_key = ${target.secretAccessKey}`,
        `host_base = ${hostPort}`,
        // No %(bucket)s in host_bucket: path-style requests.
        `host_bucket = ${hostPort}`,
        `bucket_location = ${region}`,
        'use_https = False',
        'signature_v2 = False',
        'progress_meter = False',
        '',
      ].join('\n'),
    );
  }

  const run = (
    command: string | undefined,
    name: string,
    args: string[],
    env: string[],
    options: { cwd?: string; env?: Record<string, string> } = {},
  ): Promise<ToolResult> => {
    if (!command) throw new Error(`${name} is not installed (see scripts/services/s3-tools.sh)`);
    const extra = Object.entries(options.env ?? {}).map(([key, value]) => `${key}=${value}`);
    // env -i: only the variables named here reach the tool.
    return runProcess('/usr/bin/env', ['-i', ...baseEnv(dir), ...env, ...extra, command, ...args], { cwd: options.cwd ?? dir });
  };

  return {
    dir,
    aws: (args, options) =>
      run(
        awsPath,
        'aws',
        ['--endpoint-url', target.endpoint, ...args],
        [
          `AWS_CONFIG_FILE=${awsConfig}`,
          `AWS_SHARED_CREDENTIALS_FILE=${awsCredentials}`,
          `AWS_DEFAULT_REGION=${region}`,
          'AWS_S3_ADDRESSING_STYLE=path',
          'AWS_EC2_METADATA_DISABLED=true',
          'AWS_PAGER=',
          'AWS_MAX_ATTEMPTS=1',
        ],
        options,
      ),
    rclone: (args, options) =>
      run(rclonePath, 'rclone', ['--config', rcloneConfig, '--low-level-retries', '1', '--retries', '1', ...args], [], options),
    python: (script, args = [], options) =>
      run(
        pythonPath,
        'python3 with boto3',
        ['-c', PYTHON_PREAMBLE + script, ...args],
        [
          `S3_ENDPOINT=${target.endpoint}`,
          `S3_REGION=${region}`,
          `S3_ACCESS_KEY_ID=${target.accessKeyId}`,
          `S3_SECRET_ACCESS_KEY=${target.secretAccessKey}`,
          'PYTHONDONTWRITEBYTECODE=1',
          'PYTHONUNBUFFERED=1',
        ],
        options,
      ),
    s3cmd: (args, options) => {
      if (!target.rootEndpoint) throw new Error('s3cmd needs the S3 port: give s3Tools a rootEndpoint');
      return run(s3cmdPath, 's3cmd', ['-c', s3cmdConfig, ...args], [], options);
    },
    close: () => rm(dir, { recursive: true, force: true }),
  };
}
