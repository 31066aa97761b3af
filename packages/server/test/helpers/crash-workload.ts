import { createHash } from 'node:crypto';
import type http from 'node:http';
import { Readable } from 'node:stream';
import { type RawResponse, rawRequest } from './raw-http.js';
import type { SeededRandom } from './seeded-random.js';

/** Resumable chunks are multiples of this (GCS rule). */
export const CHUNK = 256 * 1024;
const INLINE_MAX = 16 * 1024;
const MIB = 1024 * 1024;

/** A stored value by its digest; null when the key holds nothing. */
export type Value = { readonly sha256: string; readonly size: number } | null;

const digest = (data: Buffer) => createHash('sha256').update(data).digest('hex');
const valueFrom = (data: Buffer): Value => ({ sha256: digest(data), size: data.length });
const sameValue = (a: Value, b: Value) => a?.sha256 === b?.sha256 && a?.size === b?.size;
const describe = (value: Value) => (value ? `${value.size} bytes ${value.sha256.slice(0, 12)}` : 'nothing');

/** What each key may hold: one value once known, more while a write or delete went unanswered. */
export class KeyModel {
  private readonly states = new Map<string, Value[]>();

  possible(key: string): readonly Value[] {
    return this.states.get(key) ?? [null];
  }

  keys(): string[] {
    return [...this.states.keys()];
  }

  /** The server answered: the key holds exactly this now. */
  acknowledged(key: string, value: Value): void {
    this.states.set(key, [value]);
  }

  /** No answer came: the key holds what it held before, or this. */
  unanswered(key: string, value: Value): void {
    this.states.set(key, [...this.possible(key), value]);
  }
}

/** A resumable upload the crash cut short: the server had confirmed `confirmed` bytes; `sent` were on their way. */
export interface InterruptedUpload {
  readonly key: string;
  readonly url: URL;
  readonly data: Buffer;
  readonly confirmed: number;
  readonly sent: number;
}

/** One client's view of a round: where to send, what it did, what it saw. */
export interface Workload {
  readonly origin: string;
  readonly auth: { authorization: string };
  readonly random: SeededRandom;
  readonly model: KeyModel;
  readonly interrupted: InterruptedUpload[];
  /** Answers the server must never give (a 5xx, a wrong digest, a lost connection while it runs). */
  readonly unexpected: string[];
  readonly done: Record<OperationName, number>;
  /** Settles when the server process has exited. */
  readonly serverExited: Promise<unknown>;
}

/** The request failed at the network level: the server died under it (checked by `send`). */
class ConnectionLost extends Error {}

const OPERATIONS = {
  'small write': (w: Workload, key: string) => write(w, key, w.random.bytes(w.random.int(0, INLINE_MAX))),
  'large write': (w: Workload, key: string) => write(w, key, w.random.bytes(w.random.int(INLINE_MAX + 1, 3 * MIB))),
  delete: deleteKey,
  'resumable upload': upload,
} as const;
export type OperationName = keyof typeof OPERATIONS;
export const OPERATION_NAMES = Object.keys(OPERATIONS) as OperationName[];

/** Runs random operations on `keys` (this worker's alone) until the server dies. */
export async function runWorker(w: Workload, keys: readonly string[]): Promise<void> {
  for (;;) {
    const name = w.random.pick(OPERATION_NAMES);
    try {
      await OPERATIONS[name](w, w.random.pick(keys));
      w.done[name]++;
    } catch (error) {
      if (error instanceof ConnectionLost) return;
      throw error;
    }
  }
}

async function send(
  w: Workload,
  method: string,
  path: string,
  options: { headers?: http.OutgoingHttpHeaders; body?: Buffer | string | Readable } = {},
): Promise<RawResponse> {
  try {
    return await rawRequest(w.origin, method, path, options);
  } catch (error) {
    // Bounded wait: the exit event may trail the reset of the connection it caused.
    const exited = await Promise.race([w.serverExited.then(() => true), new Promise((resolve) => setTimeout(resolve, 10_000, false))]);
    if (!exited) w.unexpected.push(`${method} ${path}: connection lost while the server ran: ${(error as Error).message}`);
    throw new ConnectionLost();
  }
}

