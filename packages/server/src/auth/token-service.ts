import { errors, jwtVerify, SignJWT } from 'jose';
import { fail } from '../errors.js';

/** What a verified bearer token says. */
export interface Principal {
  /** The JWT `sub`: whose keys these are. */
  readonly tenant: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

const CACHE_LIMIT = 10_000;
const ISSUER = 'stowage';

/**
 * Issues and verifies HS256 JWTs whose `sub` names the tenant. Only HS256 is accepted (never
 * `none`, never an asymmetric algorithm keyed with the secret). Verified tokens are cached until
 * they expire, so a hot client costs one map lookup per request instead of an HMAC.
 */
export class TokenService {
  private readonly verified = new Map<string, Principal>();

  constructor(
    private readonly key: Uint8Array,
    private readonly clock: () => number = Date.now,
  ) {}

  async issue(tenant: string, ttlMs: number): Promise<{ token: string; expiresAt: number }> {
    const now = Math.floor(this.clock() / 1000);
    const exp = now + Math.max(1, Math.round(ttlMs / 1000));
    const token = await new SignJWT({})
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(tenant)
      .setIssuer(ISSUER)
      .setIssuedAt(now)
      .setExpirationTime(exp)
      .sign(this.key);
    return { token, expiresAt: exp * 1000 };
  }

  async verify(token: string): Promise<Principal> {
    const now = this.clock();
    const cached = this.verified.get(token);
    if (cached) {
      if (cached.expiresAt > now) return cached;
      this.verified.delete(token);
      throw fail('TokenExpired');
    }
    let payload: { sub?: unknown; exp?: unknown };
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
    const principal: Principal = { tenant: payload.sub, expiresAt: Number(payload.exp) * 1000 };
    if (this.verified.size >= CACHE_LIMIT) this.verified.clear();
    this.verified.set(token, principal);
    return principal;
  }
}
