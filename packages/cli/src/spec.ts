import type { CommandContext } from './context.js';

/** One user command: its arguments, flags, help text and handler. The program is built from these. */
export interface CommandSpec {
  readonly name: string;
  /** Commander argument syntax: `<required>`, `[optional]`, `<variadic...>`. */
  readonly args: string;
  readonly summary: string;
  readonly options: ReadonlyArray<readonly [flags: string, description: string]>;
  readonly examples: readonly string[];
  // biome-ignore lint/suspicious/noExplicitAny: each handler declares its own option shape
  readonly run: (ctx: CommandContext, args: string[], options: any) => Promise<number>;
}

// Each handler's module is imported when its command runs, not when the program is built: a
// command loads neither the other commands nor what only they need (the progress bar, the
// server's duration parser).
export const USER_COMMANDS: readonly CommandSpec[] = [
  {
    name: 'set',
    args: '<key> [file]',
    summary: 'Store a file under KEY; FILE "-" or no FILE reads stdin',
    options: [['--content-type <type>', 'content type to store with the value']],
    examples: ['stowage set reports/q1.csv q1.csv', 'echo hello | stowage set greeting -t tmp'],
    run: async (ctx, args, options) => (await import('./commands/set.js')).runSet(ctx, args, options),
  },
  {
    name: 'get',
    args: '<key>',
    summary: 'Write the value at KEY to stdout, or to a file with -o',
    options: [['-o, --output <file>', 'write to FILE ("-" for stdout); written whole or not at all']],
    examples: ['stowage get reports/q1.csv -o q1.csv', 'stowage get logs/big.txt -o - | gzip > big.txt.gz'],
    run: async (ctx, args, options) => (await import('./commands/get.js')).runGet(ctx, args, options),
  },
  {
    name: 'rm',
    args: '<keys...>',
    summary: 'Delete keys (exit 1 if any did not exist)',
    options: [],
    examples: ['stowage rm old/a old/b'],
    run: async (ctx, args) => (await import('./commands/rm.js')).runRm(ctx, args),
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
    summary: 'List keys starting with PREFIX (one page of 1000, or --all)',
    options: [
      ['--all', 'every key, page after page'],
      ['-l, --long', 'size, modification time and content type of each key'],
      ['--json', 'print JSON'],
    ],
    examples: ['stowage ls reports/', 'stowage ls --all -l --json'],
    run: async (ctx, args, options) => (await import('./commands/ls.js')).runLs(ctx, args, options),
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
    summary: 'Copy between a local path and stowage://TYPE/KEY (either way); -r for directories',
    options: [
      ['-r, --recursive', 'copy a directory tree / every key under a prefix'],
      ['-j, --jobs <n>', 'parallel transfers (default 8)'],
    ],
    examples: ['stowage cp ./site stowage://data/site -r', 'stowage cp stowage://data/site ./copy -r'],
    run: async (ctx, args, options) => (await import('./commands/cp.js')).runCp(ctx, args, options),
  },
  {
    name: 'login',
    args: '',
    summary: 'Save credentials to ~/.stowage/token_info.json (mode 0600)',
    options: [
      ['--client-id <id>', 'API key id (from `stowage keys create`)'],
      ['--client-secret <secret>', 'API key secret'],
    ],
    examples: ['stowage login --client-id stw_… --client-secret …', 'stowage login --token "$(stowage token --user dev)"'],
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
