import * as z from '../zod';

/**
 * The routes the HTTP layer (`http-api.ts`) answers itself, around the query handler's: a health
 * check, the OpenAPI document and the Atom feeds. Like `ROUTE_NAMES`, each must be described in
 * the OpenAPI document (`openapi.ts`).
 */
export const HTTP_ROUTE_NAMES = [
  'GET /health',
  'GET /openapi.json',
  'GET /feeds/daily.xml',
  'GET /feeds/categories/{code}.xml',
] as const;
export type HttpRouteName = (typeof HTTP_ROUTE_NAMES)[number];

export const HTTP_ROUTES_HELP =
  'GET /feeds/daily.xml, GET /feeds/categories/{code}.xml, GET /openapi.json, GET /health';

/** None of them takes query parameters. */
export const NoQuerySchema = z.strictObject({});

/** How many days a category feed covers, today included. */
export const CATEGORY_FEED_DAYS = 14;
/** The most entries a feed holds (a day has had fewer than 150 papers). */
export const MAX_FEED_ENTRIES = 300;

const CATEGORY_FEED_PATH = /^\/feeds\/categories\/([^/]+)\.xml$/;

export type HttpRouteMatch =
  | { name: Exclude<HttpRouteName, 'GET /feeds/categories/{code}.xml'> }
  | {
      name: 'GET /feeds/categories/{code}.xml';
      /** As sent: percent-decoding it may fail, which is the client's 400. */
      rawCode: string;
    };

/** The HTTP layer's own route for `path` (without trailing slashes), if it is one. */
export function matchHttpRoute(path: string): HttpRouteMatch | undefined {
  if (path === '/health') return { name: 'GET /health' };
  if (path === '/openapi.json') return { name: 'GET /openapi.json' };
  if (path === '/feeds/daily.xml') return { name: 'GET /feeds/daily.xml' };
  const category = CATEGORY_FEED_PATH.exec(path);
  if (category?.[1] !== undefined) return { name: 'GET /feeds/categories/{code}.xml', rawCode: category[1] };
  return undefined;
}
