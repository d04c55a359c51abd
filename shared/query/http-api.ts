import { readFileSync } from 'node:fs';
import type { IsoDate } from '../paper';
import type { ListedPaper } from '../store/items';
import type { PaperReader } from '../store/paper-store';
import * as z from '../zod';
import { renderAtomFeed } from './atom-feed';
import { type AllowedOrigins, corsHeaders } from './cors';
import { BadParameterError } from './errors';
import { handleQuery, matchRoute, ROUTES_HELP } from './handle-query';
import {
  CATEGORY_FEED_DAYS,
  HTTP_ROUTES_HELP,
  type HttpRouteMatch,
  MAX_FEED_ENTRIES,
  matchHttpRoute,
  NoQuerySchema,
} from './http-routes';
import { answerOtherMethod } from './methods';
import { addDays, CategoryCodeSchema, parseParameters, parseQueryString } from './parameters';
import {
  cacheControl,
  entityTag,
  MEDIA_TYPES,
  matchesIfNoneMatch,
  negotiateFormat,
  newestDayOf,
  renderBody,
} from './representation';
import { OPENAPI_DOCUMENT_FILE } from './web-page';

/**
 * The query API as HTTP: everything between a request (method, path, query string, headers) and
 * the bytes of its answer, around the query handler's values (`handle-query.ts`).
 *
 * - `HEAD` is a `GET` without the body (same status and headers); `OPTIONS` on a route answers 204
 *   with `allow` and, for a CORS preflight from an allowed origin, the preflight headers.
 * - JSON by default; `format=csv` or `Accept: text/csv` gives CSV on list and record routes.
 * - A 200 carries a strong `ETag` and `Cache-Control` (a day for answers about listing days more
 *   than 14 days old, 5 minutes otherwise); `If-None-Match` with the current tag answers 304.
 * - A list page with a cursor carries `Link: <…>; rel="next"`.
 * - Its own routes: `GET /health`, `GET /openapi.json`, the Atom feeds.
 * - Errors are JSON `{error, message, parameter?}` and never cached (`no-store`).
 */

export interface HttpRequest {
  method: string;
  /** As sent, percent-encoding included. */
  path: string;
  /** Without the `?`. */
  rawQueryString: string;
  /** Names in lower case. */
  headers: Readonly<Record<string, string | undefined>>;
}

/** A Lambda Function URL event (payload v2) as the request it carries. */
export function httpRequestOf(event: {
  requestContext?: { http?: { method?: string } };
  rawPath?: string;
  rawQueryString?: string;
  headers?: Record<string, string | undefined>;
}): HttpRequest {
  return {
    method: event.requestContext?.http?.method ?? 'GET',
    path: event.rawPath ?? '/',
    rawQueryString: event.rawQueryString ?? '',
    headers: event.headers ?? {},
  };
}

export interface HttpResponse {
  statusCode: number;
  headers: Record<string, string>;
  /** Empty for 204, 304 and HEAD. */
  body: string;
  /** The route matched, for logs; absent when none did. */
  route?: string;
}

export interface HttpApiOptions {
  allowedOrigins: AllowedOrigins;
  /** Today's date (UTC); injectable for tests. */
  today?: () => IsoDate;
}

const JSON_TYPE = MEDIA_TYPES.json;
const ATOM_TYPE = 'application/atom+xml; charset=utf-8';
const NO_STORE = 'no-store';

/** A route's answer before the HTTP-level headers (CORS, ETag, HEAD) are added. */
interface Answer {
  statusCode: number;
  contentType: string;
  body: string;
  cacheControl: string;
  route?: string;
  extraHeaders?: Record<string, string>;
}

/**
 * The request headers an answer depends on, and the only ones {@link answerHttpRequest} reads:
 * content negotiation, CORS, the conditional GET, and the base URL of a feed's links. A cache
 * of answers (`papers serve`'s, CloudFront's) keys on these and nothing else.
 */
export const ANSWER_REQUEST_HEADERS = [
  'accept',
  'origin',
  'access-control-request-method',
  'if-none-match',
  'host',
  'x-forwarded-host',
  'x-forwarded-proto',
] as const;

