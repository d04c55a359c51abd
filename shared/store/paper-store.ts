import type { CategoryScore, Classification } from '../classification';
import type { ArxivRecord, EnrichmentState } from '../enrichment';
import type { IsoDate, Paper } from '../paper';
import type { QualityListing } from '../quality/live-quality';
import type {
  CategoryCount,
  EnrichmentFields,
  IngestedDay,
  ListedPaper,
  ListingOrigin,
  PaperRecord,
  RankedPaper,
} from './items';
import type { RangeRequest, SearchRequest } from './ranked-reads';

/**
 * The port the pipeline's stages and the query API see. The DynamoDB adapter
 * lives in `dynamo-paper-store.ts`; nothing outside `shared/store/` knows the
 * table's keys.
 */

export interface Page<T> {
  items: T[];
  /** Opaque; pass it back to get the next page. Absent on the last page. */
  cursor?: string;
  /**
   * When the store has them: each item's JSON, exactly `JSON.stringify(items[i])`, as stored
   * beside it (see `LISTED_PAPER_VIEW`), so the API can send a page without serialising it again.
   * A symbol key: spreading a page keeps it, `JSON.stringify` leaves it out.
   */
  [ITEMS_JSON]?: readonly string[];
}

/** The key of {@link Page}'s items as JSON. */
export const ITEMS_JSON: unique symbol = Symbol('itemsJson');

export interface PageRequest {
  limit: number;
  cursor?: string;
}

/**
 * How a day's papers are ordered. `upvotes` is a live ranking: upvotes change while a client
 * pages, so a paper may come twice or not at all. `id` never changes: each paper once.
 */
export type DayOrder = 'upvotes' | 'id';

export interface CategoryQueryOptions {
  /**
   * `from`–`to` was derived from today's date (the client gave no bound), so it moves at UTC
   * midnight. Such a query is one query whatever the day: its cursors carry the range of its first
   * page, and a next page keeps to that range rather than to `from`–`to`.
   */
  rollingRange?: boolean;
  /**
   * Newest day first (within a day, ids descending) instead of oldest first: for a reader that
   * keeps only the first entries of a range, such as a feed, so it keeps the newest. Its cursors
   * continue this order only.
   */
  newestFirst?: boolean;
}

/**
 * What happened to one listing write: stored for the first time, changed, `unchanged` (the
 * table already held the same paper, figures and classification: at most the fetch time moved,
 * and no snapshot or entry was written), or `stale` (the table holds a newer fetch: nothing written).
 */
export type ListingWriteOutcome = 'created' | 'updated' | 'unchanged' | 'stale';

/** One listing to store: the paper as listed (its figures included), where it was fetched, and its classification. */
export interface ListingWrite {
  paper: Paper;
  origin: ListingOrigin;
  /** Computed from this fetch of the paper. Absent: the stored classification, if any, is kept. */
  classification?: Classification;
  /** The model's ranked categories, stored beside `classification` (which may be arXiv's). */
  predictedCategories?: CategoryScore[];
  /** What arXiv said (with `enrichment: 'enriched'`). */
  arxiv?: ArxivRecord;
  /**
   * Where the paper stands with arXiv. Absent: the stored state is kept. `pending` never replaces
   * an earlier `enriched`: arXiv's categories stay until arXiv answers again.
   */
  enrichment?: EnrichmentState;
}

/** One listing write's result: its outcome, or the error that kept it from being written (retry it). */
export type ListingWriteResult =
  | { outcome: ListingWriteOutcome; error?: undefined }
  | { outcome?: undefined; error: Error };

export interface PaperStore {
  /**
   * Stores a batch of listings, each in one piece with its classification, its category entries
   * (those it assigns; those a previous classification assigned and this one does not, removed)
   * and, when its upvotes or comments changed (its first capture included), an upvote snapshot
   * (`UPVOTES#<day>#<fetchedAt>`), and its keyword postings when its text is not the one indexed
   * (`shared/store/search-index.ts`). Ordered by fetch: a listing whose stored fetch is newer is left
   * as it is (`stale`). Idempotent: a redelivery writes nothing. Safe against a concurrent writer
   * of the same listing (each write is conditioned on the state it was planned from, and planned
   * again when that moved). Never throws for one listing: each result is its outcome or its error.
   */
  storeListings(writes: readonly ListingWrite[]): Promise<ListingWriteResult[]>;

  /**
   * Stores one paper as listed on `origin.listedOn`. Idempotent: the same write twice
   * leaves the same item. A write from an older fetch than the stored one changes
   * nothing and returns `stale`, so a late duplicate never rolls upvotes back.
   * Keeps the classification a previous write stored. One listing of {@link PaperStore.storeListings}.
   * @throws the write's error when it could not be written.
   */
  putListing(paper: Paper, origin: ListingOrigin): Promise<ListingWriteOutcome>;

  /**
   * Records that a listing was fetched for `day` and how many papers it held, so a day
   * fetched empty is still an ingested day. An older fetch never overwrites a newer one, and an
   * empty fetch never overwrites a count: `listed` is the last non-empty fetch's (0 only for a day
   * that was never fetched with papers).
   */
  recordFetchedDay(day: IsoDate, fetch: { fetchedAt: string; listed: number }): Promise<void>;

