import { readFileSync } from 'node:fs';

/**
 * The query API's web page (`GET /`) and its two static files (`GET /web/page.css`,
 * `GET /web/page.js`), served by the query handler itself so the page makes no request
 * anywhere else. The files live in `web/` beside this module; a Lambda bundle has them
 * copied to `web/` beside `index.mjs` (`infra/pipeline-function.ts`), where the same URL
 * resolves. They are read on the first request for each, not at cold start, and kept.
 */

/** A response for the Function URL as is: a text body, not JSON. */
export interface WebAssetResponse {
  statusCode: 200;
  headers: Record<string, string>;
  body: string;
}

const ASSETS: Readonly<Record<string, { file: string; contentType: string }>> = {
  '/': { file: 'index.html', contentType: 'text/html; charset=utf-8' },
  '/web/page.css': { file: 'page.css', contentType: 'text/css; charset=utf-8' },
  '/web/page.js': { file: 'page.js', contentType: 'text/javascript; charset=utf-8' },
};

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

/**
 * The page or one of its files for a `GET` of its path; `undefined` for any other request,
 * which the JSON API answers (a 404 or 405 there, as for any unknown route).
 * @throws when the file cannot be read (a bundle deployed without `web/`): a 500, logged.
 */
export function webAsset(method: string, path: string): WebAssetResponse | undefined {
  const asset = Object.hasOwn(ASSETS, path) ? ASSETS[path] : undefined;
  if (!asset || method !== 'GET') return undefined;
  let body = cache.get(asset.file);
  if (body === undefined) {
    body = readFileSync(new URL(asset.file, WEB_ASSETS_DIRECTORY), 'utf8');
    cache.set(asset.file, body);
  }
  return {
    statusCode: 200,
    headers: {
      'content-type': asset.contentType,
      // Short: a deployment's new page reaches browsers within minutes.
      'cache-control': 'public, max-age=300',
      'content-security-policy': CONTENT_SECURITY_POLICY,
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
    },
    body,
  };
}
