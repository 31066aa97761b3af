import { contentTypeFor } from '../content-type.js';
import { type CommandContext, Exit } from '../context.js';
import { createProgress, type ProgressFlags, progressWanted } from '../progress.js';
import { UsageError } from '../remote-path.js';

interface SetFlags extends ProgressFlags {
  contentType?: string;
  meta?: string[];
  cacheControl?: string;
  contentDisposition?: string;
}

/**
 * `stowage set KEY [FILE|-]`: from a file, or from stdin when FILE is `-` or absent. Without
 * --content-type, the type comes from the file's name (from the key's, for stdin).
 */
export async function runSet(ctx: CommandContext, [key, file]: string[], options: SetFlags): Promise<number> {
  const fromStdin = file === undefined || file === '-';
  const progress = createProgress(progressWanted(options, ctx.showProgress), `set ${key}`);
  const call = {
    storageType: ctx.storageType,
    contentType: options.contentType ?? contentTypeFor(fromStdin ? (key as string) : file),
    metadata: options.meta ? parseMetadata(options.meta) : undefined,
    cacheControl: options.cacheControl,
    contentDisposition: options.contentDisposition,
    onProgress: progress.update,
  };
  try {
    if (fromStdin) await ctx.storage.set(key as string, ctx.stdin as never, call);
    else await ctx.storage.setFile(key as string, file, call);
    progress.finish();
  } finally {
    progress.stop();
  }
  return Exit.ok;
}

/** `--meta NAME=VALUE` pairs; the value is everything after the first `=` and may be any text. */
function parseMetadata(pairs: string[]): Record<string, string> {
  const metadata: Record<string, string> = {};
  for (const pair of pairs) {
    const equals = pair.indexOf('=');
    if (equals <= 0) throw new UsageError(`--meta takes NAME=VALUE, not "${pair}"`);
    const name = pair.slice(0, equals);
    if (name in metadata) throw new UsageError(`--meta ${name} is given twice`);
    metadata[name] = pair.slice(equals + 1);
  }
  return metadata;
}
