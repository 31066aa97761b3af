import type { CommandContext } from './context.js';

/** One user command: its arguments, flags, help text and handler. The program is built from these. */
export interface CommandSpec {
  readonly name: string;
  /** Commander argument syntax: `<required>`, `[optional]`, `<variadic...>`. */
  readonly args: string;
  readonly summary: string;
  /** Flags; `repeatable` ones collect every occurrence into an array. */
  readonly options: ReadonlyArray<readonly [flags: string, description: string, kind?: 'repeatable']>;
  readonly examples: readonly string[];
  // biome-ignore lint/suspicious/noExplicitAny: each handler declares its own option shape
  readonly run: (ctx: CommandContext, args: string[], options: any) => Promise<number>;
}

/** The transfer commands' say on progress: a bar and a summary line on a terminal, unless told otherwise. */
const PROGRESS_OPTIONS: CommandSpec['options'] = [
  ['--progress', 'a progress bar and a summary line on stderr even when it is not a terminal'],
  ['-q, --quiet', 'no progress bar or summary line, even on a terminal'],
];

// Each handler's module is imported when its command runs, not when the program is built: a
// command loads neither the other commands nor what only they need (the progress bar, the
// server's duration parser).
export const USER_COMMANDS: readonly CommandSpec[] = [
  {
    name: 'set',
    args: '<key> [file]',
    summary: 'Store a file under KEY; FILE "-" or no FILE reads stdin',
    options: [
      ['--content-type <type>', 'content type to store with the value'],
      ['--meta <name=value>', 'metadata to store with the value (repeatable; any text as the value)', 'repeatable'],
      ['--cache-control <value>', 'Cache-Control to serve the value with'],
      ['--content-disposition <value>', 'Content-Disposition to serve the value with'],
      ...PROGRESS_OPTIONS,
    ],
    examples: [
      'stowage set reports/q1.csv q1.csv',
      'echo hello | stowage set greeting -t tmp',
      'stowage set photos/a.jpg a.jpg --content-type image/jpeg --meta camera=X100 --meta city=København',
    ],
    run: async (ctx, args, options) => (await import('./commands/set.js')).runSet(ctx, args, options),
  },
  {
    name: 'get',
    args: '<key>',
    summary: 'Write the value at KEY to stdout, or to a file with -o',
    options: [['-o, --output <file>', 'write to FILE ("-" for stdout); written whole or not at all'], ...PROGRESS_OPTIONS],
    examples: ['stowage get reports/q1.csv -o q1.csv', 'stowage get logs/big.txt -o - | gzip > big.txt.gz'],
    run: async (ctx, args, options) => (await import('./commands/get.js')).runGet(ctx, args, options),
  },
  {
    name: 'rm',
    args: '[keys...]',
    summary: 'Delete keys (exit 1 if any did not exist), or with -r every key under each PREFIX',
    options: [
      ['-r, --recursive', 'delete every key under each PREFIX; prints keys and bytes deleted'],
      ['--all', 'with -r and an empty prefix (or none): delete every key of the storage type'],
      ['--json', 'print what was deleted as JSON'],
    ],
    examples: ['stowage rm old/a old/b', 'stowage rm -r logs/2025/', 'stowage rm -r --all -t tmp'],
    run: async (ctx, args, options) => (await import('./commands/rm.js')).runRm(ctx, args, options),
  },
  {
    name: 'restore',
    args: '[key]',
    summary: 'Make an earlier version of KEY current again, or put every key under --prefix back as it was --at a time (needs retention)',
    options: [
      ['--version-id <id>', 'the version to restore (from `stowage versions`); default: the newest earlier one'],
      ['--prefix <prefix>', 'restore every key under this folder prefix (with --at)'],
      ['--at <time>', 'the time to go back to (ISO 8601, e.g. 2026-12-06T14:00Z)'],
      ['--json', 'print the result as JSON'],
    ],
    examples: ['stowage restore reports/q1.csv', 'stowage restore --prefix reports/ --at 2026-12-06T14:00Z'],
    run: async (ctx, args, options) => (await import('./commands/restore.js')).runRestore(ctx, args, options),
  },
  {
    name: 'versions',
    args: '[prefix]',
    summary: 'List the versions kept under PREFIX: current, noncurrent and deleted, by key, newest first',
    options: [['--json', 'print JSON']],
    examples: ['stowage versions reports/'],
    run: async (ctx, args, options) => (await import('./commands/restore.js')).runVersions(ctx, args, options),
  },
  {
    name: 'exists',
    args: '<key>',
    summary: 'Exit 0 if KEY exists, 1 if not',
    options: [],
    examples: ['stowage exists reports/q1.csv && echo present'],
    run: async (ctx, args) => (await import('./commands/exists.js')).runExists(ctx, args),
  },
  {
    name: 'ls',
    args: '[prefix]',
    summary:
      'List one level under PREFIX (or stowage://BUCKET/PREFIX): keys, and folders (ending in /) for deeper keys; one page of 1000, or --all',
    options: [
      ['-R, --recursive', 'every key under PREFIX, however deep (no folders)'],
      ['--all', 'every entry, page after page'],
      ['-l, --long', 'size, modification time and content type of each key'],
      ['--json', 'print JSON'],
    ],
    examples: [
      'stowage ls reports/',
      'stowage ls -R --all -l --json',
      'stowage ls stowage://team-results/q1/',
      'stowage ls -t team-results',
    ],
    run: async (ctx, args, options) => (await import('./commands/ls.js')).runLs(ctx, args, options),
  },
  {
    name: 'stat',
    args: '<key>',
    summary: 'Print everything stored about KEY but its bytes: size, hashes, times, content type, metadata',
    options: [['--json', 'print JSON']],
    examples: ['stowage stat reports/q1.csv', 'stowage stat reports/q1.csv --json'],
    run: async (ctx, args, options) => (await import('./commands/stat.js')).runStat(ctx, args, options),
  },
  {
    name: 'du',
    args: '[prefix]',
    summary: 'Count the objects and bytes under PREFIX, per storage type and in total (or in -t TYPE only)',
    options: [
      ['-h, --human-readable', 'sizes as 1.5 KiB, 3.2 GiB'],
      ['--json', 'print JSON'],
    ],
    examples: ['stowage du reports/ -h', 'stowage du -t tmp --json'],
    run: async (ctx, args, options) => (await import('./commands/du.js')).runDu(ctx, args, options),
  },
  {
    name: 'mv',
    args: '<source> <target>',
    summary: 'Move a key (or with -r every key under a prefix) on the server; KEY or stowage://TYPE/KEY (TYPE: a storage type or a bucket)',
    options: [
      ['-r, --recursive', 'move every key under the SOURCE prefix to the TARGET prefix'],
      ['-f, --overwrite', 'replace keys that exist at the target (default: refuse, or skip with -r)'],
      ['--json', 'print the result as JSON'],
    ],
    examples: ['stowage mv inbox/a.json done/a.json', 'stowage mv -r drafts/ stowage://result/published/'],
    run: async (ctx, args, options) => (await import('./commands/mv.js')).runMv(ctx, args, options),
  },
  {
    name: 'url',
    args: '<key>',
    summary: 'Print a signed URL that downloads KEY without credentials',
    options: [['--expires <duration>', 'lifetime, e.g. 15m, 1h, 7d (default 1h)']],
    examples: ['curl -O "$(stowage url reports/q1.csv --expires 15m)"'],
    run: async (ctx, args, options) => (await import('./commands/urls.js')).runUrl(ctx, args, options),
  },
  {
    name: 'upload-url',
    args: '<key>',
    summary: 'Print a signed URL that accepts a PUT of the value for KEY',
    options: [['--content-type <type>', 'content type to store']],
    examples: ['curl -T q2.csv "$(stowage upload-url reports/q2.csv)"'],
    run: async (ctx, args, options) => (await import('./commands/urls.js')).runUploadUrl(ctx, args, options),
  },
  {
    name: 'cp',
    args: '<source> <target>',
    summary:
      'Copy between a local path and stowage://TYPE/KEY (either way; TYPE: a storage type or a bucket), or between two stowage:// paths on the server; -r for trees',
    options: [
      ['-r, --recursive', 'copy a directory tree / every key under a prefix'],
      ['-j, --jobs <n>', 'parallel transfers (default 8)'],
      ...PROGRESS_OPTIONS,
    ],
    examples: [
      'stowage cp ./site stowage://data/site -r',
      'stowage cp stowage://data/site ./copy -r',
      'stowage cp stowage://data/site stowage://result/site-backup -r',
      'stowage cp report.csv stowage://team-results/q1/report.csv',
    ],
    run: async (ctx, args, options) => (await import('./commands/cp.js')).runCp(ctx, args, options),
  },
  {
    name: 'sync',
    args: '<source> <destination>',
    summary:
      'Make a local folder and stowage://TYPE/PREFIX hold the same files, either way: copies what is missing or different (size, then sha256)',
    options: [
      ['--delete', 'also delete at the destination what the source does not have'],
      ['--exclude <glob>', 'leave out paths matching GLOB (repeatable); without a slash it matches a name at any depth', 'repeatable'],
      ['--dry-run', 'print what would be copied and deleted, and do nothing'],
      ['--size-only', 'take files of the same size as the same (no hashing)'],
      ['-j, --jobs <n>', 'parallel transfers (default 8)'],
      ['--json', 'print what was copied and deleted as JSON'],
      ...PROGRESS_OPTIONS,
    ],
    examples: [
      'stowage sync ./site stowage://data/site --delete --exclude "*.tmp"',
      'stowage sync stowage://result/reports ./reports --dry-run',
    ],
    run: async (ctx, args, options) => (await import('./commands/sync.js')).runSync(ctx, args, options),
  },
  {
    name: 'login',
    args: '',
    summary: 'Check credentials against the server, then save them with its URL (mode 0600): the default profile, or --profile NAME',
    options: [
      ['--client-id <id>', 'API key id (from `stowage keys create`)'],
      ['--client-secret <secret>', 'API key secret'],
    ],
    examples: [
      'stowage login --url https://storage.example.com/storage/v1 --client-id stw_… --client-secret …',
      'stowage login --token "$(stowage token --user dev)"',
      'stowage login --profile staging --url http://127.0.0.1:8788/storage/v1 --token …',
      'stowage ls --profile staging',
    ],
    run: async (ctx, args, options) => (await import('./commands/login.js')).runLogin(ctx, args, options),
  },
  {
    name: 'whoami',
    args: '',
    summary: 'Print the user the credentials act as; what it stores, its quota and rate limit go to stderr',
    options: [['--json', 'print {user, server, tokenExpiresAt, usage: {bytes, objects, quotaBytes, rateLimit}} to stdout']],
    examples: ['stowage whoami', 'stowage whoami --json'],
    run: async (ctx, args, options) => (await import('./commands/whoami.js')).runWhoami(ctx, args, options),
  },
];
