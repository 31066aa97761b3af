import { abandonUpload, Retry, uploadBlob } from 'stowage-client';
import type { Api, BucketName } from './api.js';

/** Files this large or larger go through a resumable upload URL, in chunks of this size. */
export const CHUNK_BYTES = 8 * 1024 * 1024;
/** Files sent at once. */
const PARALLEL = 3;
/** Up to five tries to reach the server again after a dropped connection, waiting 0.5 s to 8 s. */
const RETRIES = new Retry({ total: 5, connect: 5, read: 5, status: 5, backoffFactor: 0.5, backoffJitter: 0.25, backoffMax: 8 });

export type UploadState = 'queued' | 'uploading' | 'retrying' | 'done' | 'failed' | 'cancelled';
/** The states of an upload not yet over. */
export const ACTIVE: readonly UploadState[] = ['queued', 'uploading', 'retrying'];

export interface UploadItem {
  readonly id: number;
  readonly type: BucketName;
  readonly key: string;
  readonly size: number;
  sent: number;
  state: UploadState;
  error?: string;
  /** When its bytes started to go (ms), for its speed. */
  startedAt?: number;
  /** Whether the file goes in resumable chunks (large files). */
  readonly resumable: boolean;
}

interface Job {
  item: UploadItem;
  file: File;
  /** Aborts the request in flight on cancel. */
  readonly abort: AbortController;
  /** The resumable session's URL once made, to cancel it. */
  uploadUrl?: string;
}

/**
 * The upload queue: a few files at a time, progress per file, cancel. Small files are one PUT;
 * large ones go through a resumable upload URL with the client's uploadBlob, so that after a
 * dropped connection the upload asks the server how far it got and goes on from there.
 */
export class Uploads {
  private readonly jobs: Job[] = [];
  private running = 0;
  private nextId = 1;
  /** The uploads added since none was waiting or in flight, and when they started: the overall speed's. */
  private batch: { startedAt: number; ids: Set<number> } | undefined;

  constructor(
    private readonly api: Api,
    private readonly onChange: () => void,
    private readonly onStored: () => void,
  ) {}

  get items(): UploadItem[] {
    return this.jobs.map((job) => job.item);
  }

  /** The bytes sent and to send of the uploads added since none was waiting or in flight, and when they started. */
  get current(): { sent: number; size: number; startedAt: number } | undefined {
    const batch = this.batch;
    if (!batch) return undefined;
    const items = this.items.filter((item) => batch.ids.has(item.id) && item.state !== 'cancelled' && item.state !== 'failed');
    return {
      sent: items.reduce((sum, item) => sum + Math.min(item.sent, item.size), 0),
      size: items.reduce((sum, item) => sum + item.size, 0),
      startedAt: batch.startedAt,
    };
  }

  add(type: BucketName, files: ReadonlyArray<{ file: File; key: string }>): void {
    if (!this.jobs.some((job) => ACTIVE.includes(job.item.state))) this.batch = { startedAt: Date.now(), ids: new Set() };
    for (const { file, key } of files) {
      const item: UploadItem = {
        id: this.nextId++,
        type,
        key,
        size: file.size,
        sent: 0,
        state: 'queued',
        resumable: file.size >= CHUNK_BYTES,
      };
      this.jobs.push({ item, file, abort: new AbortController() });
      this.batch?.ids.add(item.id);
    }
    this.onChange();
    this.pump();
  }

  cancel(id: number): void {
    const job = this.jobs.find((candidate) => candidate.item.id === id);
    if (!job || ['done', 'failed', 'cancelled'].includes(job.item.state)) return;
    job.item.state = 'cancelled';
    job.abort.abort();
    // The session's bytes would count against the quota until the URL expires.
    if (job.uploadUrl) void abandonUpload(job.uploadUrl).catch(() => {});
    this.onChange();
  }

  cancelAll(): void {
    for (const job of this.jobs) this.cancel(job.item.id);
  }

  /** Forgets finished uploads. */
  clearFinished(): void {
    for (let i = this.jobs.length - 1; i >= 0; i--) {
      if (['done', 'failed', 'cancelled'].includes((this.jobs[i] as Job).item.state)) this.jobs.splice(i, 1);
    }
    this.onChange();
  }

  private pump(): void {
    while (this.running < PARALLEL) {
      const job = this.jobs.find((candidate) => candidate.item.state === 'queued');
      if (!job) return;
      this.running++;
      job.item.state = 'uploading';
      job.item.startedAt = Date.now();
      this.onChange();
      void this.run(job).finally(() => {
        this.running--;
        this.onChange();
        this.pump();
      });
    }
  }

  private async run(job: Job): Promise<void> {
    try {
      if (job.item.resumable) await this.sendResumable(job);
      else await this.sendWhole(job);
      job.item.sent = job.item.size;
      job.item.state = 'done';
      this.onStored();
    } catch (error) {
      if (job.item.state === 'cancelled') return;
      job.item.state = 'failed';
      job.item.error = error instanceof Error ? error.message : String(error);
    }
  }

  private async sendWhole(job: Job): Promise<void> {
    const { item, file } = job;
    await this.api.storage.set(item.key, file, {
      storageType: item.type,
      contentType: file.type || undefined,
      signal: job.abort.signal,
    });
  }

  private async sendResumable(job: Job): Promise<void> {
    const { item, file } = job;
    job.uploadUrl = await this.api.uploadUrl(item.type, item.key, file.type);
    job.abort.signal.throwIfAborted();
    await uploadBlob(job.uploadUrl, file, {
      chunkSize: CHUNK_BYTES,
      retries: RETRIES,
      signal: job.abort.signal,
      onProgress: (bytes) => {
        item.sent = bytes;
        item.state = 'uploading';
        this.onChange();
      },
      onRetry: () => {
        item.state = 'retrying';
        this.onChange();
      },
    });
  }
}
