import { createRemoteJWKSet, errors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { fail } from '../errors.js';
import type { Principal } from './token-service.js';
import { assertUserId } from './user-id.js';

/** Algorithms accepted from the identity provider: asymmetric only, so its keys can be public. */
export const JWKS_ALGORITHMS = ['RS256', 'ES256'];

export interface JwksOptions {
  readonly url: string;
  /** Required `iss`. */
  readonly issuer: string;
  /** Required `aud`. */
  readonly audience: string;
  /** Claim that names the tenant (e.g. `sub`, `email`). */
  readonly tenantClaim: string;
  /** Longest wait for the JWKS document, in ms. */
  readonly timeoutMs: number;
  readonly clock: () => number;
}

/** The identity provider could not be asked (down, slow, or answering something that is not a JWKS). */
class JwksUnavailable extends Error {}

/**
 * Verifies RS256/ES256 tokens of an external identity provider against its published keys
 * (JWKS). Keys are fetched on first use and cached (10 minutes); an unknown `kid` refetches them
 * at most every 30 seconds, so a key rotation is picked up without a restart and a stream of
 * forged kids cannot turn into a stream of fetches.
 */
export class JwksVerifier {
  private readonly keys: JWTVerifyGetKey;

  constructor(private readonly options: JwksOptions) {
    const remote = createRemoteJWKSet(new URL(options.url), { timeoutDuration: options.timeoutMs });
    this.keys = async (header, token) => {
      try {
        return await remote(header, token);
      } catch (error) {
        // No key for this token is the token's fault; any other failure is the provider's.
        if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) throw error;
        throw new JwksUnavailable(describeFailure(error, options), { cause: error });
      }
    };
  }

  async verify(token: string): Promise<Principal> {
    const { tenantClaim } = this.options;
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        algorithms: JWKS_ALGORITHMS,
        issuer: this.options.issuer,
        audience: this.options.audience,
        requiredClaims: ['exp', tenantClaim],
        currentDate: new Date(this.options.clock()),
      }));
    } catch (error) {
      if (error instanceof JwksUnavailable) throw fail('ServiceUnavailable', error.message);
      if (error instanceof errors.JWTExpired) throw fail('TokenExpired');
      throw fail('InvalidToken', `The bearer token is not valid: ${(error as Error).message}`);
    }
    const tenant = payload[tenantClaim];
    if (typeof tenant !== 'string' || tenant.length === 0) {
      throw fail('InvalidToken', `The token's "${tenantClaim}" claim, which names the user, is not a non-empty string`);
    }
    return { tenant: assertUserId(tenant), expiresAt: Number(payload.exp) * 1000 };
  }
}

function describeFailure(error: unknown, options: JwksOptions): string {
  const where = `the identity provider's keys (${options.url})`;
  if (error instanceof errors.JWKSTimeout) return `Could not verify the token: ${where} did not answer within ${options.timeoutMs} ms`;
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const reason = cause?.code ?? cause?.message ?? (error as Error).message;
  return `Could not verify the token: fetching ${where} failed (${reason})`;
}