/**
 * Answers one request. Never throws for anything a client sends; an error of the store other
 * than a bad cursor (an outage) propagates, for the caller to log and answer with a 500.
 */
export async function answerHttpRequest(
  sent: HttpRequest,
  reader: PaperReader,
  { allowedOrigins, today = utcToday }: HttpApiOptions,
): Promise<HttpResponse> {
  // Only these headers reach the routes, so no answer can depend on another one.
  const headers: Record<string, string | undefined> = {};
  for (const name of ANSWER_REQUEST_HEADERS) headers[name] = sent.headers[name];
  const request: HttpRequest = { ...sent, headers };
  const path = request.path.length > 1 ? request.path.replace(/\/+$/, '') : request.path;
  const own = matchHttpRoute(path);
  const known = own !== undefined || matchRoute(path) !== undefined;
  if (!known) {
    return finish(request, allowedOrigins, {
      ...errorAnswer(404, 'NotFound', `no route for ${path}; routes: ${ROUTES_HELP}, ${HTTP_ROUTES_HELP}`),
    });
  }
  const otherMethod = answerOtherMethod(request, path, allowedOrigins);
  if (otherMethod) return otherMethod;
  let answer: Answer;
  try {
    answer = own
      ? await answerOwnRoute(own, request.rawQueryString, reader, today(), baseUrlOf(request.headers))
      : await answerQuery(path, request, reader, today());
  } catch (error) {
    if (!(error instanceof BadParameterError)) throw error;
    answer = {
      ...errorAnswer(400, 'BadRequest', error.message, {
        parameter: error.parameter,
        ...(error.suggestions ? { suggestions: [...error.suggestions] } : {}),
      }),
      route: own?.name,
    };
  }
  return finish(request, allowedOrigins, answer);
}

/** A query-handler route: its value rendered as the client asked. */
async function answerQuery(path: string, request: HttpRequest, reader: PaperReader, today: IsoDate) {
  const { format, rest } = takeFormat(request.rawQueryString);
  const chosen = negotiateFormat(format, request.headers.accept);
  const response = await handleQuery({ method: 'GET', path, rawQueryString: rest }, reader, {
    today: () => today,
  });
  if (response.statusCode !== 200) {
    return {
      statusCode: response.statusCode,
      contentType: JSON_TYPE,
      body: JSON.stringify(response.body),
      cacheControl: NO_STORE,
      route: response.route,
    };
  }
  const parameters = Object.fromEntries(new URLSearchParams(rest));
  const cursor = (response.body as { cursor?: unknown }).cursor;
  return {
    statusCode: 200,
    contentType: MEDIA_TYPES[chosen],
    body: renderBody(response.body, chosen, response.route),
    cacheControl: cacheControl(newestDayOf(response.route, parameters, response.body), today),
    route: response.route,
    extraHeaders: {
      // The representation depends on Accept unless format chose it.
      ...(format === undefined ? { vary: 'accept' } : {}),
      ...(typeof cursor === 'string'
        ? { link: `<${nextPageUrl(path, request.rawQueryString, cursor)}>; rel="next"` }
        : {}),
    },
  } satisfies Answer;
}

/**
 * Splits `format` off a raw query string (the query handler's routes do not know it), keeping
 * every other parameter exactly as sent.
 * @throws BadParameterError when `format` is given more than once.
 */
function takeFormat(rawQueryString: string): { format?: string; rest: string } {
  const kept: string[] = [];
  const formats: string[] = [];
  for (const segment of rawQueryString.split('&')) {
    const [entry] = new URLSearchParams(segment);
    if (entry?.[0] === 'format') formats.push(entry[1]);
    else if (segment !== '') kept.push(segment);
  }
  if (formats.length > 1) throw new BadParameterError('format', 'is given more than once');
  return { format: formats[0], rest: kept.join('&') };
}

