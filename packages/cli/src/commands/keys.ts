import { type Command, Option } from 'commander';
import type { ApiKeyInfo, ApiKeyScope } from 'stowage-client';
import { addConnectionOptions } from '../connection-options.js';
import type { CommandContext, GlobalOptions } from '../context.js';
import { Exit } from '../exit-codes.js';
import { UsageError } from '../remote-path.js';
import { runStorageCommand } from '../storage-command.js';

interface ScopeFlags {
  name?: string;
  readOnly?: boolean;
  bucket?: string;
  prefix?: string;
  json?: boolean;
}

const SCOPE_HELP = `
A scoped key acts for its user with less: --read-only (get, list, read ACLs), --bucket NAME (one
bucket or storage type), --prefix P/ (keys and listings under one folder); each narrows the others.
No scoped key creates buckets, shares them, or manages keys.`;

export function registerKeysCommand(program: Command): void {
  const keys = program
    .command('keys')
    .description('API keys (client_id + secret, for Auth and as S3 access keys): list, create (perhaps scoped), revoke');

  addConnectionOptions(
    keys.command('ls').description('List your API keys (never their secrets), revoked ones too').option('--json', 'print the list as JSON'),
  ).action((options: GlobalOptions & { json?: boolean }) =>
    runStorageCommand('keys ls', options, async (ctx) => {
      const list = await ctx.storage.keys.list();
      ctx.stdout.write(options.json ? `${JSON.stringify(list)}\n` : list.map(describe).join(''));
      return Exit.ok;
    }),
  );

  addConnectionOptions(
    keys
      .command('create')
      .description(
        'Create an API key for yourself, or with --user for any user of a data directory (an operator); the secret is shown once',
      )
      .option('--name <name>', 'what the key is for, shown by `keys ls`')
      .option('--read-only', 'the key reads only')
      .option('--bucket <name>', 'the key reaches this bucket (or storage type) only')
      .option('--prefix <prefix>', 'the key reaches keys under this folder only (ends in /)')
      .addOption(new Option('--user <user>', 'an operator: the user (tenant) the key acts as, written into the data directory'))
      .option('--data-dir <d>', 'with --user: data directory (env STOWAGE_DATA_DIR, default ./.stowage)')
      .option('--json', 'print {"client_id", "client_secret", "name", "scope"} as JSON')
      .addHelpText(
        'after',
        `${SCOPE_HELP}\n\nExamples:\n  $ stowage keys create --name dashboard --read-only --prefix reports/\n  $ stowage keys create --user dev --data-dir /srv/stowage`,
      ),
  ).action(async (options: GlobalOptions & ScopeFlags & { user?: string; dataDir?: string }) => {
    const scope = scopeOf(options);
    if (options.user !== undefined) {
      const { loadConfig } = await import('stowage-server/config');
      const { createAdminApiKey } = await import('stowage-server/admin');
      const config = loadConfig(process.env, { dataDir: options.dataDir });
      const { clientId, secret } = await createAdminApiKey(config, options.user, { name: options.name, scope });
      printCreated(process.stdout, options.json === true, {
        clientId,
        clientSecret: secret,
        name: options.name ?? null,
        scope: scope ?? null,
      });
      return;
    }
    if (options.dataDir !== undefined) throw new UsageError('--data-dir goes with --user (an operator making a key for a user)');
    await runStorageCommand('keys create', options, async (ctx) => {
      const created = await ctx.storage.keys.create({ name: options.name, ...scope });
      printCreated(ctx.stdout, options.json === true, created);
      return Exit.ok;
    });
  });

  addConnectionOptions(
    keys
      .command('revoke <client-id>')
      .description('Revoke one of your API keys: S3 signatures and new tokens stop at once, its tokens within 30 s'),
  ).action((clientId: string, options: GlobalOptions) =>
    runStorageCommand('keys revoke', options, async (ctx: CommandContext) => {
      await ctx.storage.keys.revoke(clientId);
      ctx.stderr.write(`revoked ${clientId}\n`);
      return Exit.ok;
    }),
  );
}

/** The scope the flags ask for, or undefined for a key of the user's own rights. */
function scopeOf(flags: ScopeFlags): ApiKeyScope | undefined {
  if (flags.prefix !== undefined && !flags.prefix.endsWith('/'))
    throw new UsageError(`--prefix is a folder: end it with / ("${flags.prefix}/")`);
  if (!flags.readOnly && flags.bucket === undefined && flags.prefix === undefined) return undefined;
  return {
    readOnly: flags.readOnly === true,
    ...(flags.bucket !== undefined && { bucket: flags.bucket }),
    ...(flags.prefix !== undefined && { prefix: flags.prefix }),
  };
}

function describeScope(scope: ApiKeyScope | null): string {
  if (!scope) return 'full';
  return [scope.readOnly ? 'read-only' : 'read-write', scope.bucket && `bucket ${scope.bucket}`, scope.prefix && `prefix ${scope.prefix}`]
    .filter(Boolean)
    .join(', ');
}

function describe(key: ApiKeyInfo): string {
  const status = key.revokedAt === null ? 'active' : `revoked ${new Date(key.revokedAt).toISOString()}`;
  return `${key.clientId}  ${new Date(key.createdAt).toISOString()}  ${status}  ${describeScope(key.scope)}${key.name ? `  ${key.name}` : ''}\n`;
}

function printCreated(
  out: NodeJS.WritableStream,
  json: boolean,
  key: { clientId: string; clientSecret: string; name: string | null; scope: ApiKeyScope | null },
): void {
  if (json) {
    out.write(`${JSON.stringify({ client_id: key.clientId, client_secret: key.clientSecret, name: key.name, scope: key.scope })}\n`);
    return;
  }
  out.write(`client_id: ${key.clientId}\nclient_secret: ${key.clientSecret}\nscope: ${describeScope(key.scope)}\n`);
}
