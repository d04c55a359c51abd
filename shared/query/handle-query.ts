import type { IsoDate } from '../paper';
import type { QualityReport } from '../quality/live-quality';
import { readQualityReport } from '../quality/read-quality';
import type { CategoryCount, IngestedDay, ListedPaper, PaperRecord, RankedPaper } from '../store/items';
import { InvalidCursorError, type Page, type PaperReader } from '../store/paper-store';
import { BadParameterError } from './errors';
import {
  CategoryQuerySchema,
  categoryDateRange,
  DayQuerySchema,
  DaysQuerySchema,
  PaperQuerySchema,
  parsePaperId,
  parseParameters,
  parseQueryString,
  QualityQuerySchema,
  qualityDateRange,
} from './parameters';
import { CategoriesQuerySchema, RangeQuerySchema, SearchQuerySchema, searchRange } from './ranked-parameters';

/**
 * The query API as a pure function of (method, path, query string) and a
 * {@link PaperReader}: routing, parameter validation, the store call and the
 * response, over the store's read side. It knows nothing of Lambda; `functions/query.ts` adapts a Function
 * URL event to it and back, and the local CLI and server go through that handler.
 */

/** One HTTP request, as far as the query API cares. */
export interface QueryRequest {
  method: string;
  /** The path as sent, percent-encoding included (a Function URL's `rawPath`). */
  path: string;
  /** Without the `?` (a Function URL's `rawQueryString`). */
  rawQueryString: string;
}

/**
 * Every route {@link handleQuery} answers, by the name its responses carry (for logs and metrics).
 * The OpenAPI document (`openapi.ts`) must describe each one: a route added here without its
 * description fails the type check and `test/query/openapi.test.ts`.
 */
export const ROUTE_NAMES = [
  'GET /papers?date',
  'GET /papers?category',
  'GET /papers?q',
  'GET /papers?from',
  'GET /papers/{id}',
  'GET /days',
  'GET /categories',
  'GET /quality',
] as const;

/** The route a request matched; absent when none did. */
export type RouteName = (typeof ROUTE_NAMES)[number];

export interface ErrorBody {
  error: 'BadRequest' | 'NotFound' | 'MethodNotAllowed';
  message: string;
  /** Set on a 400: the parameter at fault. */
  parameter?: string;
  /** On some 400s: values the client may have meant (an unknown category's nearest known codes). */
  suggestions?: string[];
}

/**
 * What is known of a day asked for by `GET /papers?date=`: it has papers, it was fetched and held none
 * (a weekend), or it was never fetched (and holds no papers): an empty list alone cannot tell.
 */
export interface DayStatus {
  date: IsoDate;
  status: 'has-papers' | 'fetched-empty' | 'not-fetched';
}

export type QueryResponseBody =
  | (Page<ListedPaper> & { day?: DayStatus })
  | Page<RankedPaper>
  | Page<IngestedDay>
  | { items: CategoryCount[]; from: IsoDate; to: IsoDate }
  | QualityReport
  | PaperRecord
  | ErrorBody;

export interface QueryResponse {
  statusCode: 200 | 400 | 404 | 405;
  headers: Record<string, string>;
  body: QueryResponseBody;
  route?: RouteName;
}

