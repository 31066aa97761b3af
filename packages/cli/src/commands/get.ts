import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type CommandContext, Exit } from '../context.js';
import { createProgress } from '../progress.js';

/** `stowage get KEY [-o FILE|-]`: to stdout by default, or into a file (written whole or not at all). */
export async function runGet(ctx: CommandContext, [key]: string[], options: { output?: string }): Promise<number> {
  if (options.output === undefined || options.output === '-') {
    await pipeline(await ctx.storage.getStream(key as string, ctx.storageType), ctx.stdout, { end: false });
    return Exit.ok;
  }
  // The value is written beside the output first: a missing directory is the user's, not that file's.
  await stat(path.dirname(path.resolve(options.output)));
  const progress = createProgress(ctx.showProgress, `get ${key}`);
  try {
    await ctx.storage.getFile(key as string, options.output, { storageType: ctx.storageType, onProgress: progress.update });
  } finally {
    progress.stop();
  }
  return Exit.ok;
}
