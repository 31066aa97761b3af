import { type Command, Option } from 'commander';
import {
  type BucketGrant,
  type BucketInfo,
  type BucketSummary,
  type GranteeOptions,
  type GrantPermission,
  prefixRetentionDays,
  windowNewerVersions,
} from 'stowage-client';
import type { CommandContext, GlobalOptions } from '../context.js';
import { formatBytes } from '../format-bytes.js';
import { UsageError } from '../remote-path.js';
import { runStorageCommand } from '../storage-command.js';

const PERMISSIONS: readonly GrantPermission[] = ['READ', 'WRITE', 'READ_ACP', 'WRITE_ACP', 'FULL_CONTROL'];

interface GranteeFlags {
  user?: string;
  authenticated?: boolean;
  everyone?: boolean;
  permission?: GrantPermission;
  prefix?: string;
  json?: boolean;
}

/**
 * `stowage bucket create|ls|info|share|unshare|rm`: named buckets. A bucket's name then goes
 * wherever a storage type does: `-t NAME`, or `stowage://NAME/KEY` in cp and mv.
 */
export function registerBucketCommand(program: Command): void {
  const bucket = program
    .command('bucket')
    .description('Named buckets: create, list, inspect, share and delete them; then use one with -t NAME or stowage://NAME/KEY');

  connection(bucket.command('create <name>'))
    .description('Create a bucket you own (names: 3-63 lower-case letters, digits, dots and hyphens, one namespace for all users)')
    .option('--quota <size>', "most bytes it may hold: bytes or a size (500MiB, 10g); default: no limit of the bucket's own")
    .option('--expire-days <n>', 'every key written expires N days after its write')
    .option('--retention-days <n>', 'keep overwritten, deleted and moved values N days, restorable (0: none); default: the server default')
    .option('--public', 'readable by everyone, without credentials (a READ grant to everyone)')
    .option('--json', 'print the bucket as JSON')
    .addHelpText('after', examples('stowage bucket create team-results --quota 10GiB', 'stowage bucket create scratch-7d --expire-days 7'))
    .action(
      (
        name: string,
        flags: GlobalOptions & { quota?: string; expireDays?: string; retentionDays?: string; public?: boolean; json?: boolean },
      ) =>
        runStorageCommand('bucket create', flags, async (ctx) => {
          const quotaBytes = flags.quota === undefined ? undefined : await parseQuota(flags.quota);
          const expiryDays = flags.expireDays === undefined ? undefined : parseWholeNumber(flags.expireDays, '--expire-days');
          const grants = flags.public ? [{ group: 'everyone' as const, permission: 'READ' as const }] : undefined;
          const retentionDays =
            flags.retentionDays === undefined ? undefined : parseWholeNumber(flags.retentionDays, '--retention-days', 0);
          const info = await ctx.storage.buckets.create(name, { quotaBytes, expiryDays, retentionDays, grants });
          if (flags.public) warnPublic(ctx, name, { group: 'everyone' }, 'READ', '');
          if (flags.json) ctx.stdout.write(`${JSON.stringify(info)}\n`);
          return 0;
        }),
    );

  connection(bucket.command('ls'))
    .alias('list')
    .description('List the buckets you own and those shared with you: name, owner, created, access')
    .option('--json', 'print [{name, owner, createdAt, access}] as JSON')
    .addHelpText('after', examples('stowage bucket ls', 'stowage bucket ls --json'))
    .action((flags: GlobalOptions & { json?: boolean }) =>
      runStorageCommand('bucket ls', flags, async (ctx) => {
        const buckets = await ctx.storage.buckets.list();
        ctx.stdout.write(flags.json ? `${JSON.stringify(buckets)}\n` : formatTable(buckets));
        return 0;
      }),
    );

  connection(bucket.command('info <name>'))
    .description('Print a bucket: owner, created, usage, quota, whether it is public, its grants and expiry (its owner, or READ_ACP)')
    .option('--json', 'print the bucket as JSON')
    .addHelpText('after', examples('stowage bucket info team-results', 'stowage bucket info team-results --json'))
    .action((name: string, flags: GlobalOptions & { json?: boolean }) =>
      runStorageCommand('bucket info', flags, async (ctx) => {
        const info = await ctx.storage.buckets.info(name);
        ctx.stdout.write(flags.json ? `${JSON.stringify(info)}\n` : formatInfo(info));
        return 0;
      }),
    );

  grantee(connection(bucket.command('share <name>')))
    .description('Grant a user, every authenticated user or everyone a permission on the bucket, or on the keys under a prefix')
    .addHelpText(
      'after',
      examples(
        'stowage bucket share team-results --user bob --prefix q1/',
        'stowage bucket share team-results --user bob --permission WRITE --prefix q1/',
        'stowage bucket share team-results --everyone --prefix public/',
      ),
    )
    .action((name: string, flags: GlobalOptions & GranteeFlags) =>
      runStorageCommand('bucket share', flags, async (ctx) => {
        const who = granteeOf(flags);
        const permission = flags.permission ?? 'READ';
        const info = await ctx.storage.buckets.share(name, { ...who, permission, prefix: flags.prefix ?? '' });
        if (who.group !== undefined) warnPublic(ctx, name, who, permission, flags.prefix ?? '');
        if (flags.json) ctx.stdout.write(`${JSON.stringify(info)}\n`);
        return 0;
      }),
    );

  grantee(connection(bucket.command('unshare <name>')), ' to remove (default: every permission)', ' to remove (default: every prefix)')
    .description("Remove a grantee's grants: all of them, or those of one permission and/or prefix")
    .addHelpText(
      'after',
      examples('stowage bucket unshare team-results --user bob', 'stowage bucket unshare team-results --everyone --prefix public/'),
    )
    .action((name: string, flags: GlobalOptions & GranteeFlags) =>
      runStorageCommand('bucket unshare', flags, async (ctx) => {
        const info = await ctx.storage.buckets.unshare(name, { ...granteeOf(flags), permission: flags.permission, prefix: flags.prefix });
        if (flags.json) ctx.stdout.write(`${JSON.stringify(info)}\n`);
        return 0;
      }),
    );

  connection(bucket.command('rm <name>'))
    .alias('delete')
    .description('Delete an empty bucket you own')
    .addHelpText('after', examples('stowage rm -r --all -t team-results && stowage bucket rm team-results'))
    .action((name: string, flags: GlobalOptions) =>
      runStorageCommand('bucket rm', flags, async (ctx) => {
        try {
          await ctx.storage.buckets.delete(name);
        } catch (error) {
          if ((error as { code?: string }).code === 'BucketNotEmpty')
            (error as Error).message += ` (empty it first: stowage rm -r --all -t ${name})`;
          throw error;
        }
        return 0;
      }),
    );
}

