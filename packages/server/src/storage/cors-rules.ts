/** The methods a CORS rule may allow (S3's AllowedMethod values). */
export const CORS_METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'] as const;
export type CorsMethod = (typeof CORS_METHODS)[number];

/**
 * One rule of a bucket's CORS configuration, as S3's CORSRule: which origins may send which
 * methods with which request headers, which response headers their pages may read, and how long
 * a browser may keep a preflight's answer. An origin or header pattern may hold one `*`.
 */
export interface CorsRule {
  readonly id?: string | undefined;
  readonly allowedOrigins: readonly string[];
  readonly allowedMethods: readonly CorsMethod[];
  /** Header name patterns, matched without regard to case. */
  readonly allowedHeaders: readonly string[];
  readonly exposeHeaders: readonly string[];
  readonly maxAgeSeconds?: number | undefined;
}

/** A cross-origin request to judge: its Origin, its method (a preflight's Access-Control-Request-Method), the headers a preflight asks for. */
export interface CorsRequest {
  readonly origin: string;
  readonly method: string;
  readonly headers: readonly string[];
}

/**
 * The first rule that allows the request, as S3 picks it: the origin matches one of its origins,
 * the method is one of its methods, and every requested header matches one of its headers.
 */
export function findCorsRule(rules: readonly CorsRule[], request: CorsRequest): CorsRule | undefined {
  return rules.find(
    (rule) =>
      rule.allowedOrigins.some((pattern) => wildcardMatch(pattern, request.origin)) &&
      (rule.allowedMethods as readonly string[]).includes(request.method) &&
      request.headers.every((header) => rule.allowedHeaders.some((pattern) => wildcardMatch(pattern.toLowerCase(), header.toLowerCase()))),
  );
}

/** `pattern` with at most one `*`, which stands for any run of characters (none included). */
export function wildcardMatch(pattern: string, value: string): boolean {
  const star = pattern.indexOf('*');
  if (star < 0) return pattern === value;
  const head = pattern.slice(0, star);
  const tail = pattern.slice(star + 1);
  return value.length >= head.length + tail.length && value.startsWith(head) && value.endsWith(tail);
}

/** The header names of an Access-Control-Request-Headers value, lower-case. */
export function requestedHeaders(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter(Boolean);
}