function expectStatus(w: Workload, what: string, response: RawResponse, status: number): boolean {
  if (response.status === status) return true;
  w.unexpected.push(`${what}: ${response.status} ${response.text.slice(0, 300)}`);
  return false;
}

/** A whole-body PUT; a large body goes out in pieces, sometimes without Content-Length. */
async function write(w: Workload, key: string, data: Buffer): Promise<void> {
  const value = valueFrom(data);
  const headers: http.OutgoingHttpHeaders = { ...w.auth, 'content-type': 'application/octet-stream' };
  let body: Buffer | Readable = data;
  if (data.length > INLINE_MAX) {
    if (w.random.next() < 0.5) headers['content-length'] = String(data.length);
    body = trickle(data, w.random.int(16, 256) * 1024);
  }
  let response: RawResponse;
  try {
    response = await send(w, 'PUT', `/storage/v1/data/set/${key}`, { headers, body });
  } catch (error) {
    w.model.unanswered(key, value);
    throw error;
  }
  if (!expectStatus(w, `PUT ${key}`, response, 200)) return;
  const stored = response.json<{ sha256: string }>();
  if (stored.sha256 !== value?.sha256) w.unexpected.push(`PUT ${key}: stored sha256 ${stored.sha256}, sent ${value?.sha256}`);
  w.model.acknowledged(key, value);
}

async function deleteKey(w: Workload, key: string): Promise<void> {
  let response: RawResponse;
  try {
    response = await send(w, 'DELETE', `/storage/v1/data/${key}`, { headers: w.auth });
  } catch (error) {
    w.model.unanswered(key, null);
    throw error;
  }
  // 404: there was nothing to delete, which only the model's doubt about the key can explain.
  if (response.status === 404 && !w.model.possible(key).includes(null)) w.unexpected.push(`DELETE ${key}: 404, the key should exist`);
  else if (response.status !== 404 && !expectStatus(w, `DELETE ${key}`, response, 204)) return;
  w.model.acknowledged(key, null);
}

/** The GCS resumable protocol: chunks of 256 KiB multiples answered 308 + Range, the last 200. */
async function upload(w: Workload, key: string): Promise<void> {
  const total = w.random.int(2, 6) * CHUNK + w.random.pick([0, w.random.int(1, CHUNK - 1)]);
  const data = w.random.bytes(total);
  const issued = await send(w, 'GET', `/storage/v1/data/new_resumable_url/${key}`, { headers: w.auth });
  if (!expectStatus(w, `new_resumable_url ${key}`, issued, 200)) return;
  const url = new URL(issued.text);
  for (let offset = 0; offset < total; ) {
    const end = Math.min(total, offset + w.random.int(1, 2) * CHUNK);
    const last = end === total;
    let response: RawResponse;
    try {
      response = await sendChunk(w, url, data, offset, end, last || w.random.next() < 0.5 ? total : '*');
    } catch (error) {
      w.interrupted.push({ key, url, data, confirmed: offset, sent: end });
      // Only the last chunk can complete the upload and change the key.
      if (last) w.model.unanswered(key, valueFrom(data));
      throw error;
    }
    if (!last) {
      if (expectStatus(w, `chunk ${key}`, response, 308) && response.headers.range !== `bytes=0-${end - 1}`) {
        w.unexpected.push(`chunk ${key} to ${end}: Range ${response.headers.range}`);
      }
    } else if (expectStatus(w, `last chunk ${key}`, response, 200)) {
      const stored = response.json<{ sha256: string }>();
      if (stored.sha256 !== digest(data)) w.unexpected.push(`upload ${key}: stored sha256 ${stored.sha256}`);
      w.model.acknowledged(key, valueFrom(data));
    }
    offset = end;
  }
}