export interface QueryOptions {
  /** Today's date (UTC) for a category query's default range; injectable for tests. */
  today?: () => IsoDate;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8' } as const;

/** What every route answers: GET here; HEAD and OPTIONS in the HTTP layer around it (`http-api.ts`). */
export const ALLOWED_METHODS = 'GET, HEAD, OPTIONS';

export const ROUTES_HELP =
  'GET /papers?date=YYYY-MM-DD[&sort=upvotes|id], GET /papers?category=CODE[&from=YYYY-MM-DD&to=YYYY-MM-DD], ' +
  'GET /papers?q=WORDS, GET /papers?from=YYYY-MM-DD&to=YYYY-MM-DD[&category=CODE[,CODE]][&sort=upvotes|date], ' +
  'GET /papers/{id}, GET /days, GET /categories[?from&to], GET /quality[?from&to]';

/**
 * Answers one query API request.
 *
 * - 200 with `{ items, cursor? }` for a list (pass `cursor` back for the next page;
 *   it is given only when more items follow), or the
 *   {@link PaperRecord} for `GET /papers/{id}`.
 * - 400 `{ error: 'BadRequest', message, parameter }` for a bad, missing, repeated or
 *   unknown parameter, or a cursor the store did not issue for this query.
 * - 404 for an unknown route or paper id; 405 (with `allow: GET`) for another method.
 *
 * Every list is one Query on one partition, never a Scan. A category query without
 * bounds covers the 30 days ending today; its cursor keeps to the days of its first page.
 * @throws whatever the store throws for anything but a bad cursor (an outage): the
 *   caller turns it into a logged 500. Nothing a client sends makes it throw.
 */
export async function handleQuery(
  request: QueryRequest,
  store: PaperReader,
  { today = utcToday }: QueryOptions = {},
): Promise<QueryResponse> {
  const path = request.path.length > 1 ? request.path.replace(/\/+$/, '') : request.path;
  const match = matchRoute(path);
  if (!match) {
    return respond(404, { error: 'NotFound', message: `no route for ${path}; routes: ${ROUTES_HELP}` });
  }
  if (request.method !== 'GET') {
    return {
      ...respond(405, {
        error: 'MethodNotAllowed',
        message: `${request.method} ${path}: only GET, HEAD and OPTIONS are allowed`,
      }),
      headers: { ...JSON_HEADERS, allow: ALLOWED_METHODS },
    };
  }
  let route: RouteName | undefined;
  try {
    const parameters = parseQueryString(request.rawQueryString);
    if (match.kind === 'paper') {
      route = 'GET /papers/{id}';
      const id = parsePaperId(match.id);
      parseParameters(PaperQuerySchema, parameters, route);
      const paper = await store.paperById(id);
      if (!paper) return respond(404, { error: 'NotFound', message: `no paper with id ${id}` }, route);
      return respond(200, paper, route);
    }
    if (match.kind === 'categories') {
      route = 'GET /categories';
      const query = parseParameters(CategoriesQuerySchema, parameters, route);
      const { from, to } = categoryDateRange(query, today());
      return respond(200, { items: await store.categoryCounts(from, to), from, to }, route);
    }
    if (match.kind === 'quality') {
      route = 'GET /quality';
      const query = parseParameters(QualityQuerySchema, parameters, route);
      return respond(200, await readQualityReport(store, qualityDateRange(query, today())), route);
    }
    if (match.kind === 'days') {
      route = 'GET /days';
      const { limit, cursor } = parseParameters(DaysQuerySchema, parameters, route);
      return respond(200, await store.ingestedDays({ limit, cursor }), route);
    }
    if ('q' in parameters) {
      route = 'GET /papers?q';
      const query = parseParameters(SearchQuerySchema, parameters, 'GET /papers?q=…');
      const page = await store.searchPapers({
        terms: query.q.terms,
        range: searchRange(query, today()),
        categories: query.category,
        primaryOnly: query.primary,
        order: query.sort,
        limit: query.limit,
        cursor: query.cursor,
      });
      return respond(200, page, route);
    }
    if (isRankedRange(parameters)) {
      route = 'GET /papers?from';
      const query = parseParameters(RangeQuerySchema, parameters, 'GET /papers?from=…&to=…');
      const { from, to } = categoryDateRange(query, today());
      const page = await store.papersInRange({
        from,
        to,
        categories: query.category,
        primaryOnly: query.primary,
        order: query.sort,
        limit: query.limit,
        cursor: query.cursor,
      });
      return respond(200, page, route);
    }
    if ('category' in parameters) {
      route = 'GET /papers?category';
      if ('date' in parameters) {
        throw new BadParameterError(
          'date',
          'cannot be combined with category (ask for one day, or one category)',
        );
      }
      const query = parseParameters(CategoryQuerySchema, parameters, 'GET /papers?category=…');
      const { from, to } = categoryDateRange(query, today());
      // Without a bound the window ends today: it moves at midnight, and its cursors must not.
      const rollingRange = query.from === undefined && query.to === undefined;
      const page = await store.papersInCategory(
        query.category,
        from,
        to,
        { limit: query.limit, cursor: query.cursor },
        { rollingRange },
      );
      return respond(200, page, route);
    }
    if (!('date' in parameters)) {
      // Name a parameter the route does not know (`DATE=`, `day=`) rather than only the missing one.
      // `from` and `to` belong to the category route: for them, say category is missing.
      const known = new Set(['limit', 'cursor', 'from', 'to', 'sort', 'primary']);
      const stray = Object.keys(parameters).find((name) => !known.has(name));
      if (stray !== undefined) {
        const lowerCase = ['date', 'category'].includes(stray.toLowerCase()) ? '; names are lower-case' : '';
        throw new BadParameterError(
          stray,
          `is not a parameter of GET /papers (it takes date, category, q, or from and to${lowerCase})`,
        );
      }
      if ('from' in parameters || 'to' in parameters) {
        throw new BadParameterError(
          'category',
          'is required with from and to (GET /papers?category=C&from=D&to=D)',
        );
      }
      throw new BadParameterError(
        'date',
        'is required, or category, q, or from and to (GET /papers?date=D, ?category=C, ?q=words or ?from=D&to=D)',
      );
    }
    route = 'GET /papers?date';
    const { date, sort, limit, cursor } = parseParameters(DayQuerySchema, parameters, 'GET /papers?date=…');
    const page = await store.papersListedOn(date, { limit, cursor }, sort);
    return respond(200, { ...page, day: await dayStatus(date, page, store) }, route);
  } catch (error) {
    if (error instanceof BadParameterError) {
      return respond(
        400,
        {
          error: 'BadRequest',
          message: error.message,
          parameter: error.parameter,
          ...(error.suggestions ? { suggestions: [...error.suggestions] } : {}),
        },
        route,
      );
    }
    if (error instanceof InvalidCursorError) {
      return respond(
        400,
        {
          error: 'BadRequest',
          message: `cursor: ${error.message.replace(/^cursor /, '')}`,
          parameter: 'cursor',
        },
        route,
      );
    }
    throw error;
  }
}

export type RouteMatch =
  | { kind: 'papers' }
  | { kind: 'days' }
  | { kind: 'categories' }
  | { kind: 'quality' }
  | { kind: 'paper'; id: string };

/**
 * A range ranked by upvotes or date, each paper once, rather than the category route's stream of
 * listings: asked for by `sort`, several categories, `primary`, or a range without a category.
 */
export function isRankedRange(parameters: Record<string, string>): boolean {
  if ('date' in parameters) return false;
  if (!('category' in parameters)) return 'from' in parameters || 'to' in parameters;
  return 'sort' in parameters || 'primary' in parameters || (parameters.category ?? '').includes(',');
}

/** A day's page says whether the day has papers; only an empty first page costs a read to tell why. */
async function dayStatus(
  date: IsoDate,
  page: Page<ListedPaper>,
  store: Pick<PaperReader, 'ingestedDay'>,
): Promise<DayStatus> {
  if (page.items.length > 0) return { date, status: 'has-papers' };
  const day = await store.ingestedDay(date);
  if (day && day.papers > 0) return { date, status: 'has-papers' };
  return { date, status: day?.lastFetchedAt === undefined ? 'not-fetched' : 'fetched-empty' };
}

const PAPER_PATH_PREFIX = '/papers/';

/** The route `path` (without trailing slashes) belongs to, whatever its parameters; undefined for none. */
export function matchRoute(path: string): RouteMatch | undefined {
  if (path === '/papers') return { kind: 'papers' };
  if (path === '/days') return { kind: 'days' };
  if (path === '/categories') return { kind: 'categories' };
  if (path === '/quality') return { kind: 'quality' };
  if (path.startsWith(PAPER_PATH_PREFIX)) {
    // The rest of the path is the id: old-style arXiv ids hold a slash (`hep-th/9901001`),
    // which a client may send as is or encoded (`hep-th%2F9901001`).
    const raw = path.slice(PAPER_PATH_PREFIX.length);
    let id: string;
    try {
      id = decodeURIComponent(raw);
    } catch {
      id = raw; // malformed percent-encoding: the id schema rejects it with a 400 naming `id`
    }
    return { kind: 'paper', id };
  }
  return undefined;
}

function respond(statusCode: QueryResponse['statusCode'], body: QueryResponseBody, route?: RouteName) {
  return { statusCode, headers: { ...JSON_HEADERS }, body, route } satisfies QueryResponse;
}

function utcToday(): IsoDate {
  return new Date().toISOString().slice(0, 10);
}
