import { AuthError, StorageError } from './errors.js';
import type { HttpTransportFactory } from './http-transport.js';
import { AUTH_TOKEN_PATH } from './protocol.js';
import { Retry } from './retry.js';
import { DEFAULT_TIMEOUT, Transport } from './transport.js';

/** Options of {@link Auth}. Anything not given is looked up in the environment, then the token file. */
export interface AuthOptions {
  /** A JWT to use as is. */
  token?: string;
  /** API key id, exchanged with `clientSecret` (or `refreshToken`) for JWTs at `{domain}/token`. */
  clientId?: string;
  clientSecret?: string;
  refreshToken?: string;
  /** Base URL of the token endpoint, e.g. `http://127.0.0.1:8787/auth`. Default: the storage server's `/auth`. */
  domain?: string;
  /** Token file (Node only). Default `STOWAGE_TOKEN_INFO_PATH` or `~/.stowage/token_info.json`. */
  tokenInfoPath?: string;
  /** Refresh this many seconds before the token expires. Default 60. */
  refreshLeewaySeconds?: number;
  /** Environment to read (tests pass their own). Default `process.env` on Node, none elsewhere. */
  env?: Record<string, string | undefined>;
  /**
   * Retry policy of token requests made outside a `Storage` call (`auth.refresh()`);
   * inside one, the token request shares that call's transport and policy. Default `new Retry()`.
   */
  retries?: Retry;
  /** `[connect, read]` timeouts in seconds of those token requests. Default `[9.5, 120]`. */
  timeout?: readonly [number, number];
}

/** The token file: the same fields as the Python client's `token_info.json`. */
export interface TokenInfo {
  client_id?: string;
  client_secret?: string;
  refresh_token?: string;
  JWT_TOKEN?: string;
  jwt_token?: string;
}

/** Where tokens are kept between runs (Node: the token file). */
export interface TokenStore {
  /** How to tell a user where it is, e.g. the file's path. */
  readonly description: string;
  /** The stored fields; undefined when there is nothing stored. */
  read(): Promise<TokenInfo | undefined>;
  write(info: TokenInfo): Promise<void>;
}

const first = (...values: Array<string | undefined>) => values.find((v) => v !== undefined && v !== '');

/**
 * Credentials for the storage API: a JWT, refreshed through `POST {domain}/token` before it
 * expires when an API key (client id + secret) is known. Sources, first found wins per field:
 * the constructor, then `STOWAGE_TOKEN` / `STOWAGE_CLIENT_ID` / `STOWAGE_CLIENT_SECRET` /
 * `STOWAGE_REFRESH_TOKEN` (or their `DESCARTESLABS_*` twins) in `env`, then the token file (Node).
 *
 * @example
 * const auth = new Auth({ clientId: 'stw_…', clientSecret: '…' });
 * const storage = new Storage({ auth });
 */
export class Auth {
  private token: string | undefined;
  private clientId: string | undefined;
  private secret: string | undefined;
  private domain: string | undefined;
  private readonly leewayMs: number;
  private readonly options: AuthOptions;
  private loaded: Promise<void> | undefined;
  /** The token file was read (or is not needed): {@link currentToken} may answer without waiting. */
  private ready = false;
  /** The token whose expiry is in `expiresAtMs`, so that a JWT is decoded once, not on every call. */
  private claimsOf: string | undefined;
  private expiresAtMs: number | undefined;
  private refreshing: Promise<string> | undefined;
  private fromFile = false;
  private ownTransport: Transport | undefined;

  constructor(options: AuthOptions = {}) {
    this.options = options;
    const env = options.env ?? {};
    this.token = first(options.token, env.STOWAGE_TOKEN, env.DESCARTESLABS_TOKEN);
    this.clientId = first(options.clientId, env.STOWAGE_CLIENT_ID, env.DESCARTESLABS_CLIENT_ID);
    this.secret = first(
      options.clientSecret,
      options.refreshToken,
      env.STOWAGE_CLIENT_SECRET,
      env.STOWAGE_REFRESH_TOKEN,
      env.DESCARTESLABS_CLIENT_SECRET,
      env.DESCARTESLABS_REFRESH_TOKEN,
    );
    this.domain = first(options.domain, env.STOWAGE_AUTH_URL);
    this.leewayMs = (options.refreshLeewaySeconds ?? 60) * 1000;
  }

  /** The token endpoint's base, when none was configured: `{origin of the storage URL}/auth`. */
  useDefaultDomain(storageUrl: string): void {
    this.domain ??= new URL(AUTH_TOKEN_PATH, storageUrl).href.replace(/\/token$/, '');
  }

  /** Whether a new token can be obtained (an API key is known). */
  get canRefresh(): boolean {
    return this.clientId !== undefined && this.secret !== undefined;
  }

  /** The subject (user) of the current token, if a token is known. */
  get subject(): string | undefined {
    return this.token ? decodeClaims(this.token)?.sub : undefined;
  }

  /** A valid JWT: the current one, or a fresh one when it expires within the leeway. */
  getToken(): Promise<string> {
    return this.tokenVia(undefined);
  }

