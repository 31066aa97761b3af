import { type CommandContext, Exit } from '../context.js';

/** `stowage url KEY [--expires 1h]`: a signed download URL. */
export async function runUrl(ctx: CommandContext, [key]: string[], options: { expires?: string }): Promise<number> {
  const { parseDuration } = await import('stowage-server/config');
  const expiresIn = options.expires ? Math.round(parseDuration(options.expires) / 1000) : undefined;
  ctx.stdout.write(`${await ctx.storage.getSignedUrl(key as string, { storageType: ctx.storageType, expiresIn })}\n`);
  return Exit.ok;
}

/** `stowage upload-url KEY`: a signed URL that accepts a PUT (or resumable chunks). */
export async function runUploadUrl(ctx: CommandContext, [key]: string[], options: { contentType?: string }): Promise<number> {
  ctx.stdout.write(
    `${await ctx.storage.getUploadUrl(key as string, { storageType: ctx.storageType, contentType: options.contentType })}\n`,
  );
  return Exit.ok;
}
