import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type CommandContext, Exit } from '../context.js';
import { createProgress, type ProgressFlags, progressWanted } from '../progress.js';

/** `stowage get KEY [-o FILE|-]`: to stdout by default, or into a file (written whole or not at all). */
export async function runGet(ctx: CommandContext, [key]: string[], options: { output?: string } & ProgressFlags): Promise<number> {
  const toStdout = options.output === undefined || options.output === '-';
  // The value is written beside the output first: a missing directory is the user's, not that file's.
  if (!toStdout) await stat(path.dirname(path.resolve(options.output as string)));
  const progress = createProgress(progressWanted(options, ctx.showProgress), `get ${key}`);
  const call = { storageType: ctx.storageType, onProgress: progress.update };
  try {
    if (toStdout) await pipeline(await ctx.storage.getStream(key as string, call), ctx.stdout, { end: false });
    else await ctx.storage.getFile(key as string, options.output as string, call);
    progress.finish();
  } finally {
    progress.stop();
  }
  return Exit.ok;
}
