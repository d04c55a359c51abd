import { knownCategoryCodes } from '../classify/taxonomy';
import type { IsoDate } from '../paper';
import * as z from '../zod';
import { isPlausibleCategory, suggestCategories } from './category-codes';
import { BadParameterError } from './errors';

/**
 * The query API's request parameters: one zod schema per route, each a strict
 * object, so an unknown or misplaced parameter is a 400 that names it rather
 * than being silently ignored. Values arrive as strings (query string or path).
 */

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 100;
/** The longest category date range one request may ask for, inclusive of both ends. */
export const MAX_RANGE_DAYS = 366;
/** The window a category query covers when it gives one bound or none, inclusive of both ends. */
export const DEFAULT_RANGE_DAYS = 30;

/**
 * An arXiv category code: an archive (`cs`, `quant-ph`, `cond-mat`) with an
 * optional subject class (`cs.CV`, `math.OC`, `cond-mat.mes-hall`, `physics.atm-clus`).
 */
export const CATEGORY_CODE = /^[a-z]+(?:-[a-z]+)?(?:\.[A-Za-z]+(?:-[a-z]+)?)?$/;

/**
 * A paper id as the store keys it: a new-style arXiv id (`2410.17243`), an
 * old-style one (`hep-th/9901001`, `math.GT/0309136`), or a title-derived id
 * (`title-` and 16 hex digits). An arXiv version suffix (`v2`) is accepted and dropped.
 */
const PAPER_ID = /^(?:(\d{4}\.\d{4,5})|([a-z]+(?:-[a-z]+)?(?:\.[A-Z]{2})?\/\d{7})|(title-[0-9a-f]{16}))$/;
const ARXIV_VERSION = /v\d{1,3}$/;

export const isoDate = z.iso.date({
  error: (issue) => (issue.input === undefined ? 'is required' : 'must be a real date YYYY-MM-DD'),
});

export const limit = z._default(
  z
    .pipe(
      z.string().check(z.regex(/^\d{1,3}$/, { error: `must be an integer from 1 to ${MAX_LIMIT}` })),
      z.transform(Number),
    )
    .check(
      z.refine((value) => value >= 1 && value <= MAX_LIMIT, {
        error: `must be an integer from 1 to ${MAX_LIMIT}`,
      }),
    ),
  DEFAULT_LIMIT,
);

/** Opaque to clients; the store decides whether it issued it. This only bounds its size and alphabet. */
export const cursor = z.optional(
  z.string().check(
    z.regex(/^[A-Za-z0-9_-]{1,2048}$/, {
      error: 'must be the cursor of a previous page of the same query',
    }),
  ),
);

/** Known codes by their lower-case spelling, to catch `cs.cv` for `cs.CV`. */
const KNOWN_BY_LOWER_CASE = new Map(knownCategoryCodes.map((code) => [code.toLowerCase(), code]));

/**
 * A category code. Codes are case-sensitive (`cs.CV`, but `cond-mat.mes-hall`), so a known code in
 * the wrong case is a 400 that gives the right spelling. A well-formed code the taxonomy does not
 * know is accepted when it could be a category arXiv adds later (`isPlausibleCategory`): a source
 * may carry one. Anything else (`cs.CVV`, `cv`) is a typo, refused with the nearest known codes.
 */
export const category = z.string().check(
  z.maxLength(32, { error: 'must be an arXiv category code such as cs.CV, math.OC or quant-ph' }),
  z.regex(CATEGORY_CODE, { error: 'must be an arXiv category code such as cs.CV, math.OC or quant-ph' }),
  z.superRefine((code, context) => {
    const known = KNOWN_BY_LOWER_CASE.get(code.toLowerCase());
    if (known !== undefined && known !== code) {
      context.addIssue({
        code: 'custom',
        message: `must be spelled ${known} (category codes are case-sensitive)`,
      });
    } else if (known === undefined && !isPlausibleCategory(code)) {
      const suggestions = suggestCategories(code);
      context.addIssue({
        code: 'custom',
        message: `is not an arXiv category${suggestions.length ? ` (did you mean ${suggestions.join(', ')}?)` : ' (see https://arxiv.org/category_taxonomy)'}`,
        params: { suggestions },
      });
    }
  }),
);

