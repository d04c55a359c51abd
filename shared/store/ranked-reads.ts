import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Classification } from '../classification';
import { canonicalCategory, describeCategory } from '../classify/taxonomy';
import { type IsoDate, IsoDateSchema } from '../paper';
import { papersTable } from '../resources';
import { type Candidate, compareCandidates, rankCandidates, tied } from '../search/rank';
import { textHash } from '../search/terms';
import * as z from '../zod';
import { batchGet, keyId } from './batch-get';
import { type DayListingsRead, dayListingPages } from './day-listings';
import { decodeCursor, encodeCursor } from './dynamo-paper-store';
import {
  type CategoryCount,
  LISTING_WITHOUT_VIEW,
  type ListingTableItem,
  ListingTableItemSchema,
  listedPaperFromListing,
  listingFigures,
  type RankedPaper,
} from './items';
import { listingSk, paperPk, TERM_BUCKETS } from './keys';
import { InvalidCursorError, type Page } from './paper-store';
import { readPostings } from './search-index';

/**
 * Reads that rank papers over a range, each paper once: keyword search over the postings, ranked
 * ranges (`sort=upvotes|date`) and per-category counts over the days' listings. Every read is a
 * Query on one partition (a term bucket's postings, a day's listings, the days) or a BatchGet by
 * key; none is a Scan.
 */

export type RangeOrder = 'upvotes' | 'date';
export type SearchOrder = 'relevance' | 'date';

/** Which listings count: assigned any of `categories` (or, with `primaryOnly`, as their primary). */
export interface CategoryFilter {
  categories?: readonly string[];
  primaryOnly?: boolean;
}

export interface SearchRequest extends CategoryFilter {
  /** Stemmed, distinct: `queryTerms` of the text typed. */
  terms: readonly string[];
  /** Inclusive; the whole history when absent. */
  range?: { from: IsoDate; to: IsoDate };
  order: SearchOrder;
  limit: number;
  cursor?: string;
}

export interface RangeRequest extends CategoryFilter {
  from: IsoDate;
  to: IsoDate;
  order: RangeOrder;
  limit: number;
  cursor?: string;
}

/** Where a read reports an item it skipped (the store's logger). */
export type SkipReporter = (item: Record<string, unknown>, problem: string) => void;

/** Days read at once for a range: the day queries are small, and 366 at once would be a burst. */
const DAY_READ_CONCURRENCY = 8;
/**
 * Candidates one search page reads at most before it answers: with a narrow category most
 * candidates are filtered out, and the page then ends short with a cursor to go on from.
 */
const MAX_CANDIDATES_PER_PAGE = 500;

