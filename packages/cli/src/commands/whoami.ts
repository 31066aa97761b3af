import { decodeClaims, type UsageReport } from 'stowage-client';
import { type CommandContext, Exit } from '../context.js';
import { failureOf } from '../failure.js';
import { formatBytes } from '../format-bytes.js';

/**
 * `stowage whoami [--json]`: the user the credentials act as on stdout (as the server sees it,
 * so a token whose user is in another claim still says the right name), and on stderr the
 * server, the token's expiry, what the user stores, its quota and its rate limit. `--json`
 * prints all of it to stdout as one object.
 */
export async function runWhoami(ctx: CommandContext, _args: string[], options: { json?: boolean }): Promise<number> {
  if (ctx.storage.anonymous) {
    ctx.stdout.write(
      options.json ? `${JSON.stringify({ user: null, server: ctx.storage.url, tokenExpiresAt: null, usage: null })}\n` : '(anonymous)\n',
    );
    return Exit.ok;
  }
  const token = await ctx.storage.auth.getToken();
  const claims = decodeClaims(token);
  const tokenExpiresAt = claims?.exp ? new Date(claims.exp * 1000).toISOString() : null;
  let usage: UsageReport | undefined;
  let failure: unknown;
  try {
    usage = await ctx.storage.usage();
  } catch (error) {
    failure = error;
  }
  const user = usage?.tenant ?? claims?.sub ?? null;
  if (options.json) {
    const { tenant: _, ...numbers } = usage ?? { tenant: '' };
    ctx.stdout.write(`${JSON.stringify({ user, server: ctx.storage.url, tokenExpiresAt, usage: usage ? numbers : null })}\n`);
  } else {
    ctx.stdout.write(`${user ?? '(unknown)'}\n`);
    ctx.stderr.write(`server: ${ctx.storage.url}${tokenExpiresAt ? `, token expires ${tokenExpiresAt}` : ''}\n`);
    if (usage) ctx.stderr.write(describeUsage(usage));
  }
  if (failure === undefined) return Exit.ok;
  const { exit, message } = failureOf(failure, { url: ctx.storage.url });
  ctx.stderr.write(`stowage whoami: usage unavailable: ${message}\n`);
  return exit;
}

function describeUsage(usage: UsageReport): string {
  const quota = usage.quotaBytes === null ? 'unlimited' : `${formatBytes(usage.quotaBytes)} (${usage.quotaBytes} bytes)`;
  const rate = usage.rateLimit === null ? 'unlimited' : `${usage.rateLimit.requestsPerSecond} requests/s, burst ${usage.rateLimit.burst}`;
  return [
    `stored: ${formatBytes(usage.bytes)} (${usage.bytes} bytes) in ${usage.objects} objects`,
    `quota: ${quota}`,
    ...(usage.retainedBytes ? [`kept in earlier versions: ${formatBytes(usage.retainedBytes)} (not counted against the quota)`] : []),
    `rate limit: ${rate}`,
    '',
  ].join('\n');
}
