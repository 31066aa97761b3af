import { fdatasync, type WriteStream } from 'node:fs';

/**
 * Starts an fdatasync of a file being written every `everyBytes`, without waiting for it: the
 * kernel writes a large blob back while the rest still arrives, so the fsync on close, which the
 * client waits for before its answer, only has the tail left (for 1 GiB here, a third of a second
 * less), and dirty pages do not pile up behind one upload. One runs at a time; a failure is left
 * to the fsync on close, which decides.
 */
export class EarlyWriteback {
  private unsynced = 0;
  private running: Promise<void> | undefined;

  constructor(
    private readonly stream: WriteStream,
    private readonly everyBytes: number,
  ) {}

  /** Counts bytes handed to the stream; starts a sync once `everyBytes` went by since the last. */
  wrote(bytes: number): void {
    this.unsynced += bytes;
    // Set once the stream opened its file (not in @types/node).
    const fd = (this.stream as WriteStream & { fd?: number | null }).fd;
    if (this.unsynced < this.everyBytes || this.running || typeof fd !== 'number') return;
    this.unsynced = 0;
    this.running = new Promise<void>((resolve) => fdatasync(fd, () => resolve())).then(() => {
      this.running = undefined;
    });
  }

  /** Waits for the sync under way, so that the file is not closed beneath it. */
  async settled(): Promise<void> {
    await this.running;
  }
}