/** Keyword search: see {@link SearchRequest}. */
/** @param termBuckets the postings' layout (`keys.ts`), the one the listings were indexed with. */
export async function searchPapers(
  client: DynamoDBDocumentClient,
  tableName: string,
  request: SearchRequest,
  skip: SkipReporter,
  termBuckets: number = TERM_BUCKETS,
): Promise<Page<RankedPaper>> {
  const name = `search:${JSON.stringify([request.terms, request.range ?? null, filterName(request), request.order])}`;
  const offset = offsetOf(request.cursor, name);
  const { postingsByTerm, listingsInRange } = await readPostings(
    client,
    tableName,
    request.terms,
    request.range,
    termBuckets,
  );
  let candidates = rankCandidates(postingsByTerm, listingsInRange);
  if (request.order === 'date') {
    // Newest first; among a day's papers the most relevant first. Every word must match.
    candidates = candidates
      .filter((candidate) => candidate.matched === request.terms.length)
      .sort((a, b) => {
        const dayA = a.listings[0]?.day ?? '';
        const dayB = b.listings[0]?.day ?? '';
        return dayA < dayB ? 1 : dayA > dayB ? -1 : compareCandidates(a, b);
      });
  }
  const breakTies = request.order === 'relevance';
  const items: RankedPaper[] = [];
  // A page resumes at the start of the tie group its offset falls in: the group is re-read and
  // ordered by upvotes again, and the places already given are passed over.
  let start = offset;
  while (breakTies && start > 0 && sameRank(candidates, start - 1, start)) start--;
  let position = start;
  let read = 0;
  while (position < candidates.length && items.length < request.limit && read < MAX_CANDIDATES_PER_PAGE) {
    let end = Math.min(candidates.length, position + Math.max(request.limit - items.length, 10));
    while (breakTies && end < candidates.length && sameRank(candidates, end - 1, end)) end++;
    const chunk = candidates.slice(position, end);
    read += chunk.length;
    const papers = await verifiedPapers(client, tableName, chunk, request, skip);
    const ordered = chunk
      .map((candidate, index) => ({ candidate, paper: papers[index], at: position + index }))
      .sort((a, b) =>
        breakTies && tied(a.candidate, b.candidate) && a.candidate.matched === b.candidate.matched
          ? (b.paper?.upvotes ?? -1) - (a.paper?.upvotes ?? -1) || a.at - b.at
          : a.at - b.at,
      );
    for (const [index, { paper }] of ordered.entries()) {
      const at = position + index;
      if (at < offset) continue;
      if (items.length === request.limit) {
        return { items, cursor: encodeCursor({ q: name, k: { o: at } }) };
      }
      if (paper) items.push(paper);
    }
    position = end;
  }
  return {
    items,
    cursor: position < candidates.length ? encodeCursor({ q: name, k: { o: position } }) : undefined,
  };
}

function sameRank(candidates: readonly Candidate[], a: number, b: number): boolean {
  const first = candidates[a];
  const second = candidates[b];
  return (
    first !== undefined && second !== undefined && first.matched === second.matched && tied(first, second)
  );
}

/**
 * The candidates' listings as stored, each candidate's kept only where the text still hashes to
 * what its postings were made from (postings are written in the listing's transaction, but read
 * before it here: a text that changed in between finds nothing until the next search), and only
 * when it passes the category filter.
 */
async function verifiedPapers(
  client: DynamoDBDocumentClient,
  tableName: string,
  candidates: readonly Candidate[],
  filter: SearchRequest,
  skip: SkipReporter,
): Promise<(RankedPaper | undefined)[]> {
  const stored = await storedListings(
    client,
    tableName,
    candidates.map(({ id, listings }) => ({ id, days: listings.map(({ day }) => day) })),
    skip,
  );
  return candidates.map((candidate) => {
    const listings: ListingTableItem[] = [];
    for (const { day, hash } of candidate.listings) {
      const listing = stored(candidate.id, day);
      if (listing && textHash(listing.paper) === hash) listings.push(listing);
    }
    if (!listings.some((listing) => passes(listing.classification, filter))) return undefined;
    return { ...rankedPaper(listings), score: Number(candidate.score.toFixed(4)) };
  });
}

