import { type CommandContext, Exit } from '../context.js';

/** `stowage exists KEY`: exit 0 when it exists, 1 when not; prints nothing. */
export async function runExists(ctx: CommandContext, [key]: string[]): Promise<number> {
  return (await ctx.storage.exists(key as string, ctx.storageType)) ? Exit.ok : Exit.notFound;
}
