import { NotFoundError } from 'stowage-client';
import { type CommandContext, Exit } from '../context.js';

/** `stowage rm KEY...`: deletes each; exit 1 if any did not exist (the others are still deleted). */
export async function runRm(ctx: CommandContext, keys: string[]): Promise<number> {
  let missing = 0;
  for (const key of keys) {
    try {
      await ctx.storage.delete(key, ctx.storageType);
    } catch (error) {
      if (!(error instanceof NotFoundError)) throw error;
      ctx.stderr.write(`stowage: ${key}: no such key\n`);
      missing++;
    }
  }
  return missing > 0 ? Exit.notFound : Exit.ok;
}