/** Papers listed within `from`–`to`, each once, most upvoted or latest first. */
export async function papersInRange(
  client: DynamoDBDocumentClient,
  tableName: string,
  request: RangeRequest,
  skip: SkipReporter,
): Promise<Page<RankedPaper>> {
  const name = `range:${JSON.stringify([request.from, request.to, filterName(request), request.order])}`;
  const offset = offsetOf(request.cursor, name);
  const filtered = (request.categories?.length ?? 0) > 0;
  const listings = await rankingFieldsOfDays(client, tableName, request, filtered, skip);
  const byPaper = new Map<string, RankedListing>();
  for (const listing of listings) {
    if (!passes(listing.classification, request)) continue;
    const seen = byPaper.get(listing.id);
    const upvotes = listingFigures({ ...listing, paper: listing.paper ?? {} }).upvotes;
    byPaper.set(listing.id, {
      id: listing.id,
      days: [...(seen?.days ?? []), listing.listedOn],
      listedOn: seen && seen.listedOn > listing.listedOn ? seen.listedOn : listing.listedOn,
      upvotes: upvotes === undefined ? seen?.upvotes : Math.max(upvotes, seen?.upvotes ?? 0),
    });
  }
  const ranked = [...byPaper.values()];
  const byUpvotes = (a: RankedListing, b: RankedListing) => (b.upvotes ?? 0) - (a.upvotes ?? 0);
  const byDate = (a: RankedListing, b: RankedListing) =>
    a.listedOn < b.listedOn ? 1 : a.listedOn > b.listedOn ? -1 : 0;
  const byId = (a: RankedListing, b: RankedListing) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  ranked.sort((a, b) =>
    request.order === 'upvotes'
      ? byUpvotes(a, b) || byDate(a, b) || byId(a, b)
      : byDate(a, b) || byUpvotes(a, b) || byId(a, b),
  );
  const end = offset + request.limit;
  return {
    items: await pagePapers(client, tableName, ranked.slice(offset, end), skip),
    cursor: end < ranked.length ? encodeCursor({ q: name, k: { o: end } }) : undefined,
  };
}

/** One paper of a ranked range as its ranking fields give it: enough to order it, and where to read it. */
interface RankedListing {
  id: string;
  /** The days of its listings that passed the filter: the ones read for its page. */
  days: IsoDate[];
  /** Its latest listing's day. */
  listedOn: IsoDate;
  /** Its best upvotes over those listings, as {@link rankedPaper} gives them. */
  upvotes: number | undefined;
}

/**
 * The page's papers in full: their listings in the range read by key (one BatchGet per 100), each
 * made a {@link RankedPaper} as from the whole listings. A listing gone or unreadable since the
 * ranking read is left out (and reported); a paper with none left is.
 */
async function pagePapers(
  client: DynamoDBDocumentClient,
  tableName: string,
  page: readonly RankedListing[],
  skip: SkipReporter,
): Promise<RankedPaper[]> {
  const stored = await storedListings(client, tableName, page, skip);
  const papers: RankedPaper[] = [];
  for (const { id, days } of page) {
    const listings = days
      .map((day) => stored(id, day))
      .filter((listing): listing is ListingTableItem => listing !== undefined);
    if (listings.length > 0) papers.push(rankedPaper(listings));
  }
  return papers;
}

/**
 * The papers' listings on those days as stored (without their API views), read by key with
 * BatchGetItem: a lookup by id and day, undefined for a listing gone or unreadable (reported).
 */
async function storedListings(
  client: DynamoDBDocumentClient,
  tableName: string,
  papers: readonly { id: string; days: readonly IsoDate[] }[],
  skip: SkipReporter,
): Promise<(id: string, day: IsoDate) => ListingTableItem | undefined> {
  const keys = papers.flatMap(({ id, days }) => days.map((day) => ({ pk: paperPk(id), sk: listingSk(day) })));
  const stored = await batchGet(client, tableName, keys, LISTING_WITHOUT_VIEW);
  const listings = new Map<string, ListingTableItem>();
  for (const [key, raw] of stored) {
    const parsed = ListingTableItemSchema.safeParse(raw);
    if (parsed.success) listings.set(key, parsed.data);
    else skip(raw, z.prettifyError(parsed.error));
  }
  return (id, day) => listings.get(keyId({ pk: paperPk(id), sk: listingSk(day) }));
}

