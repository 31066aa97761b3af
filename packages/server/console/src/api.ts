import { encodeKey } from './keys.js';

export type StorageType = 'data' | 'tmp' | 'result';
export const STORAGE_TYPES: readonly StorageType[] = ['data', 'tmp', 'result'];

/** One object as a detailed listing describes it. */
export interface ObjectDetails {
  key: string;
  size: number;
  etag: string;
  sha256: string;
  lastModified: string;
  contentType: string;
  expiresAt: string | null;
  metadata: Record<string, string>;
  cacheControl: string | null;
  contentDisposition: string | null;
}

export interface FolderPage {
  objects: ObjectDetails[];
  folders: string[];
  /** The X-NEXT token of the next page, when there is one. */
  next: string | undefined;
}

/** A failed request: the server's stable error code and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const BASE = '/storage/v1';
/** Entries per page of the browser: enough to fill a screen, few enough to come quickly. */
export const PAGE_SIZE = 200;

/** Exchanges an API key for a token at `/auth/token`, as every client does. */
export async function exchangeApiKey(clientId: string, secret: string): Promise<string> {
  const response = await fetch('/auth/token', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ client_id: clientId, refresh_token: secret, grant_type: 'refresh_token' }),
  });
  const body = await readJson<{ access_token: string }>(response);
  return body.access_token;
}

/** The storage API v1 and its Stowage extensions, as the signed-in user. */
export class Api {
  constructor(readonly token: string) {}

  /** The user the token acts as, and what they store (also proves the token works). */
  async whoami(): Promise<{ tenant: string; bytes: number; objects: number; quotaBytes: number | null }> {
    return readJson(await this.request('GET', '/usage'));
  }

  async listFolder(type: StorageType, prefix: string, next?: string): Promise<FolderPage> {
    const query = new URLSearchParams({ prefix, delimiter: '/', details: 'true', limit: String(PAGE_SIZE) });
    const response = await this.request('GET', `/${type}/list?${query}`, { headers: next ? { 'x-next': next } : {} });
    const page = await readJson<{ objects: ObjectDetails[]; folders: string[] }>(response);
    return { ...page, next: response.headers.get('x-next') ?? undefined };
  }

  async usage(type: StorageType, prefix: string): Promise<{ objects: number; bytes: number }> {
    return readJson(await this.request('GET', `/${type}/usage?${new URLSearchParams({ prefix })}`));
  }

  async download(type: StorageType, key: string): Promise<Blob> {
    const response = await this.request('GET', `/${type}/get/${encodeKey(key)}`);
    if (!response.ok) await readJson(response);
    return response.blob();
  }

  async remove(type: StorageType, key: string): Promise<void> {
    const response = await this.request('DELETE', `/${type}/${encodeKey(key)}`);
    if (!response.ok) await readJson(response);
  }

  async deletePrefix(type: StorageType, prefix: string): Promise<{ deleted: number; bytes: number }> {
    return readJson(await this.request('POST', `/${type}/delete_prefix?${new URLSearchParams({ prefix })}`));
  }

  /** Copy or move on the server: `key` or `prefix` on both sides. */
  async transfer(
    operation: 'copy' | 'move',
    source: { type: StorageType; key?: string; prefix?: string },
    destination: { type: StorageType; key?: string; prefix?: string },
  ): Promise<unknown> {
    return readJson(
      await this.request('POST', `/${operation}`, {
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ source, destination }),
      }),
    );
  }

  async signedUrl(type: StorageType, key: string, expiresInSeconds: number): Promise<string> {
    const query = new URLSearchParams({ expires_in: String(expiresInSeconds) });
    const response = await this.request('GET', `/${type}/get_signed_url/${encodeKey(key)}?${query}`);
    if (!response.ok) await readJson(response);
    return response.text();
  }

  async uploadUrl(type: StorageType, key: string, contentType: string): Promise<string> {
    const query = new URLSearchParams(contentType ? { content_type: contentType } : {});
    const response = await this.request('GET', `/${type}/new_resumable_url/${encodeKey(key)}?${query}`);
    if (!response.ok) await readJson(response);
    return response.text();
  }

  /** `PUT …/set/KEY` URL and headers, for uploads sent with progress events. */
  putTarget(type: StorageType, key: string): { url: string; headers: Record<string, string> } {
    return { url: `${BASE}/${type}/set/${encodeKey(key)}`, headers: { authorization: `Bearer ${this.token}` } };
  }

  private request(method: string, path: string, init: { headers?: Record<string, string>; body?: string } = {}): Promise<Response> {
    return fetch(`${BASE}${path}`, { method, body: init.body, headers: { authorization: `Bearer ${this.token}`, ...init.headers } });
  }
}

/** The JSON body of a success, or an ApiError with the server's code and message. */
async function readJson<T>(response: Response): Promise<T> {
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!response.ok) {
    const error = body as { code?: string; message?: string } | undefined;
    throw new ApiError(response.status, error?.code ?? `HTTP${response.status}`, error?.message ?? (text || response.statusText));
  }
  return body as T;
}