/** A category code as a route's path gives it (`/feeds/categories/{code}.xml`), checked as the `category` parameter is. */
export const CategoryCodeSchema = category;

/**
 * The order of a day's papers: `upvotes` (most upvoted first) is a live ranking that may repeat or
 * skip a paper while upvotes change between pages; `id` is stable, for clients that need every paper.
 */
const sort = z._default(
  z.enum(['upvotes', 'id'], {
    error: 'must be upvotes (most upvoted first, the default) or id (stable while upvotes change)',
  }),
  'upvotes',
);

/** `GET /papers?date=D[&sort=upvotes|id]`: the papers listed on day D, most upvoted first or by id. */
export const DayQuerySchema = z.strictObject({ date: isoDate, sort, limit, cursor });
export type DayQuery = z.infer<typeof DayQuerySchema>;

/**
 * `GET /papers?category=C[&from=D][&to=D]`: papers assigned category C and listed
 * within [from, to] (inclusive). `from` must not be after `to`, and the range spans
 * at most {@link MAX_RANGE_DAYS} days. Missing bounds are filled by {@link categoryDateRange}.
 */
export const CategoryQuerySchema = z
  .strictObject({ category, from: z.optional(isoDate), to: z.optional(isoDate), limit, cursor })
  .check(z.superRefine(checkDateRange));

/** A range's bounds, when both are given: `from` not after `to`, at most {@link MAX_RANGE_DAYS} days. */
export function checkDateRange(
  query: { from?: IsoDate; to?: IsoDate },
  context: z.core.$RefinementCtx,
): void {
  if (query.from === undefined || query.to === undefined) return;
  if (query.from > query.to) {
    context.addIssue({ code: 'custom', path: ['to'], message: `must not be before from (${query.from})` });
  } else if (daysInRange(query.from, query.to) > MAX_RANGE_DAYS) {
    context.addIssue({
      code: 'custom',
      path: ['to'],
      message: `must be at most ${MAX_RANGE_DAYS} days from from (the range is inclusive)`,
    });
  }
}
export type CategoryQuery = z.infer<typeof CategoryQuerySchema>;

/** The window `GET /quality` covers without bounds: the drift alarm's 7 days. */
export const QUALITY_DEFAULT_DAYS = 7;

/**
 * `GET /quality[?from=D&to=D]`: the model's live figures per day and over the range. `from` must not
 * be after `to`, at most {@link MAX_RANGE_DAYS} days; missing bounds are filled by {@link qualityDateRange}.
 */
export const QualityQuerySchema = z
  .strictObject({ from: z.optional(isoDate), to: z.optional(isoDate) })
  .check(z.superRefine(checkDateRange));
export type QualityQuery = z.infer<typeof QualityQuerySchema>;

/** Both bounds as given; one bound and a {@link QUALITY_DEFAULT_DAYS}-day window anchored at it; neither and the window ending `today`. */
export function qualityDateRange(query: QualityQuery, today: IsoDate): { from: IsoDate; to: IsoDate } {
  const window = QUALITY_DEFAULT_DAYS - 1;
  if (query.from !== undefined && query.to !== undefined) return { from: query.from, to: query.to };
  if (query.from !== undefined) return { from: query.from, to: addDays(query.from, window) };
  const to = query.to ?? today;
  return { from: addDays(to, -window), to };
}

/** `GET /papers/{id}` takes no query parameters: the answer is one record. */
export const PaperQuerySchema = z.strictObject({});

/** `GET /days`: the ingested days, newest first, with their paper counts. */
export const DaysQuerySchema = z.strictObject({ limit, cursor });
export type DaysQuery = z.infer<typeof DaysQuerySchema>;