  /** Adds papers to the days they were listed on. Idempotent (a set union). */
  recordListedDays(paperIdsByDay: ReadonlyMap<IsoDate, readonly string[]>): Promise<void>;

  /**
   * Stores a listing's classification on the listing item (per record, so one
   * missing listing fails alone) and returns the category-entry changes it implies:
   * entries for the assigned categories, and removals for categories a previous
   * classification assigned and this one does not. Apply them, batched across
   * records, with {@link PaperStore.applyCategoryChanges}.
   *
   * Ordered by the fetch it was computed from: when the table holds a newer fetch of the
   * listing, the classification is refused (the newer fetch's message classifies it) and its
   * changes write nothing. A redelivery of the current one stores the same values again.
   * @throws ListingNotStoredError when the listing is not in the table (yet).
   */
  putClassification(write: ClassificationWrite): Promise<CategoryChanges>;

  /**
   * Writes category entries in as few batch requests as possible. Idempotent. A change
   * whose entries could not all be written (throttled: {@link StoreThrottledError}, or the
   * request's own error) fails alone: returns those failures by the change's index in
   * `changes`, empty when every entry was written.
   *
   * Afterwards each listing's entries are checked against the classification it holds now,
   * and rewritten from it where a newer one was stored while these were being written, so
   * a late write of an older classification's entries never outlives it.
   */
  applyCategoryChanges(changes: readonly CategoryChanges[]): Promise<ReadonlyMap<number, Error>>;

  /** The papers listed on `day`, most upvoted first (`upvotes`, the default) or by id (`id`). */
  papersListedOn(day: IsoDate, page: PageRequest, order?: DayOrder): Promise<Page<ListedPaper>>;
  papersInCategory(
    code: string,
    from: IsoDate,
    to: IsoDate,
    page: PageRequest,
    options?: CategoryQueryOptions,
  ): Promise<Page<ListedPaper>>;
  paperById(id: string): Promise<PaperRecord | undefined>;

  /** Keyword search: one postings range per term, ranked by BM25 (ties by upvotes) or by date. */
  searchPapers(request: SearchRequest): Promise<Page<RankedPaper>>;
  /** Papers listed in a range, each once with its days, most upvoted or latest first. */
  papersInRange(request: RangeRequest): Promise<Page<RankedPaper>>;
  /** Papers per category within a range, most first. */
  categoryCounts(from: IsoDate, to: IsoDate): Promise<CategoryCount[]>;
  /**
   * Every listing stored for `day`, as live quality reads it: its enrichment state, arXiv's
   * categories and the model's first categories (`shared/quality/live-quality.ts`). One Query on
   * the day's partition of `byDayId` (all its pages), projecting only those; never a Scan.
   */
  qualityListingsOn(day: IsoDate): Promise<QualityListing[]>;
  /** The day's record, if the day was fetched or has papers stored (tells an empty day from one never fetched). */
  ingestedDay(day: IsoDate): Promise<IngestedDay | undefined>;

  /**
   * The paper as stored on one listing (its figures included), read consistently; undefined
   * when that listing is not stored. For a classify message that carries only a reference.
   */
  listedPaper(id: string, listedOn: IsoDate): Promise<Paper | undefined>;

  /** {@link PaperStore.listedPaper}, with what enrichment stored on the listing. */
  listedPaperWithEnrichment(
    id: string,
    listedOn: IsoDate,
  ): Promise<{ paper: Paper; enrichment: EnrichmentFields } | undefined>;
  ingestedDays(page: PageRequest): Promise<Page<IngestedDay>>;
}

/** The read side alone: what the query API depends on. */
export type PaperReader = Pick<
  PaperStore,
  | 'papersListedOn'
  | 'papersInCategory'
  | 'paperById'
  | 'ingestedDays'
  | 'searchPapers'
  | 'papersInRange'
  | 'categoryCounts'
  | 'ingestedDay'
  | 'qualityListingsOn'
>;

export interface ClassificationWrite {
  paper: Paper;
  listedOn: IsoDate;
  /** When the listing the classification was computed from was fetched (the classify message's origin). */
  fetchedAt: string;
  classification: Classification;
}

/** Opaque to callers: produced by `putClassification`, consumed by `applyCategoryChanges`. */
export interface CategoryChanges {
  /** The listing item the classification is stored on. */
  readonly listing: { pk: string; sk: string };
  /** Which of the listing's classifications these changes carry out. */
  readonly classification: string;
  readonly puts: readonly ({ pk: string; sk: string } & Record<string, unknown>)[];
  readonly deletes: readonly { pk: string; sk: string }[];
}

/** The listing a classification belongs to is not stored: retry later (it may still be in flight). */
export class ListingNotStoredError extends Error {
  override name = 'ListingNotStoredError';
}

/** A cursor that this store did not issue for this query. */
export class InvalidCursorError extends Error {
  override name = 'InvalidCursorError';
}

/** A listing's classification changed on every check while its entries were written: retry later. */
export class ClassificationChangedError extends Error {
  override name = 'ClassificationChangedError';
}

/** The table kept refusing a batch write (throttling) after every retry. */
export class StoreThrottledError extends Error {
  override name = 'StoreThrottledError';
}

/**
 * A stored listing fails its schema, or lacks what a query projects (written by hand, or by an older
 * version): no retry can read or write over it until it is repaired.
 */
export class UnreadableListingError extends Error {
  override name = 'UnreadableListingError';
}
