import { readFileSync } from 'node:fs';
import { type AllowedOrigins, corsHeaders } from './cors';
import type { HttpRequest } from './http-api';
import { answerOtherMethod } from './methods';

/**
 * The query API's web page (`GET /`) and its two static files (`GET /web/page.css`,
 * `GET /web/page.js`), served by the query handler itself so the page makes no request
 * anywhere else. The files live in `web/` beside this module; a Lambda bundle has them
 * copied to `web/` beside `index.mjs` (`infra/pipeline-function.ts`), where the same URL
 * resolves. They are read on the first request for each, not at cold start, and kept.
 */

/** A response for the Function URL as is: a text body, not JSON. */
export interface WebAssetResponse {
  /** 200 for GET and HEAD, 204 for OPTIONS, 405 for any other method. */
  statusCode: 200 | 204 | 405;
  headers: Record<string, string>;
  /** Empty for HEAD and OPTIONS. */
  body: string;
}

/** The page's paths and their files; exported for the OpenAPI document, which describes each. */
export const WEB_ASSETS = {
  '/': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/web/page.css': { file: 'page.css', contentType: 'text/css; charset=utf-8' },
  '/web/page.js': { file: 'page.js', contentType: 'text/javascript; charset=utf-8' },
} as const satisfies Readonly<Record<string, { file: string; contentType: string }>>;
export type WebAssetPath = keyof typeof WEB_ASSETS;

/** What the page may load and call: itself, nothing else (no inline script, no third party). */
const CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; " +
  "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

const cache = new Map<string, string>();

/** The directory the files are read from, for the bundling step that copies it. */
export const WEB_ASSETS_DIRECTORY = new URL('./web/', import.meta.url);

/**
 * The OpenAPI document `GET /openapi.json` serves (`http-api.ts`), written from `openapi.ts` by
 * `npm run openapi` and copied with the page's files. Generating it at run time put zod's JSON
 * Schema conversion, the response schemas and the route tables (~33 KB) into the query bundle,
 * which every cold start parsed for a route few requests take.
 */
export const OPENAPI_DOCUMENT_FILE = new URL('openapi.json', WEB_ASSETS_DIRECTORY);

/** Whether `path` is the page's or one of its files' (as sent: no trailing slash taken off). */
export function isWebAssetPath(path: string): boolean {
  return Object.hasOwn(WEB_ASSETS, path);
}

/**
 * The answer to a request for the page or one of its files, with the API's HTTP semantics
 * (`http-api.ts`): `GET` serves the file; `HEAD` answers with GET's status and headers
 * (`content-length` included) and no body; `OPTIONS` answers 204 with `allow` and, for a CORS
 * preflight, the API's preflight headers; any other method a JSON 405 with `allow`, as the API's
 * routes do (`methods.ts`, shared by both). `undefined` for any other path, which the JSON API answers.
 * @throws when the file cannot be read (a bundle deployed without `web/`): a 500, logged.
 */
export function webAsset(
  request: Pick<HttpRequest, 'method' | 'path' | 'headers'>,
  allowedOrigins: AllowedOrigins,
): WebAssetResponse | undefined {
  if (!isWebAssetPath(request.path)) return undefined;
  const asset = WEB_ASSETS[request.path as WebAssetPath];
  const otherMethod = answerOtherMethod(request, request.path, allowedOrigins);
  if (otherMethod) return otherMethod;
  let body = cache.get(asset.file);
  if (body === undefined) {
    body = readFileSync(new URL(asset.file, WEB_ASSETS_DIRECTORY), 'utf8');
    cache.set(asset.file, body);
  }
  const headers = {
    // As on every answer of the API (the page itself is same-origin and needs none).
    ...corsHeaders(request.headers.origin, allowedOrigins),
    'content-type': asset.contentType,
    // Short: a deployment's new page reaches browsers within minutes.
    'cache-control': 'public, max-age=300',
    'content-security-policy': CONTENT_SECURITY_POLICY,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
  };
  if (request.method === 'HEAD') {
    return {
      statusCode: 200,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
      body: '',
    };
  }
  return { statusCode: 200, headers, body };
}
