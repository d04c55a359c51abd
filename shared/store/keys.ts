import type { IsoDate } from '../paper';

/**
 * The papers table's single-table key design. Every access pattern is a Query
 * on one partition; none needs a Scan.
 *
 * | item             | pk            | sk                          | index keys                                             |
 * |------------------|---------------|-----------------------------|--------------------------------------------------------|
 * | listing          | `PAPER#<id>`  | `LISTED#<day>`              | byDay: `dayPk`=`DAY#<day>`, `upvotes` (number); byDayId, byDayRanking: `dayPk`, `pk` |
 * | category entry   | `PAPER#<id>`  | `CATEGORY#<code>#<day>`     | byCategory: `categoryPk`=`CATEGORY#<code>`, `categorySk`=`<day>#<id>` |
 * | search postings  | `TERM#<k>#<b>`| `<day>#<id>`                | —                                                      |
 * | upvote snapshot  | `PAPER#<id>`  | `UPVOTES#<day>#<fetchedAt>` | —                                                      |
 * | ingested day     | `DAYS`        | `<day>`                     | —                                                      |
 * | request gate     | `RATE#<name>` | `RATE`                      | —                                                      |
 *
 * - A paper listed on two days is one paper (one partition) with two listing items.
 *   `Query pk = PAPER#<id>` returns the paper, every day it was listed with its upvotes
 *   on that day, and its category entries.
 * - Papers listed on a day, by upvotes: `Query byDay dayPk = DAY#<day>`, descending. A live
 *   ranking: upvotes change between pages, so paging it may repeat or skip a paper.
 * - Papers listed on a day, by id: `Query byDayId dayPk = DAY#<day>`, ascending. Its sort key is the
 *   listing's own `pk`, which never changes, so paging it gives each paper once however upvotes move.
 * - Papers in a category within a date range: `Query byCategory categoryPk = CATEGORY#<code>
 *   AND categorySk BETWEEN '<from>#' AND '<to>#\uffff'`. One entry per listing of the paper, so
 *   a paper listed on two days appears under each of them. Entries hold the paper without its
 *   per-day upvotes and comments: those live on the listing item only. The store writes and
 *   queries `<code>` as the canonical one of arXiv's alias pairs, so `cs.SY` and `eess.SY`
 *   name one entry and one index key.
 * - Days ingested with their counts: `Query pk = DAYS`, one item per day.
 * - One upstream's request gate (`RATE#arxiv`): a GetItem and conditional UpdateItems that space
 *   the requests of every process to it (`shared/arxiv/request-gate.ts`). No index key.
 * - Keyword search: `Query pk = TERM#<k>#<bucket(term)> [AND sk BETWEEN '<from>#' AND '<to>#\uffff']`
 *   with `FilterExpression attribute_exists(tf.<term>)`, one range per word of the query at most
 *   (words that share a bucket share its read). Each stemmed term (`shared/search/terms.ts`) hashes
 *   into one of `k` ({@link TERM_BUCKETS}) buckets; a listing has one postings item per non-empty
 *   bucket, holding the weighted frequency of each of its terms in that bucket (`tf`, a map), the
 *   listing's length `dl` and the hash `h` of the text it came from. They are written in the
 *   listing's own transaction whenever the text (or the layout) differs from the listing's
 *   `searchIndexed` attribute, every bucket at once (a bucket the text no longer fills is deleted),
 *   so a changed text leaves no old term behind and a re-fetch of the same text writes none.
 *   `k` is part of the key: a table indexed with another `k` (or with the exact-term postings
 *   `TERM#<term>` and markers `PAPER#<id>`/`SEARCH#<day>` of earlier versions) holds items no read
 *   of this layout asks for. Postings carry no index key: they stay out of every GSI.
 * - Live quality of a day (`GET /quality`, `papers quality`): `Query byDayId dayPk = DAY#<day>`, projecting only
 *   the paper id, `enrichment`, `arxiv.categories` and the codes of `predictedCategories[0..2]`.
 * - Ranked ranges (`sort=upvotes|date`, `GET /categories`): `Query byDayRanking dayPk = DAY#<day>` for
 *   each day of the range (at most 366); the index holds only the key, the day, the figures and the
 *   classification (the last read only when a category filter or the counts need it). Merged per
 *   paper in memory; then BatchGetItem of the page's papers' listings in the range, in full.
 * - A listing's upvote history: `Query pk = PAPER#<id> AND begins_with(sk, 'UPVOTES#<day>#')`,
 *   oldest first (ISO capture times sort as text), or `UPVOTES#` for every day. One snapshot per
 *   capture that changed the listing's figures (its first capture included), with `listedOn`,
 *   `fetchedAt`, and `upvotes` / `comments` as that capture gave them (each only when it did);
 *   written in the same transaction as the listing, so the history never holds a figure the
 *   listing was not given.
 */

export const DAYS_PK = 'DAYS';

/** The item that spaces the requests to one upstream (`shared/arxiv/request-gate.ts`). */
export const requestGateKey = (upstream: string): { pk: string; sk: string } => ({
  pk: `RATE#${upstream}`,
  sk: 'RATE',
});

export const paperPk = (id: string): string => `PAPER#${id}`;
export const listingSk = (day: IsoDate): string => `LISTED#${day}`;
export const LISTING_SK_PREFIX = 'LISTED#';
export const upvoteSnapshotSk = (day: IsoDate, fetchedAt: string): string => `UPVOTES#${day}#${fetchedAt}`;
export const UPVOTES_SK_PREFIX = 'UPVOTES#';
export const categoryEntrySk = (code: string, day: IsoDate): string => `CATEGORY#${code}#${day}`;
export const dayPk = (day: IsoDate): string => `DAY#${day}`;
export const categoryPk = (code: string): string => `CATEGORY#${code}`;
export const categorySk = (day: IsoDate, id: string): string => `${day}#${id}`;

/** The inclusive `categorySk` bounds of a date range: every id sorts between `<day>#` and `<day>#\uffff`. */
export function categoryRange(from: IsoDate, to: IsoDate): { low: string; high: string } {
  return { low: `${from}#`, high: `${to}#\uffff` };
}

/**
 * Buckets the search terms are hashed into: a listing's postings are this many items at most,
 * written in its transaction. Why 8: see `shared/store/search-index.ts` (write and read costs).
 */
export const TERM_BUCKETS = 8;

/**
 * The bucket of a term: FNV-1a over its UTF-16 code units, modulo `buckets`. Stable across
 * versions and runtimes (no seed), as the postings already written depend on it.
 */
export function termBucket(term: string, buckets: number = TERM_BUCKETS): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < term.length; i++) {
    hash ^= term.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % buckets;
}

/** A term is letters and digits (`shared/classify/tokenize.ts`), so `TERM#<k>#<b>` never names an older `TERM#<term>`. */
export const termBucketPk = (bucket: number, buckets: number = TERM_BUCKETS): string =>
  `TERM#${buckets}#${bucket}`;
export const postingSk = (day: IsoDate, id: string): string => `${day}#${id}`;

/** The inclusive posting `sk` bounds of a date range (the same shape as a category entry's `categorySk`). */
export const postingRange = categoryRange;
