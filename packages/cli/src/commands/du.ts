import { STORAGE_TYPES } from 'stowage-client/protocol';
import { type CommandContext, Exit } from '../context.js';
import { formatBytes } from '../format-bytes.js';

/**
 * `stowage du [PREFIX] [-h] [--json]`: objects and bytes under PREFIX (everything without one),
 * counted by the server: in each storage type and in total, or in the type of -t only.
 */
export async function runDu(
  ctx: CommandContext,
  [prefix = '']: string[],
  options: { humanReadable?: boolean; json?: boolean },
): Promise<number> {
  const size = (bytes: number) => (options.humanReadable ? formatBytes(bytes) : String(bytes));
  const line = (bytes: number, objects: number, name: string) => `${size(bytes)}\t${objects} objects\t${name}\n`;
  if (ctx.storageTypeChosen) {
    const usage = await ctx.storage.usage({ prefix, storageType: ctx.storageType });
    ctx.stdout.write(
      options.json ? `${JSON.stringify(usage)}\n` : line(usage.bytes, usage.objects, `stowage://${ctx.storageType}/${prefix}`),
    );
    return Exit.ok;
  }
  const usage = await ctx.storage.usage({ prefix });
  if (options.json) {
    ctx.stdout.write(`${JSON.stringify(usage)}\n`);
    return Exit.ok;
  }
  for (const type of STORAGE_TYPES)
    ctx.stdout.write(line(usage.types[type].bytes, usage.types[type].objects, `stowage://${type}/${prefix}`));
  ctx.stdout.write(line(usage.bytes, usage.objects, 'total'));
  return Exit.ok;
}
