import type { Classification } from '../classification';
import type { IsoDate, Paper } from '../paper';
import type { IngestedDay, ListedPaper, ListingOrigin, PaperRecord } from './items';

/**
 * The port the pipeline's stages and the query API see. The DynamoDB adapter
 * lives in `dynamo-paper-store.ts`; nothing outside `shared/store/` knows the
 * table's keys.
 */

export interface Page<T> {
  items: T[];
  /** Opaque; pass it back to get the next page. Absent on the last page. */
  cursor?: string;
}

export interface PageRequest {
  limit: number;
  cursor?: string;
}

/** What happened to one listing write. */
export type ListingWriteOutcome = 'created' | 'updated' | 'stale';

export interface PaperStore {
  /**
   * Stores one paper as listed on `origin.listedOn`. Idempotent: the same write twice
   * leaves the same item. A write from an older fetch than the stored one changes
   * nothing and returns `stale`, so a late duplicate never rolls upvotes back.
   * Keeps the classification a previous write stored.
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
   * @throws ListingNotStoredError when the listing is not in the table (yet).
   */
  putClassification(write: ClassificationWrite): Promise<CategoryChanges>;

  /** Writes category entries in as few batch requests as possible. Idempotent. */
  applyCategoryChanges(changes: readonly CategoryChanges[]): Promise<void>;

  papersListedOn(day: IsoDate, page: PageRequest): Promise<Page<ListedPaper>>;
  papersInCategory(code: string, from: IsoDate, to: IsoDate, page: PageRequest): Promise<Page<ListedPaper>>;
  paperById(id: string): Promise<PaperRecord | undefined>;
  ingestedDays(page: PageRequest): Promise<Page<IngestedDay>>;
}

/** The read side alone: what the query API depends on. */
export type PaperReader = Pick<
  PaperStore,
  'papersListedOn' | 'papersInCategory' | 'paperById' | 'ingestedDays'
>;

export interface ClassificationWrite {
  paper: Paper;
  listedOn: IsoDate;
  classification: Classification;
}

/** Opaque to callers: produced by `putClassification`, consumed by `applyCategoryChanges`. */
export interface CategoryChanges {
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

/** The table kept refusing a batch write (throttling) after every retry. */
export class StoreThrottledError extends Error {
  override name = 'StoreThrottledError';
}
