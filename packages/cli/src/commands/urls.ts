import { BadRequestError } from 'stowage-client';
import { type CommandContext, Exit } from '../context.js';
import { UsageError } from '../remote-path.js';

/** `stowage url KEY [--expires 1h]`: a signed download URL. */
export async function runUrl(ctx: CommandContext, [key]: string[], options: { expires?: string }): Promise<number> {
  const { parseDuration } = await import('stowage-server/config');
  let expiresIn: number | undefined;
  try {
    expiresIn = options.expires ? Math.round(parseDuration(options.expires) / 1000) : undefined;
  } catch (error) {
    throw new UsageError(`--expires: ${(error as Error).message}`);
  }
  const url = await ctx.storage.getSignedUrl(key as string, { storageType: ctx.storageType, expiresIn }).catch((error: unknown) => {
    throw expiryRefused(error, options.expires) ?? error;
  });
  ctx.stdout.write(`${url}\n`);
  return Exit.ok;
}

/** `stowage upload-url KEY`: a signed URL that accepts a PUT (or resumable chunks). */
export async function runUploadUrl(ctx: CommandContext, [key]: string[], options: { contentType?: string }): Promise<number> {
  ctx.stdout.write(
    `${await ctx.storage.getUploadUrl(key as string, { storageType: ctx.storageType, contentType: options.contentType })}\n`,
  );
  return Exit.ok;
}

/** The server's refusal of a lifetime, said in the units it was given in (`--expires 30d`, not seconds). */
function expiryRefused(error: unknown, given: string | undefined): UsageError | undefined {
  if (!(error instanceof BadRequestError) || given === undefined || !error.message.startsWith('expires_in')) return undefined;
  const most = Number(/from 1 to (\d+)/.exec(error.message)?.[1]);
  if (!Number.isFinite(most)) return new UsageError(`--expires ${given}: ${error.message}`);
  return new UsageError(`--expires ${given} is longer than this server signs URLs for: at most ${humanSeconds(most)}`);
}

function humanSeconds(seconds: number): string {
  for (const [unit, size] of [
    ['d', 86_400],
    ['h', 3600],
    ['m', 60],
  ] as const)
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  return `${seconds}s`;
}
