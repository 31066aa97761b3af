import type { Command } from 'commander';

/** Where a command that talks to a server sends its requests, and with which credentials. */
export function addConnectionOptions(command: Command): Command {
  return command
    .option('--url <url>', 'API base URL (env STOWAGE_URL)')
    .option('--token <token>', 'bearer token (env STOWAGE_TOKEN; else ~/.stowage/token_info.json)')
    .option('--profile <name>', 'credentials and URL saved by `stowage login --profile NAME` (env STOWAGE_PROFILE)');
}
