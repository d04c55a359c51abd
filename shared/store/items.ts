import { CategoryScoreSchema, ClassificationSchema } from '../classification';
import { NonEmptyStringSchema, NonNegativeIntSchema } from '../common-schemas';
import { type ArxivRecord, ArxivRecordSchema, EnrichmentStateSchema } from '../enrichment';
import { type IsoDate, IsoDateSchema, type Paper, PaperSchema } from '../paper';
import type { ListedPaper } from '../query/response-schemas';
import * as z from '../zod';
import { UnreadableListingError } from './paper-store';

export type {
  CategoryCount,
  IngestedDay,
  ListedPaper,
  PaperRecord,
  RankedPaper,
  UpvoteSnapshot,
} from '../query/response-schemas';

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
  archiveKey: NonEmptyStringSchema,
});
export type ListingOrigin = z.infer<typeof ListingOriginSchema>;

/**
 * What enrichment adds to a listing (`shared/arxiv/`), kept on the listing item, on its category
 * entries and in the API's views. Absent on listings stored before enrichment.
 */
export const EnrichmentFieldsSchema = z.object({
  /** The model's ranked categories (its top five), for every classified paper, whatever `classification` holds. */
  predictedCategories: z.optional(z.array(CategoryScoreSchema)),
  /** What arXiv said about the paper, once it did (`enrichment: 'enriched'`). */
  arxiv: z.optional(ArxivRecordSchema),
  /** Where the paper stands with arXiv (see `EnrichmentStateSchema`). */
  enrichment: z.optional(EnrichmentStateSchema),
});
export type EnrichmentFields = z.infer<typeof EnrichmentFieldsSchema>;

/** What the arXiv API said of a paper, as stored on its listing (`arxiv`): one schema, `shared/enrichment.ts`. */
export const ArxivEnrichmentSchema = ArxivRecordSchema;
export type ArxivEnrichment = ArxivRecord;
export { type EnrichmentState, EnrichmentStateSchema } from '../enrichment';

/** One paper on one listing day (`PAPER#<id>` / `LISTED#<day>`). */
export const ListingTableItemSchema = z.extend(ListingOriginSchema, {
  pk: z.string(),
  sk: z.string(),
  /** The paper without its per-day figures (items written before they moved out may still hold them). */
  paper: PaperSchema,
  /** byDay's sort key: the paper's upvotes on this day, 0 while no fetch has given any. */
  upvotes: NonNegativeIntSchema,
  /** The fetch that gave `upvotes`; absent while none has (then `upvotes` is only the index's 0). */
  upvotesFetchedAt: z.optional(timestamp),
  /** Comments on this day, as the latest fetch that gave a figure said. */
  comments: z.optional(NonNegativeIntSchema),
  classification: z.optional(ClassificationSchema),
  /** The fetch `classification` was computed from (absent on items classified before it was kept). */
  classifiedFrom: z.optional(timestamp),
  /** Every category code that may have an entry for this listing; only grows. */
  indexedCategories: z.optional(z.set(z.string())),
  /** The postings layout and text hash the listing's keyword postings were written from (`search-index.ts`). */
  searchIndexed: z.optional(z.string()),
  storedAt: timestamp,
  /**
   * How many writes the item has had (each adds one): what a write conditions on, so no concurrent
   * write of the listing goes unseen (`listing-writes.ts`). Absent on items written before it.
   */
  revision: z.optional(NonNegativeIntSchema),
  ...EnrichmentFieldsSchema.shape,
});
export type ListingTableItem = z.infer<typeof ListingTableItemSchema>;

/**
 * A stored listing item read through its schema, or, when it fails it (written by hand, or by an
 * older version), the error naming the item and what is wrong with it: a write over it or a read
 * of it fails that one paper, for good, never its batch.
 */
export function readListingItem(raw: Record<string, unknown>): ListingTableItem | UnreadableListingError {
  const item = z.safeParse(ListingTableItemSchema, raw);
  if (item.success) return item.data;
  const problems = item.error.issues.map((issue) => `${issue.path.join('.') || '(item)'}: ${issue.message}`);
  return new UnreadableListingError(
    `stored listing ${String(raw.pk)} / ${String(raw.sk)} is unreadable, repair or delete it: ${problems.join('; ')}`,
  );
}

/**
 * A listing's upvotes and comments as the source gave them, each from the latest fetch that
 * gave it; absent when none did. Items written before the figures moved out of `paper` carry
 * them there.
 */
export function listingFigures(
  item: Pick<ListingTableItem, 'upvotes' | 'upvotesFetchedAt' | 'comments'> & {
    paper: Pick<ListingTableItem['paper'], 'upvotes' | 'comments'>;
  },
): { upvotes?: number; comments?: number } {
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
  ...EnrichmentFieldsSchema.shape,
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
  paperIds: z.optional(z.set(z.string())),
  lastStoredAt: z.optional(timestamp),
  /** Papers in the latest listing fetched for this day. */
  listed: z.optional(NonNegativeIntSchema),
  lastFetchedAt: z.optional(timestamp),
});
export type DayItem = z.infer<typeof DayItemSchema>;