function sendChunk(w: Workload, url: URL, data: Buffer, start: number, end: number, total: number | '*') {
  const headers = { 'content-range': `bytes ${start}-${end - 1}/${total}` };
  return send(w, 'PUT', url.pathname + url.search, { headers, body: data.subarray(start, end) });
}

/** A body that goes out piece by piece, yielding between pieces, so a kill can land mid-body. */
function trickle(data: Buffer, piece: number): Readable {
  let offset = 0;
  return new Readable({
    read() {
      setImmediate(() => {
        if (offset >= data.length) return this.push(null);
        this.push(data.subarray(offset, offset + piece));
        offset += piece;
      });
    },
  });
}

/**
 * After a restart: every key holds one of the values the model allows (exactly the last
 * acknowledged one when there was no doubt); the model then knows which. Returns the problems.
 */
export async function checkEveryKey(origin: string, auth: Workload['auth'], model: KeyModel): Promise<string[]> {
  const problems: string[] = [];
  for (const key of model.keys()) {
    const response = await rawRequest(origin, 'GET', `/storage/v1/data/get/${key}`, { headers: auth });
    if (response.status !== 200 && response.status !== 404) {
      problems.push(`GET ${key}: ${response.status} ${response.text.slice(0, 300)}`);
      continue;
    }
    const held = response.status === 200 ? valueFrom(response.body) : null;
    const possible = model.possible(key);
    if (possible.some((value) => sameValue(value, held))) model.acknowledged(key, held);
    else problems.push(`${key} holds ${describe(held)}, not ${possible.map(describe).join(' or ')}`);
  }
  return problems;
}

/**
 * After a restart: each interrupted upload reports an offset between what was confirmed and what
 * was sent (or that it completed), resumes from there, and completes with the right sha256.
 */
export async function resumeUploads(
  origin: string,
  auth: Workload['auth'],
  model: KeyModel,
  uploads: InterruptedUpload[],
): Promise<string[]> {
  const problems: string[] = [];
  const put = (url: URL, body: Buffer | string, headers: http.OutgoingHttpHeaders) =>
    rawRequest(origin, 'PUT', url.pathname + url.search, { headers, body });
  for (const { key, url, data, confirmed, sent } of uploads.splice(0)) {
    const total = data.length;
    let response = await put(url, '', { 'content-range': `bytes */${total}` });
    if (response.status === 308) {
      const offset = response.headers.range ? Number(/^bytes=0-(\d+)$/.exec(response.headers.range)?.[1]) + 1 : 0;
      if (!(offset >= confirmed && offset <= sent))
        problems.push(`upload ${key}: resumes at ${offset}, confirmed ${confirmed}, sent ${sent}`);
      for (let start = offset; start < total; start += 2 * CHUNK) {
        const end = Math.min(total, start + 2 * CHUNK);
        response = await put(url, data.subarray(start, end), { 'content-range': `bytes ${start}-${end - 1}/${total}` });
      }
    }
    if (response.status !== 200) {
      problems.push(`upload ${key}: ${response.status} ${response.text.slice(0, 300)}`);
      continue;
    }
    if (response.json<{ sha256: string }>().sha256 !== digest(data)) problems.push(`upload ${key}: completed with the wrong sha256`);
    const stored = await rawRequest(origin, 'GET', `/storage/v1/data/get/${key}`, { headers: auth });
    if (stored.status !== 200 || digest(stored.body) !== digest(data)) {
      const held = stored.status === 200 ? describe(valueFrom(stored.body)) : stored.status;
      problems.push(`upload ${key} (${describe(valueFrom(data))}, resumed from ${confirmed}-${sent}): GET after completion gives ${held}`);
    } else model.acknowledged(key, valueFrom(data));
  }
  return problems;
}