const PaperIdSchema = z.pipe(
  z.pipe(
    z.string(),
    z.transform((id) => id.replace(ARXIV_VERSION, '')),
  ),
  z.string().check(
    z.regex(PAPER_ID, {
      error: 'must be an arXiv id (2410.17243, hep-th/9901001) or a title- id as the API returned it',
    }),
  ),
);

/**
 * The paper id of `GET /papers/{id}`, without an arXiv version suffix.
 * @throws BadParameterError naming `id` when it is not an id the store could hold.
 */
export function parsePaperId(raw: string): string {
  const result = PaperIdSchema.safeParse(raw);
  if (!result.success) throw new BadParameterError('id', result.error.issues[0]?.message ?? 'is invalid');
  return result.data;
}

/**
 * Parses `parameters` with `schema`.
 * @throws BadParameterError naming the first bad, missing or unknown parameter;
 *   `describeRoute` completes the message for an unknown one.
 */
export function parseParameters<S extends z.core.$ZodType>(
  schema: S,
  parameters: Record<string, string>,
  describeRoute: string,
): z.infer<S> {
  const result = z.safeParse(schema, parameters);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  if (!issue) throw new BadParameterError('query', 'is invalid');
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(schema);
    throw new BadParameterError(
      issue.keys[0] ?? 'query',
      `is not a parameter of ${describeRoute}${allowed.length ? ` (allowed: ${allowed.join(', ')})` : ' (it takes none)'}`,
    );
  }
  const suggestions = issue.code === 'custom' ? issue.params?.suggestions : undefined;
  throw new BadParameterError(
    String(issue.path[0] ?? 'query'),
    issue.message,
    Array.isArray(suggestions) ? suggestions.map(String) : undefined,
  );
}

/**
 * The keys of `schema`'s object, read from its definition: `instanceof z.core.$ZodObject` would
 * make esbuild keep every export of zod in the query bundle (the locales, the compiler: +350 KB).
 */
function allowedKeys(schema: z.core.$ZodType): string[] {
  const { def } = (schema as z.core.$ZodTypes)._zod;
  const inner = def.type === 'pipe' ? (def.in as z.core.$ZodTypes)._zod.def : def;
  return inner.type === 'object' ? Object.keys(inner.shape) : [];
}

/**
 * Splits a raw query string into parameters.
 * @throws BadParameterError when a parameter is given more than once
 *   (`date=a&date=b` has no single meaning).
 */
export function parseQueryString(rawQueryString: string): Record<string, string> {
  // No prototype: `__proto__=x` is then a parameter like any other (and refused as unknown),
  // where on a plain object the assignment would silently do nothing.
  const parameters: Record<string, string> = Object.create(null);
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    if (name === '' && value === '') continue;
    if (Object.hasOwn(parameters, name)) throw new BadParameterError(name, 'is given more than once');
    parameters[name] = value;
  }
  return parameters;
}

/**
 * The inclusive date range a category query covers: both bounds as given; one
 * bound and a {@link DEFAULT_RANGE_DAYS}-day window anchored at it; neither and the
 * window ending `today`.
 */
export function categoryDateRange(
  query: Pick<CategoryQuery, 'from' | 'to'>,
  today: IsoDate,
): { from: IsoDate; to: IsoDate } {
  const window = DEFAULT_RANGE_DAYS - 1;
  if (query.from !== undefined && query.to !== undefined) return { from: query.from, to: query.to };
  if (query.from !== undefined) return { from: query.from, to: addDays(query.from, window) };
  const to = query.to ?? today;
  return { from: addDays(to, -window), to };
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Days from `from` to `to`, counting both. */
export function daysInRange(from: IsoDate, to: IsoDate): number {
  return Math.round((Date.parse(to) - Date.parse(from)) / DAY_MS) + 1;
}

/** `day` moved by `days`, kept within the four-digit years an ISO date can hold. */
export function addDays(day: IsoDate, days: number): IsoDate {
  const moved = new Date(Date.parse(day) + days * DAY_MS);
  if (moved.getUTCFullYear() > 9999) return '9999-12-31';
  if (moved.getUTCFullYear() < 1) return '0001-01-01';
  return moved.toISOString().slice(0, 10);
}