/**
 * The one mapping of a listing to the paper the API returns for it: its paper, its figures as
 * the latest fetches gave them, its day and fetch, and its categories once classified. The store
 * reads through it, and writes its JSON beside the listing ({@link LISTED_PAPER_VIEW}), so a field
 * added here reaches both.
 */
export function listedPaperFromListing(item: ListingTableItem): ListedPaper {
  const { upvotes: _upvotes, comments: _comments, ...paper } = item.paper;
  return listedPaper(
    { ...paper, ...listingFigures(item) },
    item.listedOn,
    item.classification,
    item.fetchedAt,
    enrichmentFields(item),
  );
}

/** A category entry as the API returns it: the paper (without per-day figures), its day and its categories. */
export function listedPaperFromEntry(entry: CategoryEntryTableItem): ListedPaper {
  return listedPaper(entry.paper, entry.listedOn, entry.classification, undefined, enrichmentFields(entry));
}

/** The enrichment fields an item holds, only those set (an absent one is not sent as `undefined`). */
export function enrichmentFields(item: EnrichmentFields): EnrichmentFields {
  const { predictedCategories, arxiv, enrichment } = item;
  return {
    ...(predictedCategories === undefined ? {} : { predictedCategories }),
    ...(arxiv === undefined ? {} : { arxiv }),
    ...(enrichment === undefined ? {} : { enrichment }),
  };
}

/** The classification's fields of an API answer (none before the listing is classified). */
export function classificationFields(classification: z.infer<typeof ClassificationSchema> | undefined) {
  if (!classification) return {};
  return {
    categories: classification.categories,
    primaryCategory: classification.primaryCategory,
    classifierVersion: classification.classifierVersion,
    categorySource: classification.categorySource,
  };
}

function listedPaper(
  paper: Paper,
  listedOn: IsoDate,
  classification: z.infer<typeof ClassificationSchema> | undefined,
  fetchedAt?: string,
  enrichment: EnrichmentFields = {},
): ListedPaper {
  return { ...paper, listedOn, fetchedAt, ...classificationFields(classification), ...enrichment };
}

/**
 * The attribute of a listing and of a category entry that holds the API's JSON for it, written
 * in the same write as the item and validated then, so a list query projects it alone and sends
 * it as is: no parse of the whole item, no schema check, no re-serialisation per request. An
 * item without it (written before it existed, or by a write that cannot know the whole item) is
 * read in full and checked, as every item was before.
 */
export const LISTED_PAPER_VIEW = 'apiView';

/**
 * A projection of a listing's attributes without its view, for reads that check the whole item
 * (ranked ranges, search hits): the view would double what they transfer and unmarshal, for
 * nothing. Every attribute the item's schema names, so a field added there is read too.
 */
export const LISTING_WITHOUT_VIEW = (() => {
  const names = Object.fromEntries(
    Object.keys(ListingTableItemSchema.shape).map((name, i) => [`#l${i}`, name]),
  );
  return { expression: Object.keys(names).join(', '), names };
})();

/**
 * Views larger than this are not stored: the item holds its paper twice with one, and a paper
 * this large (the parse stage stores those too large for a queue message) must still fit
 * DynamoDB's 400 KB item; it is read in full instead.
 */
export const MAX_VIEW_BYTES = 100_000;

/**
 * The JSON of a listing's API answer, from the item the write leaves in the table: checked
 * against the table item's schema (which also puts its fields in the order a read gives them),
 * so the view is exactly what reading the item would send. Undefined when larger than
 * {@link MAX_VIEW_BYTES}.
 * @throws z.core.$ZodError when the item would not be readable (the write then fails, storing nothing).
 */
export function listingView(item: unknown): string | undefined {
  return bounded(JSON.stringify(listedPaperFromListing(ListingTableItemSchema.parse(item))));
}

/** {@link listingView} for a category entry. */
export function categoryEntryView(entry: unknown): string | undefined {
  return bounded(JSON.stringify(listedPaperFromEntry(CategoryEntryTableItemSchema.parse(entry))));
}

function bounded(view: string): string | undefined {
  // UTF-8 takes at most 3 bytes per UTF-16 unit: count the bytes only when it could matter.
  return view.length * 3 <= MAX_VIEW_BYTES || Buffer.byteLength(view) <= MAX_VIEW_BYTES ? view : undefined;
}

/**
 * One upvote snapshot (`PAPER#<id>` / `UPVOTES#<day>#<fetchedAt>`): a listing's figures as one fetch
 * gave them, written when a fetch first captures the listing or changes its figures.
 */
export const UpvoteSnapshotTableItemSchema = z.object({
  pk: z.string(),
  sk: z.string(),
  listedOn: IsoDateSchema,
  fetchedAt: timestamp,
  upvotes: z.optional(NonNegativeIntSchema),
  comments: z.optional(NonNegativeIntSchema),
});
export type UpvoteSnapshotTableItem = z.infer<typeof UpvoteSnapshotTableItemSchema>;
