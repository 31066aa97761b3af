import { type CommandContext, Exit } from '../context.js';
import { formatBytes } from '../format-bytes.js';

/** `stowage ls [PREFIX] [--all] [-l] [--json]`: one page of keys (1000), or every key with --all. */
export async function runLs(
  ctx: CommandContext,
  [prefix]: string[],
  options: { all?: boolean; long?: boolean; json?: boolean },
): Promise<number> {
  const keys: string[] = [];
  if (options.all) for await (const key of ctx.storage.iterList(prefix, ctx.storageType)) keys.push(key);
  else keys.push(...(await ctx.storage.list(prefix, ctx.storageType)));
  if (!options.long) {
    ctx.stdout.write(options.json ? `${JSON.stringify(keys)}\n` : keys.map((key) => `${key}\n`).join(''));
    return Exit.ok;
  }
  const rows = [];
  for (const key of keys) {
    const info = await ctx.storage.info(key, ctx.storageType);
    rows.push({
      key,
      size: info.size,
      modified: info.lastModified.toISOString(),
      type: info.contentType,
      expires: info.expiresAt?.toISOString(),
    });
  }
  if (options.json) ctx.stdout.write(`${JSON.stringify(rows)}\n`);
  else
    for (const row of rows)
      ctx.stdout.write(`${formatBytes(row.size).padStart(10)}  ${row.modified}  ${row.type.padEnd(24)}  ${row.key}\n`);
  return Exit.ok;
}
