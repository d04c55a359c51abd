import { type AllowedOrigins, corsHeaders, preflightHeaders } from './cors';
import { ALLOWED_METHODS } from './handle-query';
import { MEDIA_TYPES } from './representation';

/** An answer to a method the routes do not serve themselves. */
export interface MethodAnswer {
  statusCode: 204 | 405;
  headers: Record<string, string>;
  body: string;
}

/**
 * How every path of the API answers a method other than GET and HEAD (the API's routes and the
 * web page's files alike, so the two cannot drift): `OPTIONS` a 204 with `allow` and, for a CORS
 * preflight, the preflight headers; any other method a JSON 405 with `allow`. Undefined for GET
 * and HEAD, which the path's own route answers.
 */
export function answerOtherMethod(
  request: { method: string; headers: Readonly<Record<string, string | undefined>> },
  path: string,
  allowedOrigins: AllowedOrigins,
): MethodAnswer | undefined {
  const { method } = request;
  if (method === 'GET' || method === 'HEAD') return undefined;
  const origin = request.headers.origin;
  if (method === 'OPTIONS') {
    const preflight = request.headers['access-control-request-method'] !== undefined;
    return {
      statusCode: 204,
      headers: {
        allow: ALLOWED_METHODS,
        ...(preflight
          ? preflightHeaders(origin, allowedOrigins, ALLOWED_METHODS)
          : corsHeaders(origin, allowedOrigins)),
      },
      body: '',
    };
  }
  return {
    statusCode: 405,
    headers: {
      'content-type': MEDIA_TYPES.json,
      'cache-control': 'no-store',
      allow: ALLOWED_METHODS,
      ...corsHeaders(origin, allowedOrigins),
    },
    body: JSON.stringify({
      error: 'MethodNotAllowed',
      message: `${method} ${path}: only GET, HEAD and OPTIONS are allowed`,
    }),
  };
}