function nextPageUrl(path: string, rawQueryString: string, cursor: string): string {
  const segments = rawQueryString
    .split('&')
    .filter((segment) => segment !== '' && new URLSearchParams(segment).keys().next().value !== 'cursor');
  return `${path}?${[...segments, `cursor=${cursor}`].join('&')}`;
}

async function answerOwnRoute(
  match: HttpRouteMatch,
  rawQueryString: string,
  reader: PaperReader,
  today: IsoDate,
  baseUrl: string,
): Promise<Answer> {
  parseParameters(NoQuerySchema, parseQueryString(rawQueryString), match.name);
  const route = match.name;
  switch (match.name) {
    case 'GET /health': {
      try {
        const { items } = await reader.ingestedDays({ limit: 1 });
        const body = JSON.stringify({ status: 'ok', latestDay: items[0]?.day ?? null });
        return { statusCode: 200, contentType: JSON_TYPE, body, cacheControl: NO_STORE, route };
      } catch {
        return { ...errorAnswer(503, 'Unavailable', 'the papers table cannot be read'), route };
      }
    }
    case 'GET /openapi.json':
      // Read at the first request for it and kept. The file is written from `openapi.ts` (see
      // `OPENAPI_DOCUMENT_FILE`); compacted, it is byte for byte what `JSON.stringify` of
      // `openApiDocument()` gives, which `test/query/openapi.test.ts` checks.
      openApiJson ??= JSON.stringify(JSON.parse(readFileSync(OPENAPI_DOCUMENT_FILE, 'utf8')));
      return {
        statusCode: 200,
        contentType: JSON_TYPE,
        body: openApiJson,
        cacheControl: 'public, max-age=3600',
        route,
      };
    case 'GET /feeds/daily.xml': {
      const day = await latestListingDay(reader);
      const papers = day
        ? await collect((cursor) => reader.papersListedOn(day, { limit: 100, cursor }, 'upvotes'))
        : [];
      const body = renderAtomFeed({
        selfUrl: `${baseUrl}/feeds/daily.xml`,
        title: day ? `Daily Papers, ${day}` : 'Daily Papers',
        subtitle: day
          ? `The papers listed on ${day}, the latest day ingested (from any of its sources), most upvoted first`
          : 'No listing day has been ingested yet',
        emptyUpdated: `${day ?? today}T00:00:00.000Z`,
        recordUrl: (id) => `${baseUrl}/papers/${encodeURIComponent(id)}`,
        papers,
      });
      return {
        statusCode: 200,
        contentType: ATOM_TYPE,
        body,
        cacheControl: cacheControl(undefined, today),
        route,
      };
    }
    case 'GET /feeds/categories/{code}.xml': {
      const code = categoryCode(match.rawCode);
      const from = addDays(today, -(CATEGORY_FEED_DAYS - 1));
      // Newest first, so that when the 14 days hold more listings than a feed, the oldest are the
      // ones left out (read oldest first, the newest days would never be reached).
      const listed = await collect((cursor) =>
        reader.papersInCategory(code, from, today, { limit: 100, cursor }, { newestFirst: true }),
      );
      const body = renderAtomFeed({
        selfUrl: `${baseUrl}/feeds/categories/${encodeURIComponent(code)}.xml`,
        title: `Daily Papers in ${code}`,
        subtitle: `Papers of the Hugging Face Daily Papers listings classified ${code}, over the ${CATEGORY_FEED_DAYS} days ending ${today}, newest first`,
        emptyUpdated: `${from}T00:00:00.000Z`,
        recordUrl: (id) => `${baseUrl}/papers/${encodeURIComponent(id)}`,
        papers: newestListingFirst(listed),
      });
      return {
        statusCode: 200,
        contentType: ATOM_TYPE,
        body,
        cacheControl: cacheControl(undefined, today),
        route,
      };
    }
  }
}

let openApiJson: string | undefined;

/** A category feed's path parameter, checked as the `category` parameter of `GET /papers` is. */
const CategoryInPathSchema = z.object({ code: CategoryCodeSchema });

/**
 * @throws BadParameterError naming `code` unless it is a category code, with the nearest known
 * codes for a typo, as `GET /papers?category` gives them.
 */