/** The options of every bucket command that talks to the server. */
function connection(command: Command): Command {
  return command
    .option('--url <url>', 'API base URL (env STOWAGE_URL)')
    .option('--token <token>', 'bearer token (env STOWAGE_TOKEN; else ~/.stowage/token_info.json)');
}

function grantee(command: Command, permissionNote = ' (default READ)', prefixNote = ' (default: the whole bucket)'): Command {
  return command
    .option('--user <id>', 'a user, by id')
    .option('--authenticated', 'every user with credentials')
    .option('--everyone', 'everyone, anonymous callers too')
    .addOption(new Option('--permission <permission>', `the permission${permissionNote}`).choices(PERMISSIONS))
    .option('--prefix <prefix>', `only the keys under this prefix${prefixNote}`)
    .option('--json', 'print the bucket, with its grants, as JSON');
}

function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}`;
}

function granteeOf(flags: GranteeFlags): GranteeOptions {
  const chosen = [flags.user !== undefined, flags.authenticated === true, flags.everyone === true].filter(Boolean).length;
  if (chosen !== 1) throw new UsageError('name one grantee: --user ID, --authenticated or --everyone');
  if (flags.user !== undefined) {
    if (flags.user === '') throw new UsageError('--user takes a user id');
    return { user: flags.user };
  }
  return { group: flags.authenticated ? 'authenticated' : 'everyone' };
}

function warnPublic(ctx: CommandContext, name: string, who: GranteeOptions, permission: GrantPermission, prefix: string): void {
  const whom = who.group === 'everyone' ? 'anyone, without credentials,' : 'every user with credentials';
  const where = prefix === '' ? `bucket ${name}` : `keys under ${prefix} in bucket ${name}`;
  ctx.stderr.write(`stowage: warning: ${whom} now has ${permission} on the ${where}\n`);
}

async function parseQuota(text: string): Promise<number> {
  const { parseByteSize } = await import('stowage-server/config');
  try {
    return parseByteSize(text);
  } catch (error) {
    throw new UsageError(`--quota: ${(error as Error).message}`);
  }
}

function parseWholeNumber(text: string, flag: string, min = 1): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < min)
    throw new UsageError(`${flag} takes a whole number of days`);
  return value;
}

function formatTable(buckets: BucketSummary[]): string {
  if (buckets.length === 0) return '';
  const rows = [['NAME', 'OWNER', 'CREATED', 'ACCESS'], ...buckets.map((b) => [b.name, b.owner, b.createdAt, b.access])];
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => (row[column] as string).length)));
  return rows
    .map((row) => `${row.map((cell, column) => (column < 3 ? cell.padEnd(widths[column] as number) : cell)).join('  ')}\n`)
    .join('');
}

function describeGrant(grant: BucketGrant): string {
  const who = 'user' in grant.grantee ? `user ${grant.grantee.user}` : grant.grantee.group;
  return `${who}: ${grant.permission} on ${grant.prefix === '' ? 'every key' : `keys under ${grant.prefix}`}`;
}

/** Why a rule for a prefix may keep nothing: a bucket keeps nothing while its window is 0. */
function retentionCaveat(window: number | null): string {
  if (window === 0) return ' (not in force: retention is off)';
  return window === null ? " (while the server's retention is on)" : '';
}

/** What S3's NewerNoncurrentVersions keeps beyond the days (prefixRetentionDays): each key's newest noncurrent versions, for good. */
function newestKept(newerVersions: number | undefined): string {
  if (newerVersions === undefined) return '';
  return newerVersions === 1 ? ' (the newest kept longer, until replaced)' : ` (the ${newerVersions} newest kept longer, until replaced)`;
}

function formatInfo(info: BucketInfo): string {
  const quota =
    info.quotaBytes === null ? "none of its own (the owner's quota applies)" : `${formatBytes(info.quotaBytes)} (${info.quotaBytes} bytes)`;
  const expiry = info.expiry.filter((rule) => rule.enabled);
  const lines: Array<[string, string]> = [
    ['name', info.name],
    ['owner', info.owner],
    ['created', info.createdAt],
    ['usage', `${formatBytes(info.bytes)} (${info.bytes} bytes) in ${info.objects} objects`],
    ['quota', quota],
    ['public', info.public ? 'yes' : 'no'],
    ...(info.grants.length === 0
      ? [['grants', 'none (the owner only)'] as [string, string]]
      : info.grants.map((grant): [string, string] => ['grant', describeGrant(grant)])),
    ...(expiry.length === 0
      ? [['expiry', 'none (keys last until deleted)'] as [string, string]]
      : expiry.map((rule): [string, string] => [
          'expiry',
          `${rule.days} days after each write${rule.prefix === '' ? '' : `, keys under ${rule.prefix}`}`,
        ])),
    [
      'retention',
      `${info.retentionDays === null ? "the server's default" : `${info.retentionDays} days`}${info.retentionDays === 0 ? '' : newestKept(windowNewerVersions(info.retentionRules ?? []))}; ${formatBytes(info.retainedBytes ?? 0)} kept in earlier versions`,
    ],
    // A server before retention rules by prefix sends none.
    ...prefixRetentionDays(info.retentionRules ?? []).map((rule): [string, string] => [
      'retention',
      `${rule.days} ${rule.days === 1 ? 'day' : 'days'}${info.retentionDays === 0 ? '' : newestKept(rule.newerVersions)}, keys under ${rule.prefix}${retentionCaveat(info.retentionDays)}`,
    ]),
  ];
  if (info.publicAccessBlock) {
    const on = Object.entries(info.publicAccessBlock)
      .filter(([, value]) => value)
      .map(([name]) => name);
    lines.push(['public access block', on.length === 0 ? 'off' : on.join(', ')]);
  }
  if (info.policy !== null) lines.push(['policy', 'set (stowage bucket info --json shows it)']);
  const width = Math.max(...lines.map(([label]) => label.length));
  return lines.map(([label, value]) => `${`${label}:`.padEnd(width + 2)}${value}\n`).join('');
}
