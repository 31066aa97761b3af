import { type CommandContext, Exit } from '../context.js';
import { createProgress } from '../progress.js';

/** `stowage set KEY [FILE|-]`: from a file, or from stdin when FILE is `-` or absent. */
export async function runSet(ctx: CommandContext, [key, file]: string[], options: { contentType?: string }): Promise<number> {
  const progress = createProgress(ctx.showProgress && file !== undefined && file !== '-', `set ${key}`);
  const call = { storageType: ctx.storageType, contentType: options.contentType, onProgress: progress.update };
  try {
    if (file === undefined || file === '-') await ctx.storage.set(key as string, ctx.stdin as never, call);
    else await ctx.storage.setFile(key as string, file, call);
  } finally {
    progress.stop();
  }
  return Exit.ok;
}