function categoryCode(raw: string): string {
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    decoded = raw;
  }
  return parseParameters(CategoryInPathSchema, { code: decoded }, 'GET /feeds/categories/{code}.xml').code;
}

/** The newest ingested day that has papers, among the last 100 ingested. */
async function latestListingDay(reader: PaperReader): Promise<IsoDate | undefined> {
  const { items } = await reader.ingestedDays({ limit: 100 });
  return items.find((day) => day.papers > 0)?.day;
}

/** Pages through a list up to {@link MAX_FEED_ENTRIES}. */
async function collect(
  page: (cursor: string | undefined) => Promise<{ items: ListedPaper[]; cursor?: string }>,
): Promise<ListedPaper[]> {
  const papers: ListedPaper[] = [];
  let cursor: string | undefined;
  do {
    const next = await page(cursor);
    papers.push(...next.items);
    cursor = next.cursor;
  } while (cursor !== undefined && papers.length < MAX_FEED_ENTRIES);
  return papers.slice(0, MAX_FEED_ENTRIES);
}

/** Each paper once, at its latest listing, newest first. */
function newestListingFirst(papers: readonly ListedPaper[]): ListedPaper[] {
  const latest = new Map<string, ListedPaper>();
  for (const paper of papers) {
    const seen = latest.get(paper.id);
    if (!seen || seen.listedOn < paper.listedOn) latest.set(paper.id, paper);
  }
  return [...latest.values()].sort((a, b) =>
    a.listedOn === b.listedOn ? (a.id < b.id ? -1 : 1) : a.listedOn < b.listedOn ? 1 : -1,
  );
}

/** A host name or address with an optional port, as `Host` may carry it: nothing else goes in a URL. */
const HOST_HEADER =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * The API's own base URL as the client sees it: what a feed's links start with. A host header
 * that is not a host (empty, or with a path or spaces in it) is passed over, and with neither
 * header a host the answer names `localhost`, never a broken link.
 */
function baseUrlOf(headers: HttpRequest['headers']): string {
  const protocol = headers['x-forwarded-proto'] === 'http' ? 'http' : 'https';
  // The first proxy's X-Forwarded-Host (the one the client named), else Host.
  const forwarded = headers['x-forwarded-host']?.split(',')[0]?.trim();
  const host = [forwarded, headers.host].find((name) => name !== undefined && HOST_HEADER.test(name));
  return `${protocol}://${host ?? 'localhost'}`;
}

function errorAnswer(
  statusCode: number,
  error: string,
  message: string,
  extra: Record<string, string | string[]> = {},
): Answer {
  return {
    statusCode,
    contentType: JSON_TYPE,
    body: JSON.stringify({ error, message, ...extra }),
    cacheControl: NO_STORE,
  };
}

/** Adds CORS, ETag and the conditional and HEAD handling to an answer. */
function finish(request: HttpRequest, allowedOrigins: AllowedOrigins, answer: Answer): HttpResponse {
  const cors = corsHeaders(request.headers.origin, allowedOrigins);
  const vary = [answer.extraHeaders?.vary, cors.vary].filter(Boolean).join(', ');
  const headers: Record<string, string> = {
    'content-type': answer.contentType,
    'cache-control': answer.cacheControl,
    ...answer.extraHeaders,
    ...cors,
    ...(vary ? { vary } : {}),
  };
  if (answer.statusCode === 200) {
    const tag = entityTag(answer.body);
    headers.etag = tag;
    if (matchesIfNoneMatch(request.headers['if-none-match'], tag)) {
      const { 'content-type': _type, ...notModified } = headers;
      return { statusCode: 304, headers: notModified, body: '', route: answer.route };
    }
  }
  if (request.method === 'HEAD') {
    headers['content-length'] = String(Buffer.byteLength(answer.body));
    return { statusCode: answer.statusCode, headers, body: '', route: answer.route };
  }
  return { statusCode: answer.statusCode, headers, body: answer.body, route: answer.route };
}

function utcToday(): IsoDate {
  return new Date().toISOString().slice(0, 10);
}
