import * as z from '../zod';

/**
 * Cross-origin access for browser clients of other teams. The API is read-only and uses no
 * cookies, so any origin may read it by default (`*`); a deployment can name its origins instead
 * (`QUERY_CORS_ALLOWED_ORIGINS=https://a.example,https://b.example`), and then only those get the
 * `access-control-allow-origin` header. On AWS the Function URL answers preflights itself from the
 * same list (an unsigned OPTIONS never reaches an AWS_IAM function); this answers them locally and
 * behind the optional CloudFront front.
 */

export type AllowedOrigins = '*' | readonly string[];

const ORIGIN = /^https?:\/\/[a-z0-9.-]+(?::\d{1,5})?$/i;

/** `*`, or origins (`https://host[:port]`) separated by commas. */
export const AllowedOriginsSchema = z.pipe(
  z._default(z.string().check(z.trim()), '*'),
  z.transform((value, context): AllowedOrigins => {
    if (value === '*') return '*';
    const origins = value
      .split(',')
      .map((origin) => origin.trim())
      .filter(Boolean);
    const bad = origins.find((origin) => !ORIGIN.test(origin));
    if (bad !== undefined || origins.length === 0) {
      context.issues.push({
        code: 'custom',
        input: value,
        message: `must be * or origins such as https://app.example.com separated by commas${bad ? `, got "${bad}"` : ''}`,
      });
      return z.NEVER;
    }
    return origins.map((origin) => origin.toLowerCase());
  }),
);

/** Headers a browser may send with a request, beyond the safelisted ones: SigV4's and revalidation's. */
export const CORS_ALLOWED_HEADERS = [
  'authorization',
  'content-type',
  'if-none-match',
  'x-amz-content-sha256',
  'x-amz-date',
  'x-amz-security-token',
];
/** Response headers a browser script may read, beyond the safelisted ones. */
export const CORS_EXPOSED_HEADERS = ['etag', 'link', 'content-length'];
export const CORS_MAX_AGE_SECONDS = 86_400;

/**
 * The CORS headers of an answer to a request from `origin` (undefined when none was sent): with any
 * origin allowed, the same headers either way; with an allow-list, the origin echoed when listed.
 */
export function corsHeaders(origin: string | undefined, allowed: AllowedOrigins): Record<string, string> {
  if (allowed === '*') {
    // The same headers whether or not Origin was sent: a shared cache may keep an answer to a
    // request without it (curl, a CDN's own fetch) and give it to a browser, which needs them.
    return {
      'access-control-allow-origin': '*',
      'access-control-expose-headers': CORS_EXPOSED_HEADERS.join(', '),
    };
  }
  // The answer depends on Origin: caches must keep one copy per origin.
  const vary = { vary: 'origin' };
  if (origin === undefined || !allowed.includes(origin.toLowerCase())) return vary;
  return {
    ...vary,
    'access-control-allow-origin': origin,
    'access-control-expose-headers': CORS_EXPOSED_HEADERS.join(', '),
  };
}

/** The extra headers of a preflight answer (an OPTIONS with `access-control-request-method`) from an allowed origin. */
export function preflightHeaders(
  origin: string | undefined,
  allowed: AllowedOrigins,
  allowMethods: string,
): Record<string, string> {
  const headers = corsHeaders(origin, allowed);
  if (!('access-control-allow-origin' in headers)) return headers;
  return {
    ...headers,
    'access-control-allow-methods': allowMethods,
    'access-control-allow-headers': CORS_ALLOWED_HEADERS.join(', '),
    'access-control-max-age': String(CORS_MAX_AGE_SECONDS),
  };
}
