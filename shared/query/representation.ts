import { createHash } from 'node:crypto';
import type { IsoDate } from '../paper';
import { ITEMS_JSON, type Page } from '../store/paper-store';
import * as z from '../zod';
import { daysCsv, genericCsv, paperRecordsCsv, papersCsv, rankedPapersCsv } from './csv';
import { BadParameterError } from './errors';
import { addDays } from './parameters';

/**
 * How an answer is written out: its media type (JSON by default, CSV on request), its
 * validator (`ETag`) and how long caches may keep it (`Cache-Control`). Pure functions over a
 * route's result, so the query handler only produces values and this layer decides the bytes.
 */

export type MediaFormat = 'json' | 'csv';

/** The parameter every list and record route takes besides its own: `format=json|csv`. */
export const RepresentationQuerySchema = z.strictObject({
  format: z
    .optional(z.enum(['json', 'csv'], { error: 'must be json (the default) or csv' }))
    .check(
      z.describe('json (the default) or csv (a header row, RFC 4180 quoting); overrides the Accept header'),
    ),
});

export const MEDIA_TYPES: Record<MediaFormat, string> = {
  json: 'application/json; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
};

/**
 * The format asked for: `format` when given, else the `Accept` media range with the highest
 * weight among `application/json` and `text/csv` (JSON on a tie, without `Accept`, or when the
 * header names neither: the API then sends its default rather than a 406).
 * @throws BadParameterError naming `format` for a value other than json or csv.
 */
export function negotiateFormat(format: string | undefined, accept: string | undefined): MediaFormat {
  if (format !== undefined) {
    const parsed = RepresentationQuerySchema.shape.format.safeParse(format);
    if (!parsed.success || parsed.data === undefined) {
      throw new BadParameterError('format', parsed.error?.issues[0]?.message ?? 'must be json or csv');
    }
    return parsed.data;
  }
  if (accept === undefined) return 'json';
  const weight = {
    json: acceptWeight(accept, 'application', 'json'),
    csv: acceptWeight(accept, 'text', 'csv'),
  };
  return weight.csv > weight.json ? 'csv' : 'json';
}

/** The weight `accept` gives `type/subtype`: that of its most specific matching range, 0 when none matches. */
function acceptWeight(accept: string, type: string, subtype: string): number {
  let best = { specificity: -1, weight: 0 };
  for (const range of accept.split(',')) {
    const [mediaRange = '', ...parameters] = range.split(';').map((part) => part.trim().toLowerCase());
    const [rangeType, rangeSubtype] = mediaRange.split('/');
    const specificity =
      rangeType === type && rangeSubtype === subtype
        ? 2
        : rangeType === type && rangeSubtype === '*'
          ? 1
          : rangeType === '*' && rangeSubtype === '*'
            ? 0
            : -1;
    if (specificity <= best.specificity) continue;
    const q = parameters.find((parameter) => parameter.startsWith('q='));
    const weight = q === undefined ? 1 : Number(q.slice(2));
    best = { specificity, weight: Number.isFinite(weight) ? Math.min(1, Math.max(0, weight)) : 0 };
  }
  return best.weight;
}

/** The CSV layouts by route; a route without one gets {@link genericCsv} of its items. */
const CSV_LAYOUTS: Record<string, (rows: Record<string, unknown>[]) => string> = {
  'GET /papers?date': papersCsv,
  'GET /papers?category': papersCsv,
  'GET /papers?from': rankedPapersCsv,
  'GET /papers?q': rankedPapersCsv,
  'GET /papers/{id}': paperRecordsCsv,
  'GET /days': daysCsv,
};

/** A 200 body in `format`: JSON as is; CSV as the route's rows (a list's items, or the one record). */
export function renderBody(body: unknown, format: MediaFormat, route: string | undefined): string {
  if (format === 'json') return bodyJson(body);
  const items = (body as { items?: unknown }).items;
  const rows = (Array.isArray(items) ? items : [body]) as Record<string, unknown>[];
  return (CSV_LAYOUTS[route ?? ''] ?? genericCsv)(rows);
}

/**
 * `JSON.stringify(body)`, with a page's items written from the JSON the store gave for them
 * ({@link ITEMS_JSON}) when it did: the same bytes, without serialising the items again.
 */
export function bodyJson(body: unknown): string {
  const texts = (body as Partial<Page<unknown>> | null)?.[ITEMS_JSON];
  if (texts === undefined) return JSON.stringify(body);
  const { items, ...rest } = body as Page<unknown>;
  // The items' text goes first: only a body whose first key is `items` is written that way.
  if (Object.keys(body as object)[0] !== 'items' || items.length !== texts.length)
    return JSON.stringify(body);
  const others = JSON.stringify(rest);
  return `{"items":[${texts.join(',')}]${others === '{}' ? '}' : `,${others.slice(1)}`}`;
}

/** A strong validator of a representation's bytes. */
export function entityTag(body: string): string {
  return `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
}

/** Whether `If-None-Match` holds `tag` (weak comparison, as RFC 9110 asks for it), or is `*`. */
export function matchesIfNoneMatch(ifNoneMatch: string | undefined, tag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const opaque = (value: string) => value.trim().replace(/^W\//, '');
  return ifNoneMatch.trim() === '*' || ifNoneMatch.split(',').some((value) => opaque(value) === opaque(tag));
}

/** A listing day this old or older no longer changes (its upvotes have settled): caches may keep it for a day. */
export const SETTLED_AFTER_DAYS = 14;
export const SETTLED_MAX_AGE_SECONDS = 86_400;
/** Anything that may still change (today's listing, recent upvotes, the list of days): a few minutes. */
export const RECENT_MAX_AGE_SECONDS = 300;

/**
 * `Cache-Control` for a 200 whose newest listing day is `newestDay` (undefined when the answer
 * is not about settled days, such as `/days` or a range ending today).
 */
export function cacheControl(newestDay: IsoDate | undefined, today: IsoDate): string {
  const settled = newestDay !== undefined && newestDay < addDays(today, -SETTLED_AFTER_DAYS);
  return `public, max-age=${settled ? SETTLED_MAX_AGE_SECONDS : RECENT_MAX_AGE_SECONDS}`;
}

/**
 * The newest listing day an answer covers: the record's latest listing for `GET /papers/{id}`,
 * else the query's `date` or `to` (a range without `to` ends today or later). Undefined when the
 * answer is not bound to days, or is about a day never fetched.
 */
export function newestDayOf(
  route: string | undefined,
  parameters: Readonly<Record<string, string>>,
  body: unknown,
): IsoDate | undefined {
  if (route === 'GET /days') return undefined;
  // A day never fetched has not settled, however old: a backfill may fetch it at any time.
  if ((body as { day?: { status?: unknown } }).day?.status === 'not-fetched') return undefined;
  const listings = (body as { listings?: unknown }).listings;
  if (Array.isArray(listings)) {
    const days = listings.map((listing) => (listing as { listedOn?: unknown }).listedOn).filter(isDay);
    return days.sort().at(-1);
  }
  const day = parameters.date ?? parameters.to;
  return isDay(day) ? day : undefined;
}

function isDay(value: unknown): value is IsoDate {
  return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value);
}
