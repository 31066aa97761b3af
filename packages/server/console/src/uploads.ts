import type { Api, BucketName } from './api.js';

/** Files this large or larger go through a resumable upload URL, in chunks of this size. */
export const CHUNK_BYTES = 8 * 1024 * 1024;
/** Files sent at once. */
const PARALLEL = 3;
/** Waits between attempts to reach the server again after a dropped connection. */
const RETRY_DELAYS_MS = [500, 1000, 2000, 4000, 8000];

export type UploadState = 'queued' | 'uploading' | 'retrying' | 'done' | 'failed' | 'cancelled';

export interface UploadItem {
  readonly id: number;
  readonly type: BucketName;
  readonly key: string;
  readonly size: number;
  sent: number;
  state: UploadState;
  error?: string;
  /** Whether the file goes in resumable chunks (large files). */
  readonly resumable: boolean;
}

interface Job {
  item: UploadItem;
  file: File;
  /** The request in flight, to abort on cancel. */
  xhr?: XMLHttpRequest;
  /** The resumable session's URL once made, to cancel it. */
  uploadUrl?: string;
}

class Cancelled extends Error {}
class Dropped extends Error {}

/**
 * The upload queue: a few files at a time, progress per file, cancel. Small files are one PUT;
 * large ones go through a resumable upload URL (the GCS protocol the server speaks), so that
 * after a dropped connection the upload asks the server how far it got and goes on from there.
 */
export class Uploads {
  private readonly jobs: Job[] = [];
  private running = 0;
  private nextId = 1;

  constructor(
    private readonly api: Api,
    private readonly onChange: () => void,
    private readonly onStored: () => void,
  ) {}

  get items(): UploadItem[] {
    return this.jobs.map((job) => job.item);
  }

  add(type: BucketName, files: ReadonlyArray<{ file: File; key: string }>): void {
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
      this.jobs.push({ item, file });
    }
    this.onChange();
    this.pump();
  }

  cancel(id: number): void {
    const job = this.jobs.find((candidate) => candidate.item.id === id);
    if (!job || ['done', 'failed', 'cancelled'].includes(job.item.state)) return;
    job.item.state = 'cancelled';
    job.xhr?.abort();
    if (job.uploadUrl) void fetch(job.uploadUrl, { method: 'DELETE' }).catch(() => {});
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
    const { url, headers } = this.api.putTarget(job.item.type, job.item.key);
    if (job.file.type) headers['content-type'] = job.file.type;
    const answer = await this.send(job, 'PUT', url, headers, job.file, 0);
    if (answer.status !== 200) throw new Error(errorMessage(answer));
  }

  private async sendResumable(job: Job): Promise<void> {
    const { item, file } = job;
    job.uploadUrl = await this.api.uploadUrl(item.type, item.key, file.type);
    let offset = 0;
    for (let attempt = 0; ; ) {
      this.assertLive(job);
      try {
        if (offset >= file.size && file.size > 0) return;
        const end = Math.min(offset + CHUNK_BYTES, file.size) - 1;
        const answer = await this.send(
          job,
          'PUT',
          job.uploadUrl,
          { 'content-range': `bytes ${offset}-${end}/${file.size}` },
          file.slice(offset, end + 1),
          offset,
        );
        if (answer.status === 200) return;
        if (answer.status !== 308) throw new Error(errorMessage(answer));
        offset = nextOffset(answer.range);
        item.sent = offset;
        attempt = 0;
      } catch (error) {
        if (!(error instanceof Dropped) || attempt >= RETRY_DELAYS_MS.length) throw error;
        // The connection dropped: wait, ask the server what it holds, and go on from there.
        item.state = 'retrying';
        this.onChange();
        await delay(RETRY_DELAYS_MS[attempt++] as number);
        this.assertLive(job);
        try {
          const status = await this.send(job, 'PUT', job.uploadUrl, { 'content-range': `bytes */${file.size}` }, null, 0);
          if (status.status === 200) return;
          if (status.status === 308) offset = nextOffset(status.range);
          item.sent = offset;
          item.state = 'uploading';
          this.onChange();
        } catch (statusError) {
          if (!(statusError instanceof Dropped)) throw statusError;
        }
      }
    }
  }

  private assertLive(job: Job): void {
    if (job.item.state === 'cancelled') throw new Cancelled('cancelled');
  }

  /** One request with upload progress (fetch has none); rejects with Dropped when the connection fails. */
  private send(
    job: Job,
    method: string,
    url: string,
    headers: Record<string, string>,
    body: Blob | null,
    base: number,
  ): Promise<{ status: number; text: string; range: string | null }> {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      job.xhr = xhr;
      xhr.open(method, url);
      for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
      xhr.upload.onprogress = (event) => {
        job.item.sent = base + event.loaded;
        this.onChange();
      };
      xhr.onload = () => resolve({ status: xhr.status, text: xhr.responseText, range: xhr.getResponseHeader('range') });
      xhr.onerror = () => reject(new Dropped('the connection dropped'));
      xhr.onabort = () => reject(new Cancelled('cancelled'));
      xhr.send(body);
    });
  }
}

/** The next byte to send after a 308's `Range: bytes=0-N` (none: nothing held yet). */
function nextOffset(range: string | null): number {
  const match = range ? /^bytes=0-(\d+)$/.exec(range) : null;
  return match ? Number(match[1]) + 1 : 0;
}

function errorMessage(answer: { status: number; text: string }): string {
  try {
    const body = JSON.parse(answer.text) as { message?: string; code?: string };
    return `${body.code ?? answer.status}: ${body.message ?? ''}`;
  } catch {
    return `HTTP ${answer.status}`;
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
