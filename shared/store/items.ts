import * as z from 'zod';
import { ClassificationSchema } from '../classification';
import { IsoDateSchema, PaperSchema } from '../paper';

/**
 * Table items as they come back from DynamoDB: one schema per item kind, so a
 * read never trusts the table's shape blindly (an item written by an older
 * version, or by hand, fails with a message instead of leaking into a response).
 */

const timestamp = z.iso.datetime({ offset: true });

/** Where a listing came from: enough to find its raw bytes in the archive and order competing fetches. */
export const ListingOriginSchema = z.object({
  listedOn: IsoDateSchema,
  /** When the listing was fetched; a write from an older fetch never overwrites a newer one. */
  fetchedAt: timestamp,
  archiveKey: z.string().min(1),
});
export type ListingOrigin = z.infer<typeof ListingOriginSchema>;

/** One paper on one listing day (`PAPER#<id>` / `LISTED#<day>`). */
export const ListingTableItemSchema = ListingOriginSchema.extend({
  pk: z.string(),
  sk: z.string(),
  /** The paper without its per-day figures (items written before they moved out may still hold them). */
  paper: PaperSchema,
  /** byDay's sort key: the paper's upvotes on this day, 0 while no fetch has given any. */
  upvotes: z.number().int().nonnegative(),
  /** The fetch that gave `upvotes`; absent while none has (then `upvotes` is only the index's 0). */
  upvotesFetchedAt: timestamp.optional(),
  /** Comments on this day, as the latest fetch that gave a figure said. */
  comments: z.number().int().nonnegative().optional(),
  classification: ClassificationSchema.optional(),
  /** The fetch `classification` was computed from (absent on items classified before it was kept). */
  classifiedFrom: timestamp.optional(),
  /** Every category code that may have an entry for this listing; only grows. */
  indexedCategories: z.set(z.string()).optional(),
  /** The postings layout and text hash the listing's keyword postings were written from (`search-index.ts`). */
  searchIndexed: z.string().optional(),
  storedAt: timestamp,
});
export type ListingTableItem = z.infer<typeof ListingTableItemSchema>;

/**
 * A listing's upvotes and comments as the source gave them, each from the latest fetch that
 * gave it; absent when none did. Items written before the figures moved out of `paper` carry
 * them there.
 */
export function listingFigures(item: ListingTableItem): { upvotes?: number; comments?: number } {
  const upvotes = item.upvotesFetchedAt === undefined ? item.paper.upvotes : item.upvotes;
  const comments = item.comments ?? item.paper.comments;
  return {
    ...(upvotes === undefined ? {} : { upvotes }),
    ...(comments === undefined ? {} : { comments }),
  };
}

/** One assigned category of one listing (`PAPER#<id>` / `CATEGORY#<code>#<day>`). */
export const CategoryEntryTableItemSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  code: z.string(),
  score: z.number(),
  listedOn: IsoDateSchema,
  paper: PaperSchema,
  classification: ClassificationSchema,
});
export type CategoryEntryTableItem = z.infer<typeof CategoryEntryTableItemSchema>;

/**
 * One ingested day (`DAYS` / `<day>`): what fetch-listing fetched for it, and the set of
 * papers stored as listed on it. Either half may be missing: a day can be fetched and
 * empty (a weekend), or hold papers from a listing fetched for another day.
 */
export const DayItemSchema = z.object({
  pk: z.literal('DAYS'),
  sk: IsoDateSchema,
  /** A string set: adding the same id twice counts it once, so replays never inflate the count. */
  paperIds: z.set(z.string()).optional(),
  lastStoredAt: timestamp.optional(),
  /** Papers in the latest listing fetched for this day. */
  listed: z.number().int().nonnegative().optional(),
  lastFetchedAt: timestamp.optional(),
});
export type DayItem = z.infer<typeof DayItemSchema>;

/**
 * A paper as the query API returns it from a listing or category entry: the paper,
 * the day it was listed, and its categories once classified.
 */
export const ListedPaperSchema = PaperSchema.extend({
  listedOn: IsoDateSchema,
  fetchedAt: timestamp.optional(),
  categories: ClassificationSchema.shape.categories.optional(),
  primaryCategory: z.string().optional(),
  classifierVersion: z.string().optional(),
  categorySource: ClassificationSchema.shape.categorySource.optional(),
});
export type ListedPaper = z.infer<typeof ListedPaperSchema>;

/**
 * One upvote snapshot (`PAPER#<id>` / `UPVOTES#<day>#<fetchedAt>`): a listing's figures as one fetch
 * gave them, written when a fetch first captures the listing or changes its figures.
 */
export const UpvoteSnapshotTableItemSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  listedOn: IsoDateSchema,
  fetchedAt: timestamp,
  upvotes: z.number().int().nonnegative().optional(),
  comments: z.number().int().nonnegative().optional(),
});
export type UpvoteSnapshotTableItem = z.infer<typeof UpvoteSnapshotTableItemSchema>;

/** One point of a paper's upvote history: the figures of one listing as one fetch gave them. */
export const UpvoteSnapshotSchema = UpvoteSnapshotTableItemSchema.omit({ pk: true, sk: true });
export type UpvoteSnapshot = z.infer<typeof UpvoteSnapshotSchema>;

/** One paper with every day it was listed (`GET /papers/{id}`). */
export const PaperRecordSchema = PaperSchema.omit({ listedOn: true, upvotes: true, comments: true }).extend({
  listings: z.array(
    z.object({
      listedOn: IsoDateSchema,
      upvotes: z.number().int().nonnegative().optional(),
      comments: z.number().int().nonnegative().optional(),
      fetchedAt: timestamp,
    }),
  ),
  /**
   * Every snapshot of the paper's figures, oldest fetch first (a fetch that changed nothing wrote
   * none). Empty for a paper stored before snapshots were written.
   */
  upvoteHistory: z.array(UpvoteSnapshotSchema),
  categories: ClassificationSchema.shape.categories.optional(),
  primaryCategory: z.string().optional(),
  classifierVersion: z.string().optional(),
  categorySource: ClassificationSchema.shape.categorySource.optional(),
});
export type PaperRecord = z.infer<typeof PaperRecordSchema>;

export const IngestedDaySchema = z.object({
  day: IsoDateSchema,
  /** Papers stored as listed on the day. */
  papers: z.number().int().nonnegative(),
  /** Papers in the latest listing fetched for the day, when one was. */
  listed: z.number().int().nonnegative().optional(),
  lastFetchedAt: timestamp.optional(),
  lastStoredAt: timestamp.optional(),
});
export type IngestedDay = z.infer<typeof IngestedDaySchema>;

/**
 * A paper once over a range (`sort=upvotes|date`, keyword search): the latest of its listings in
 * the range, with every day of the range it was listed on.
 */
export const RankedPaperSchema = ListedPaperSchema.extend({
  /** The days in the range it was listed on, oldest first; `listedOn` is the last of them. */
  days: z.array(IsoDateSchema),
  /** Keyword search only: the BM25 score that ranked it. */
  score: z.number().optional(),
});
export type RankedPaper = z.infer<typeof RankedPaperSchema>;

/** `GET /categories`: papers assigned one category within a range. */
export const CategoryCountSchema = z.object({
  code: z.string(),
  name: z.string(),
  group: z.string(),
  /** Distinct papers listed in the range with the category assigned. */
  papers: z.number().int().nonnegative(),
  /** Of those, the papers whose primary category it is. */
  primary: z.number().int().nonnegative(),
});
export type CategoryCount = z.infer<typeof CategoryCountSchema>;
