import { decodeProtectedHeader, errors, jwtVerify, SignJWT } from 'jose';
import { fail } from '../errors.js';
import type { KeyScope } from '../storage/bucket-model.js';
import { parseKeyScope } from './api-keys.js';
import { JWKS_ALGORITHMS, type JwksVerifier } from './jwks-verifier.js';
import { assertUserId } from './user-id.js';

/** What a verified bearer token says. */
export interface Principal {
  /** The JWT `sub`: whose keys these are. */
  readonly tenant: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
  /** The scope of the API key the token was issued for, when that key is scoped. */
  readonly scope?: KeyScope | undefined;
  /** The API key the token was issued for (POST /auth/token), whose revocation ends the token too. */
  readonly keyId?: string | undefined;
  /** When a token of an API key is looked at again: whether its key was revoked since. */
  readonly recheckAt?: number | undefined;
}

/** What a token issued for an API key carries of it. */
export interface IssuedFor {
  readonly keyId: string;
  readonly scope?: KeyScope | undefined;
}

const CACHE_LIMIT = 10_000;
const ISSUER = 'stowage';
/** How long a token of an API key outlives the key's revocation, at most. */
export const KEY_RECHECK_MS = 30_000;

/**
 * Issues and verifies HS256 JWTs whose `sub` names the tenant and, when an identity provider is
 * configured, verifies its RS256/ES256 tokens against its JWKS. The token's header picks the
 * one key that may verify it: HS256 the server secret, RS256/ES256 the JWKS, anything else
 * (`none` included) is refused, so no token can choose to be checked with the wrong kind of key.
 * Verified tokens are cached until they expire, so a hot client costs one map lookup per request
 * instead of an HMAC or a signature check.
 */
export class TokenService {
  private readonly verified = new Map<string, Principal>();

  constructor(
    private readonly key: Uint8Array,
    private readonly clock: () => number = Date.now,
    private readonly external?: JwksVerifier,
    /** Whether an API key is still valid (not revoked): asked when a token of one is verified. */
    private readonly keyIsValid: (clientId: string) => Promise<boolean> = async () => true,
  ) {}

  /** A token for `tenant`; for an API key's exchange, it names the key and carries its scope. */
  async issue(tenant: string, ttlMs: number, issuedFor?: IssuedFor): Promise<{ token: string; expiresAt: number }> {
    assertUserId(tenant);
    const now = Math.floor(this.clock() / 1000);
    const exp = now + Math.max(1, Math.round(ttlMs / 1000));
    const claims = issuedFor ? { stw_key: issuedFor.keyId, ...(issuedFor.scope && { stw_scope: issuedFor.scope }) } : {};
    const token = await new SignJWT(claims)
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(tenant)
      .setIssuer(ISSUER)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(this.key);
    return { token, expiresAt: exp * 1000 };
  }

  async verify(token: string): Promise<Principal> {
    const cached = this.verifiedBefore(token);
    if (cached) return cached;
    const principal = await this.verifyUncached(token, this.clock());
    if (this.verified.size >= CACHE_LIMIT) this.verified.clear();
    this.verified.set(token, principal);
    return principal;
  }

  /**
   * The principal of a token verified before and not yet expired, without a promise: the hot
   * path of every request. Undefined when it must be verified (`verify`); TokenExpired once the
   * cached token expired.
   */
  verifiedBefore(token: string): Principal | undefined {
    const cached = this.verified.get(token);
    if (!cached) return undefined;
    const now = this.clock();
    if (cached.recheckAt !== undefined && cached.recheckAt <= now) {
      // Its API key may have been revoked since: verify it again (verify asks).
      this.verified.delete(token);
      return undefined;
    }
    if (cached.expiresAt > now) return cached;
    this.verified.delete(token);
    throw fail('TokenExpired');
  }

  private async verifyUncached(token: string, now: number): Promise<Principal> {
    const alg = algorithmOf(token);
    if (alg !== 'HS256') {
      if (this.external && JWKS_ALGORITHMS.includes(alg)) return this.external.verify(token);
      throw fail('InvalidToken', `Tokens signed with ${JSON.stringify(alg.slice(0, 32))} are not accepted`);
    }
    let payload: { sub?: unknown; exp?: unknown; stw_key?: unknown; stw_scope?: unknown };
    try {
      ({ payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        requiredClaims: ['sub', 'exp'],
        currentDate: new Date(now),
      }));
    } catch (error) {
      if (error instanceof errors.JWTExpired) throw fail('TokenExpired');
      throw fail('InvalidToken', `The bearer token is not valid: ${(error as Error).message}`);
    }
    if (typeof payload.sub !== 'string' || payload.sub.length === 0) throw fail('InvalidToken', 'The token has no subject (sub)');
    const principal = { tenant: assertUserId(payload.sub), expiresAt: Number(payload.exp) * 1000 };
    if (payload.stw_key === undefined) return principal;
    if (typeof payload.stw_key !== 'string') throw fail('InvalidToken', 'The token names its API key wrongly');
    if (!(await this.keyIsValid(payload.stw_key))) throw fail('InvalidToken', 'The API key this token was issued for was revoked');
    let scope: KeyScope | undefined;
    try {
      scope = parseKeyScope(payload.stw_scope);
    } catch {
      throw fail('InvalidToken', 'The token has a scope that cannot be read');
    }
    return { ...principal, keyId: payload.stw_key, scope, recheckAt: now + KEY_RECHECK_MS };
  }
}

function algorithmOf(token: string): string {
  try {
    const { alg } = decodeProtectedHeader(token);
    if (typeof alg === 'string') return alg;
  } catch {
    // Reported below, as for a header without alg.
  }
  throw fail('InvalidToken', 'The bearer token is not a JWT with an algorithm in its header');
}
