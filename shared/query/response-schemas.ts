import { ClassificationSchema } from '../classification';
import { NonNegativeIntSchema } from '../common-schemas';
import { IsoDateSchema, PaperSchema } from '../paper';
import { EnrichmentFieldsSchema, UpvoteSnapshotTableItemSchema } from '../store/items';
import * as z from '../zod';

/**
 * What the query API answers, as schemas: the contract its OpenAPI document (`openapi.ts`)
 * describes and its clients (`papers query`, `papers serve`, the tests) read answers with.
 *
 * No request builds them: the handler does not parse its own output (it sends views built from
 * table items checked against their own schemas, `shared/store/items.ts`), so they live apart
 * from what the query function loads and cost a cold start nothing. The types are what the
 * store and the handler produce, checked against these at compile time.
 */

const timestamp = z.iso.datetime({ offset: true });

/**
 * A paper as the query API returns it from a listing or category entry: the paper,
 * the day it was listed, and its categories once classified.
 */
export const ListedPaperSchema = z.extend(PaperSchema, {
  listedOn: IsoDateSchema,
  fetchedAt: z.optional(timestamp),
  categories: z.optional(ClassificationSchema.shape.categories),
  primaryCategory: z.optional(z.string()),
  classifierVersion: z.optional(z.string()),
  categorySource: z.optional(ClassificationSchema.shape.categorySource),
  ...EnrichmentFieldsSchema.shape,
});
export type ListedPaper = z.infer<typeof ListedPaperSchema>;

/** One point of a paper's upvote history: the figures of one listing as one fetch gave them. */
export const UpvoteSnapshotSchema = z.omit(UpvoteSnapshotTableItemSchema, { pk: true, sk: true });
export type UpvoteSnapshot = z.infer<typeof UpvoteSnapshotSchema>;

/** One paper with every day it was listed (`GET /papers/{id}`). */
export const PaperRecordSchema = z.extend(
  z.omit(PaperSchema, { listedOn: true, upvotes: true, comments: true }),
  {
    listings: z.array(
      z.object({
        listedOn: IsoDateSchema,
        upvotes: z.optional(NonNegativeIntSchema),
        comments: z.optional(NonNegativeIntSchema),
        fetchedAt: timestamp,
      }),
    ),
    /**
     * Every snapshot of the paper's figures, oldest fetch first (a fetch that changed nothing wrote
     * none). Empty for a paper stored before snapshots were written.
     */
    upvoteHistory: z.array(UpvoteSnapshotSchema),
    categories: z.optional(ClassificationSchema.shape.categories),
    primaryCategory: z.optional(z.string()),
    classifierVersion: z.optional(z.string()),
    categorySource: z.optional(ClassificationSchema.shape.categorySource),
    ...EnrichmentFieldsSchema.shape,
  },
);
export type PaperRecord = z.infer<typeof PaperRecordSchema>;

export const IngestedDaySchema = z.object({
  day: IsoDateSchema,
  /** Papers stored as listed on the day. */
  papers: NonNegativeIntSchema,
  /** Papers in the latest listing fetched for the day, when one was. */
  listed: z.optional(NonNegativeIntSchema),
  lastFetchedAt: z.optional(timestamp),
  lastStoredAt: z.optional(timestamp),
});
export type IngestedDay = z.infer<typeof IngestedDaySchema>;

/**
 * A paper once over a range (`sort=upvotes|date`, keyword search): the latest of its listings in
 * the range, with every day of the range it was listed on.
 */
export const RankedPaperSchema = z.extend(ListedPaperSchema, {
  /** The days in the range it was listed on, oldest first; `listedOn` is the last of them. */
  days: z.array(IsoDateSchema),
  /** Keyword search only: the BM25 score that ranked it. */
  score: z.optional(z.number()),
});
export type RankedPaper = z.infer<typeof RankedPaperSchema>;

/** `GET /categories`: papers assigned one category within a range. */
export const CategoryCountSchema = z.object({
  code: z.string(),
  name: z.string(),
  group: z.string(),
  /** Distinct papers listed in the range with the category assigned. */
  papers: NonNegativeIntSchema,
  /** Of those, the papers whose primary category it is. */
  primary: NonNegativeIntSchema,
});
export type CategoryCount = z.infer<typeof CategoryCountSchema>;

// `GET /quality`: the shipped model's live figures over a range (`shared/quality/live-quality.ts` computes them).
const countsShape = {
  top1IsPrimary: NonNegativeIntSchema,
  top1InCategories: NonNegativeIntSchema,
  primaryInTop3: NonNegativeIntSchema,
};
const percentShape = {
  top1IsPrimary: z.number().check(z.minimum(0), z.maximum(100)),
  top1InCategories: z.number().check(z.minimum(0), z.maximum(100)),
  primaryInTop3: z.number().check(z.minimum(0), z.maximum(100)),
};

/** The figures of a set of labelled papers: how many, how many of each fact, and each as a percentage. */
export const QualityFiguresSchema = z.object({
  /** Papers that count: enriched, with arXiv's categories and the model's prediction. */
  enriched: NonNegativeIntSchema,
  /** Of those, how many have each fact. */
  counts: z.object(countsShape),
  /** Each count as a percentage of `enriched`, 2 decimals; absent when no paper counts (not 0). */
  percent: z.optional(z.object(percentShape)),
});
export type QualityFigures = z.infer<typeof QualityFiguresSchema>;

export const DayQualitySchema = z.extend(QualityFiguresSchema, {
  day: IsoDateSchema,
  /** Listings stored for the day, enriched or not. */
  listings: NonNegativeIntSchema,
});
export type DayQuality = z.infer<typeof DayQualitySchema>;

/** The shipped model's figures on its validation split, as percentages with 2 decimals. */
export const ValidationFiguresSchema = z.object({
  model: z.string(),
  papers: z.number().check(z.int(), z.positive()),
  percent: z.object(percentShape),
});
export type ValidationFigures = z.infer<typeof ValidationFiguresSchema>;

/** `GET /quality` and `papers quality --json`: per day, the range's total, and the validation figures. */
export const QualityReportSchema = z.object({
  from: IsoDateSchema,
  to: IsoDateSchema,
  /** One per day of the range, oldest first. */
  items: z.array(DayQualitySchema),
  total: z.extend(QualityFiguresSchema, { listings: NonNegativeIntSchema }),
  /** The shipped model's validation figures, to compare the live ones with. */
  validation: ValidationFiguresSchema,
});
export type QualityReport = z.infer<typeof QualityReportSchema>;