  /**
   * {@link getToken} for a storage call: a refresh goes through that call's transport, with its
   * retries and timeouts; without one, through this Auth's own.
   * @internal
   */
  async tokenVia(via: Transport | undefined): Promise<string> {
    this.loaded ??= this.loadTokenFile().then(() => {
      this.ready = true;
    });
    await this.loaded;
    if (this.token && !this.expiresSoon(this.token)) return this.token;
    if (this.canRefresh) return this.refreshVia(via);
    if (this.token) return this.token;
    throw new AuthError(
      'No storage credentials found. Set STOWAGE_TOKEN, or STOWAGE_CLIENT_ID with STOWAGE_CLIENT_SECRET, ' +
        `or pass { token } or { clientId, clientSecret } to Auth${this.store ? `, or write ${this.store.description} (stowage login)` : ''}.`,
    );
  }

  /**
   * The current token when it is known and not about to expire, without waiting; otherwise
   * undefined, and {@link tokenVia} finds one (reading the token file, or refreshing).
   * @internal
   */
  currentToken(): string | undefined {
    const token = this.token;
    return this.ready && token && !this.expiresSoon(token) ? token : undefined;
  }

  /** Forgets the current token (e.g. after a 401) so the next call refreshes when it can. */
  invalidate(): void {
    if (this.canRefresh) this.token = undefined;
  }

  /**
   * Exchanges the API key for a new JWT (one exchange at a time, shared by concurrent callers),
   * with this Auth's own `retries` and `timeout`.
   */
  refresh(): Promise<string> {
    return this.refreshVia(undefined);
  }

  private refreshVia(via: Transport | undefined): Promise<string> {
    this.refreshing ??= this.exchange(via).finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  /** Closes the connections of token requests made outside a storage call. The Auth stays usable. */
  async close(): Promise<void> {
    const transport = this.ownTransport;
    this.ownTransport = undefined;
    await transport?.close();
  }

  private async exchange(via: Transport | undefined): Promise<string> {
    if (!this.clientId || !this.secret) throw new AuthError('Cannot refresh the token: no client id and secret are configured');
    if (!this.domain) throw new AuthError('Cannot refresh the token: no auth domain is configured (set STOWAGE_AUTH_URL)');
    const transport = via ?? this.transportOfOwn(this.domain);
    const json = new TextEncoder().encode(
      JSON.stringify({ client_id: this.clientId, refresh_token: this.secret, grant_type: 'refresh_token' }),
    );
    let body: { access_token?: string; id_token?: string } | undefined;
    try {
      body = await transport.send(
        {
          method: 'POST',
          url: `${this.domain.replace(/\/$/, '')}/token`,
          headers: { 'content-type': 'application/json' },
          body: { create: () => json, replayable: true, length: json.length },
          anonymous: true,
          // Exchanging a key for a token changes nothing on the server, so the POST may be repeated.
          retry: transport.options.retry.alsoRetrying('POST'),
        },
        async (response) => (await response.body.json().catch(() => undefined)) as typeof body,
      );
    } catch (error) {
      // The server refused the exchange: a credentials problem, whatever the status. Network
      // failures and timeouts stay what they are.
      if (!(error instanceof StorageError) || error.status === undefined) throw error;
      throw new AuthError(`Token refresh failed: ${error.message}`, {
        status: error.status,
        code: error.code,
        requestId: error.requestId,
        cause: error,
      });
    }
    const token = body?.access_token ?? body?.id_token;
    if (!token) throw new AuthError('Token refresh answered without a token');
    this.token = token;
    if (this.store && (this.fromFile || this.options.tokenInfoPath)) await this.saveTokenFile(this.store);
    return token;
  }

  private transportOfOwn(domain: string): Transport {
    this.ownTransport ??= new Transport({
      baseUrl: domain,
      retry: this.options.retries ?? new Retry(),
      timeout: this.options.timeout ?? DEFAULT_TIMEOUT,
      http: this.httpTransport,
    });
    return this.ownTransport;
  }

  private expiresSoon(token: string): boolean {
    if (token !== this.claimsOf) {
      const exp = decodeClaims(token)?.exp;
      this.claimsOf = token;
      this.expiresAtMs = typeof exp === 'number' ? exp * 1000 : undefined;
    }
    return this.expiresAtMs !== undefined && this.expiresAtMs - Date.now() < this.leewayMs;
  }

  /** Where tokens persist; none in the universal client (Node's Auth keeps the token file). */
  protected get store(): TokenStore | undefined {
    return undefined;
  }

  /** The HTTP stack of token requests made outside a storage call. Default: fetch. */
  protected get httpTransport(): HttpTransportFactory | undefined {
    return undefined;
  }

  private async loadTokenFile(): Promise<void> {
    if (this.token && this.canRefresh) return;
    const info = await this.store?.read();
    if (!info) return;
    this.fromFile = true;
    this.clientId ??= first(info.client_id);
    this.secret ??= first(info.client_secret, info.refresh_token);
    this.token ??= first(info.JWT_TOKEN, info.jwt_token);
  }

  private async saveTokenFile(store: TokenStore): Promise<void> {
    let info: TokenInfo = {};
    try {
      info = (await store.read()) ?? {};
    } catch {
      // A missing or broken file is replaced whole.
    }
    info = { ...info, client_id: this.clientId, JWT_TOKEN: this.token };
    if (this.secret && !info.refresh_token && !info.client_secret) info.client_secret = this.secret;
    await store.write(info);
  }
}

/** The claims of a JWT, without verifying it (the server does that). */
export function decodeClaims(token: string): { sub?: string; exp?: number } | undefined {
  try {
    const base64 = (token.split('.')[1] ?? '').replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64.padEnd(Math.ceil(base64.length / 4) * 4, '='));
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(binary, (char) => char.charCodeAt(0))));
  } catch {
    return undefined;
  }
}
