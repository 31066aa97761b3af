import { type CommandContext, Exit } from '../context.js';
import { formatBytes } from '../format-bytes.js';
import { countOf } from '../format-count.js';
import { asFolderPrefix, UsageError } from '../remote-path.js';

interface RmFlags {
  recursive?: boolean;
  all?: boolean;
  json?: boolean;
}

/**
 * `stowage rm KEY...`: deletes each (1000 per request); exit 1 if any did not exist (the others
 * are still deleted). `stowage rm -r PREFIX...`: every key under each folder prefix, on the server.
 */
export async function runRm(ctx: CommandContext, keys: string[], options: RmFlags): Promise<number> {
  if (options.recursive) return removePrefixes(ctx, keys, options);
  if (options.all) throw new UsageError('--all goes with -r: rm -r --all deletes every key of the storage type');
  if (keys.length === 0) throw new UsageError('rm needs at least one KEY (or -r PREFIX)');
  const { deleted, bytes, results } = await ctx.storage.deleteMany(keys, { storageType: ctx.storageType });
  let exit: number = Exit.ok;
  for (const item of results) {
    if (item.deleted) continue;
    if (item.code === 'NoSuchKey') {
      ctx.stderr.write(`stowage: ${item.key}: no such key\n`);
      if (exit === Exit.ok) exit = Exit.notFound;
    } else {
      ctx.stderr.write(`stowage: ${item.key}: ${item.message} (${item.code})\n`);
      exit = Exit.other;
    }
  }
  if (options.json) ctx.stdout.write(`${JSON.stringify({ deleted, bytes, results })}\n`);
  return exit;
}

async function removePrefixes(ctx: CommandContext, prefixes: string[], options: RmFlags): Promise<number> {
  // A prefix is a folder, as for cp -r: `logs/2025` must not take `logs/2025-old` with it.
  const targets = prefixes.length === 0 ? [''] : prefixes.map(asFolderPrefix);
  if (targets.includes('') && !options.all)
    throw new UsageError(`an empty prefix deletes every key in ${ctx.storageType}: add --all to mean it`);
  const reports = [];
  for (const prefix of targets) {
    const { deleted, bytes } = await ctx.storage.deletePrefix(prefix, { storageType: ctx.storageType, all: prefix === '' });
    reports.push({ prefix, deleted, bytes });
    if (!options.json)
      ctx.stdout.write(`${prefix || '(everything)'}: ${countOf(deleted, 'key')}, ${formatBytes(bytes)} (${bytes} bytes) deleted\n`);
  }
  if (options.json) ctx.stdout.write(`${JSON.stringify(reports)}\n`);
  return Exit.ok;
}
