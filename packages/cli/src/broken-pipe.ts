/** What a program killed by SIGPIPE exits with (128 + 13), as `cat big | head` reports for cat. */
export const BROKEN_PIPE_EXIT = 141;

/** Whether `error` is a write to a pipe whose reader has gone (`stowage get … | head -c 10`). */
export function isBrokenPipe(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'EPIPE';
}

/**
 * Node ignores SIGPIPE, so a write to a closed pipe fails with EPIPE instead of ending the
 * process: end it the way a Unix tool ends, quietly and with {@link BROKEN_PIPE_EXIT}. Nothing
 * else can be said on stdout, and stderr is for the errors that matter.
 */
export function endQuietlyOnBrokenPipe(stream: NodeJS.WriteStream = process.stdout): void {
  stream.on('error', (error) => {
    if (isBrokenPipe(error)) process.exit(BROKEN_PIPE_EXIT);
    throw error;
  });
}