/** Papers per category within `from`–`to`: each paper counted once per category, most papers first. */
export async function categoryCounts(
  client: DynamoDBDocumentClient,
  tableName: string,
  from: IsoDate,
  to: IsoDate,
  skip: SkipReporter,
): Promise<CategoryCount[]> {
  const listings = await rankingFieldsOfDays(client, tableName, { from, to }, true, skip);
  const papers = new Map<string, Set<string>>();
  const primary = new Map<string, Set<string>>();
  const add = (counts: Map<string, Set<string>>, code: string, id: string) => {
    const set = counts.get(code) ?? new Set();
    set.add(id);
    counts.set(code, set);
  };
  for (const listing of listings) {
    const classification = listing.classification;
    if (!classification) continue;
    for (const code of assignedCodes(classification)) add(papers, code, listing.id);
    add(primary, canonicalCategory(classification.primaryCategory), listing.id);
  }
  return [...papers]
    .map(([code, ids]) => ({
      ...describeCategory(code),
      papers: ids.size,
      primary: primary.get(code)?.size ?? 0,
    }))
    .sort((a, b) => b.papers - a.papers || (a.code < b.code ? -1 : 1));
}

/**
 * What ranking a range and counting its categories read of each listing: its key, day and
 * figures, and its classification when asked for, never the paper (its title, abstract and
 * authors are most of the item), from `byDayRanking`, which holds no more than that. The page's
 * papers are then read in full by key.
 */
const RankingFieldsSchema = z.object({
  pk: z.string().check(z.startsWith(paperPk(''))),
  listedOn: IsoDateSchema,
  upvotes: ListingTableItemSchema.shape.upvotes,
  upvotesFetchedAt: ListingTableItemSchema.shape.upvotesFetchedAt,
  classification: ListingTableItemSchema.shape.classification,
});
type RankingFields = z.infer<typeof RankingFieldsSchema> & {
  id: string;
  /** Only its upvotes, on items written before the figures moved out of the paper (see {@link withPaperUpvotes}). */
  paper?: { upvotes?: number };
};

const rankingRead = (withClassification: boolean): DayListingsRead => ({
  index: papersTable.indexes.byDayRanking,
  projection: `#pk, #listedOn, #upvotes, #upvotesFetchedAt${withClassification ? ', #classification' : ''}`,
  names: {
    '#pk': 'pk',
    '#listedOn': 'listedOn',
    '#upvotes': 'upvotes',
    '#upvotesFetchedAt': 'upvotesFetchedAt',
    ...(withClassification ? { '#classification': 'classification' } : {}),
  },
});

/** The ranking fields of every listing of every day in `from`–`to`: each day's listings read by projection. */
async function rankingFieldsOfDays(
  client: DynamoDBDocumentClient,
  tableName: string,
  { from, to }: { from: IsoDate; to: IsoDate },
  withClassification: boolean,
  skip: SkipReporter,
): Promise<readonly RankingFields[]> {
  // Counted, not compared: the day after 9999-12-31 is no longer a four-digit date, and sorts before it.
  const count = Math.round((Date.parse(to) - Date.parse(from)) / DAY_MS) + 1;
  const days: IsoDate[] = Array.from({ length: Math.max(0, count) }, (_, i) =>
    new Date(Date.parse(from) + i * DAY_MS).toISOString().slice(0, 10),
  );
  const read = rankingRead(withClassification);
  const listings: RankingFields[][] = new Array(days.length);
  let next = 0;
  const worker = async () => {
    while (next < days.length) {
      const index = next++;
      const items: RankingFields[] = [];
      for await (const page of dayListingPages(client, tableName, days[index] as IsoDate, read)) {
        for (const raw of page) {
          const parsed = RankingFieldsSchema.safeParse(raw);
          if (parsed.success) items.push({ ...parsed.data, id: parsed.data.pk.slice(paperPk('').length) });
          else skip(raw, z.prettifyError(parsed.error));
        }
      }
      listings[index] = items;
    }
  };
  await Promise.all(Array.from({ length: Math.min(DAY_READ_CONCURRENCY, days.length) }, worker));
  return withPaperUpvotes(client, tableName, listings.flat());
}

/** What {@link withPaperUpvotes} reads of a listing; the listing itself is checked where it is read in full. */
const PaperUpvotesSchema = z.object({ paper: z.optional(z.object({ upvotes: z.optional(z.number()) })) });

