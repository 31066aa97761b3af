import { type CommandContext, Exit } from '../context.js';
import { formatBytes } from '../format-bytes.js';
import { asFolderPrefix, UsageError } from '../remote-path.js';

interface RestoreFlags {
  versionId?: string;
  prefix?: string;
  at?: string;
  json?: boolean;
}

/**
 * `stowage restore KEY [--version-id V]`: an earlier version of KEY made current again (the newest
 * noncurrent one unless named). `stowage restore --prefix P --at TIME`: every key under the folder
 * prefix P as it was at TIME. Both need retention on (STOWAGE_RETENTION, or the bucket's).
 */
export async function runRestore(ctx: CommandContext, args: string[], options: RestoreFlags): Promise<number> {
  if (options.prefix !== undefined || options.at !== undefined) {
    if (options.prefix === undefined || options.at === undefined) throw new UsageError('--prefix and --at go together');
    if (args.length > 0 || options.versionId !== undefined) throw new UsageError('restore a KEY, or a --prefix --at TIME, not both');
    const at = new Date(options.at);
    if (Number.isNaN(at.getTime())) throw new UsageError(`--at ${options.at}: not a time (ISO 8601, e.g. 2026-12-06T14:00Z)`);
    const prefix = options.prefix === '' ? '' : asFolderPrefix(options.prefix);
    const result = await ctx.storage.restorePrefix(prefix, { at, storageType: ctx.storageType });
    if (options.json) ctx.stdout.write(`${JSON.stringify(result)}\n`);
    else
      ctx.stdout.write(
        `${prefix || '(everything)'} as at ${result.at}: ${result.restored} restored, ${result.deleted} deleted, ` +
          `${result.unchanged} unchanged, ${result.skipped} skipped\n`,
      );
    return Exit.ok;
  }
  const [key, ...rest] = args;
  if (key === undefined || rest.length > 0) throw new UsageError('restore needs one KEY (or --prefix P --at TIME)');
  const result = await ctx.storage.restore(key, { versionId: options.versionId, storageType: ctx.storageType });
  if (options.json) ctx.stdout.write(`${JSON.stringify(result)}\n`);
  else ctx.stdout.write(`${key}: restored (${formatBytes(result.size)}, version ${result.versionId})\n`);
  return Exit.ok;
}

/** `stowage versions [PREFIX]`: every version kept under PREFIX, by key, newest first. */
export async function runVersions(ctx: CommandContext, args: string[], options: { json?: boolean }): Promise<number> {
  if (args.length > 1) throw new UsageError('versions takes at most one PREFIX');
  const versions = await ctx.storage.versions(args[0] ?? '', { storageType: ctx.storageType });
  if (options.json) {
    ctx.stdout.write(`${JSON.stringify(versions)}\n`);
    return Exit.ok;
  }
  for (const version of versions) {
    const state = version.current ? 'current' : version.isDeleteMarker ? 'deleted' : 'noncurrent';
    const until = version.deletedAt ? ` until ${version.deletedAt}` : '';
    ctx.stdout.write(`${version.key}\t${version.versionId}\t${state}\t${version.size}\t${version.since}${until}\n`);
  }
  return Exit.ok;
}
