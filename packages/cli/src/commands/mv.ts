import { type CopyKeyResult, type CopyPrefixResult, NotFoundError } from 'stowage-client';
import { type CommandContext, Exit } from '../context.js';
import { formatBytes } from '../format-bytes.js';
import { countOf } from '../format-count.js';
import { asFolderPrefix, parseKeyArgument, type RemotePath, UsageError } from '../remote-path.js';

interface MoveFlags {
  recursive?: boolean;
  overwrite?: boolean;
  json?: boolean;
}

/**
 * `stowage mv SOURCE TARGET [-r] [-f]`: a move on the server (no bytes travel). Each side is a KEY
 * in the type (or bucket) of -t or `stowage://TYPE/KEY`; a TARGET ending in / takes the source's last segment.
 */
export async function runMv(ctx: CommandContext, [source, target]: string[], options: MoveFlags): Promise<number> {
  const from = parseKeyArgument(source as string, ctx.storageType);
  const to = parseKeyArgument(target as string, ctx.storageType);
  return transferOnServer(ctx, 'move', from, to, options);
}

/**
 * A server-side copy or move of a key, or with `recursive` of every key under a folder prefix.
 * Under a prefix, keys whose target exists are skipped unless `overwrite`, listed on stderr, and
 * make the exit code 4.
 */
export async function transferOnServer(
  ctx: CommandContext,
  operation: 'copy' | 'move',
  from: RemotePath,
  to: RemotePath,
  options: MoveFlags,
): Promise<number> {
  const verb = operation === 'copy' ? 'copied' : 'moved';
  const call = { overwrite: options.overwrite === true };
  if (!options.recursive) {
    if (from.key === '') throw new UsageError(`${operation === 'copy' ? 'cp' : 'mv'} of a whole storage type needs -r`);
    const key = to.key === '' || to.key.endsWith('/') ? to.key + lastSegment(from.key) : to.key;
    const destination = { type: to.type, key };
    const result: CopyKeyResult = await (operation === 'copy'
      ? ctx.storage.copy(from, destination, call)
      : ctx.storage.move(from, destination, call)
    ).catch(async (error: unknown) => {
      if (error instanceof NotFoundError && (await isFolder(ctx, from)))
        throw new UsageError(`${from.type}/${from.key} is a folder: use -r to ${operation} every key under it`);
      throw error;
    });
    if (options.json) ctx.stdout.write(`${JSON.stringify(result)}\n`);
    return Exit.ok;
  }
  const source = { type: from.type, prefix: asFolderPrefix(from.key) };
  const destination = { type: to.type, prefix: asFolderPrefix(to.key) };
  const result: CopyPrefixResult =
    operation === 'copy' ? await ctx.storage.copy(source, destination, call) : await ctx.storage.move(source, destination, call);
  if (options.json) ctx.stdout.write(`${JSON.stringify(result)}\n`);
  else ctx.stdout.write(`${countOf(result.objects, 'key')}, ${formatBytes(result.bytes)} (${result.bytes} bytes) ${verb}\n`);
  if (result.skipped === 0) return Exit.ok;
  const named = result.skippedKeys.join(', ');
  const more = result.skipped > result.skippedKeys.length ? ` and ${result.skipped - result.skippedKeys.length} more` : '';
  ctx.stderr.write(`stowage: ${countOf(result.skipped, 'key')} not ${verb}, the target exists (use --overwrite): ${named}${more}\n`);
  return Exit.other;
}

/** Whether some key lies under `path` taken as a folder (the user meant a prefix and left out -r). */
async function isFolder(ctx: CommandContext, path: RemotePath): Promise<boolean> {
  for await (const _ of ctx.storage.iterList(asFolderPrefix(path.key), path.type)) return true;
  return false;
}

function lastSegment(key: string): string {
  return key.slice(key.lastIndexOf('/') + 1);
}