/**
 * A listing written before the figures moved out of the paper keeps its upvotes in `paper`, which
 * `byDayRanking` does not hold (an index projects top-level attributes only, and the paper is most
 * of the item): those listings, and those with no figures at all, which look the same there, have
 * their `paper.upvotes` read from the table by key.
 */
async function withPaperUpvotes(
  client: DynamoDBDocumentClient,
  tableName: string,
  listings: readonly RankingFields[],
): Promise<readonly RankingFields[]> {
  const older = listings.filter((listing) => listing.upvotesFetchedAt === undefined);
  if (older.length === 0) return listings;
  const stored = await batchGet(
    client,
    tableName,
    older.map((listing) => ({ pk: listing.pk, sk: listingSk(listing.listedOn) })),
    {
      expression: '#pk, #sk, #paper.#upvotes',
      names: { '#pk': 'pk', '#sk': 'sk', '#paper': 'paper', '#upvotes': 'upvotes' },
    },
  );
  return listings.map((listing) => {
    if (listing.upvotesFetchedAt !== undefined) return listing;
    const parsed = PaperUpvotesSchema.safeParse(
      stored.get(keyId({ pk: listing.pk, sk: listingSk(listing.listedOn) })),
    );
    const upvotes = parsed.success ? parsed.data.paper?.upvotes : undefined;
    return upvotes === undefined ? listing : { ...listing, paper: { upvotes } };
  });
}

/** One paper from its listings in the range: the latest listing's fields, its best upvotes, every day. */
function rankedPaper(listings: readonly ListingTableItem[]): RankedPaper {
  const sorted = [...listings].sort((a, b) =>
    a.listedOn < b.listedOn ? -1 : a.listedOn > b.listedOn ? 1 : 0,
  );
  const latest = sorted[sorted.length - 1] as ListingTableItem;
  const classified = [...sorted].reverse().find((listing) => listing.classification);
  const paper = listedPaperFromListing(
    classified && !latest.classification ? { ...latest, classification: classified.classification } : latest,
  );
  const upvotes = sorted
    .map((listing) => listedPaperFromListing(listing).upvotes)
    .filter((value): value is number => value !== undefined);
  return {
    ...paper,
    ...(upvotes.length > 0 ? { upvotes: Math.max(...upvotes) } : {}),
    days: sorted.map((listing) => listing.listedOn),
  };
}

function assignedCodes(classification: Classification): Set<string> {
  return new Set(
    classification.categories
      .filter((category) => category.assigned)
      .map((category) => canonicalCategory(category.code)),
  );
}

function passes(classification: Classification | undefined, filter: CategoryFilter): boolean {
  if (!filter.categories || filter.categories.length === 0) return true;
  if (!classification) return false;
  const wanted = filter.categories.map(canonicalCategory);
  if (filter.primaryOnly) return wanted.includes(canonicalCategory(classification.primaryCategory));
  const assigned = assignedCodes(classification);
  return wanted.some((code) => assigned.has(code));
}

function filterName(filter: CategoryFilter): string {
  const codes = [...new Set((filter.categories ?? []).map(canonicalCategory))].sort();
  return `${codes.join(',')}${filter.primaryOnly ? ':primary' : ''}`;
}

const OffsetSchema = z.strictObject({ o: z.number().check(z.int(), z.nonnegative(), z.maximum(1_000_000)) });

/** @throws InvalidCursorError (from decodeCursor) for a cursor of another query, or a forged offset. */
function offsetOf(cursor: string | undefined, name: string): number {
  const decoded = decodeCursor(cursor, name);
  if (!decoded) return 0;
  const parsed = OffsetSchema.safeParse(decoded.k);
  if (!parsed.success) throw new InvalidCursorError('cursor does not fit this query');
  return parsed.data.o;
}

const DAY_MS = 24 * 60 * 60 * 1000;
