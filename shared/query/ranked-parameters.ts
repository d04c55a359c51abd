import type { IsoDate } from '../paper';
import { MAX_QUERY_TERMS, queryTerms } from '../search/terms';
import * as z from '../zod';
import { category, categoryDateRange, checkDateRange, cursor, isoDate, limit } from './parameters';

/**
 * Parameters of the routes that rank papers over a range, each paper once: keyword search
 * (`GET /papers?q=`), ranked ranges (`GET /papers?from=&to=&sort=`, with or without categories)
 * and `GET /categories`. Strict objects, like the other routes' schemas.
 */

/** `category=cs.CV` or several, comma-separated (`cs.CV,cs.LG`): papers assigned any of them. */
const categories = z.optional(
  z.pipe(
    z.pipe(
      z.string(),
      z.transform((value) => value.split(',')),
    ),
    z.array(category).check(z.minLength(1), z.maxLength(10, { error: 'may name at most 10 categories' })),
  ),
);

/** `primary=true`: only papers whose primary category is one of those named. */
const primary = z.optional(
  z.pipe(
    z.enum(['true', 'false'], { error: 'must be true (primary category only) or false (any assigned)' }),
    z.transform((value) => value === 'true'),
  ),
);

/** The search text: words, each a postings range; stop words and one-letter words are not searched. */
const q = z.pipe(
  z.string().check(z.maxLength(200, { error: 'must be at most 200 characters' })),
  z.transform((text, context) => {
    const terms = queryTerms(text);
    if (terms.length === 0) {
      context.issues.push({
        code: 'custom',
        input: text,
        message: 'must hold a word to search for (stop words such as "the" are not searched)',
      });
      return z.NEVER;
    }
    if (terms.length > MAX_QUERY_TERMS) {
      context.issues.push({
        code: 'custom',
        input: text,
        message: `must hold at most ${MAX_QUERY_TERMS} distinct words`,
      });
      return z.NEVER;
    }
    return { text, terms };
  }),
);

function checkRange(
  query: { from?: IsoDate; to?: IsoDate; primary?: boolean; category?: string[] },
  context: z.core.$RefinementCtx,
) {
  if (query.primary !== undefined && query.category === undefined) {
    context.addIssue({
      code: 'custom',
      path: ['primary'],
      message: 'needs category (the categories to be primary)',
    });
  }
  checkDateRange(query, context);
}

/**
 * `GET /papers?q=words[&date=D | &from=D&to=D][&category=C[,C…]][&primary=true][&sort=relevance|date]`.
 * Without a day or range it searches the whole history.
 */
export const SearchQuerySchema = z
  .strictObject({
    q,
    date: z.optional(isoDate),
    from: z.optional(isoDate),
    to: z.optional(isoDate),
    category: categories,
    primary,
    sort: z._default(
      z.enum(['relevance', 'date'], {
        error: 'must be relevance (best match first, ties by upvotes; the default) or date (newest first)',
      }),
      'relevance',
    ),
    limit,
    cursor,
  })
  .check(
    z.superRefine((query, context) => {
      if (query.date !== undefined && (query.from !== undefined || query.to !== undefined)) {
        context.addIssue({ code: 'custom', path: ['date'], message: 'cannot be combined with from or to' });
      }
      checkRange(query, context);
    }),
  );
export type SearchQuery = z.infer<typeof SearchQuerySchema>;

/** The range a search covers: a day, a range (one bound gives the default window), or the whole history. */
export function searchRange(query: SearchQuery, today: IsoDate): { from: IsoDate; to: IsoDate } | undefined {
  if (query.date !== undefined) return { from: query.date, to: query.date };
  if (query.from === undefined && query.to === undefined) return undefined;
  return categoryDateRange(query, today);
}

/**
 * `GET /papers?[category=C[,C…]&][primary=true&]from=D&to=D&sort=upvotes|date`: the papers listed
 * in the range, each once with its days, most upvoted (the default) or latest first. A missing
 * bound gives the category route's window.
 */
export const RangeQuerySchema = z
  .strictObject({
    from: z.optional(isoDate),
    to: z.optional(isoDate),
    category: categories,
    primary,
    sort: z._default(
      z.enum(['upvotes', 'date'], {
        error: 'must be upvotes (most upvoted first, the default) or date (latest listed first)',
      }),
      'upvotes',
    ),
    limit,
    cursor,
  })
  .check(z.superRefine(checkRange));
export type RangeQuery = z.infer<typeof RangeQuerySchema>;

/** `GET /categories[?from=D&to=D]`: papers per category in the range (default: the 30 days ending today). */
export const CategoriesQuerySchema = z
  .strictObject({ from: z.optional(isoDate), to: z.optional(isoDate) })
  .check(z.superRefine(checkRange));
export type CategoriesQuery = z.infer<typeof CategoriesQuerySchema>;
