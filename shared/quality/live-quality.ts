import { canonicalCategory } from '../classify/taxonomy';
import type { IsoDate } from '../paper';
import type { DayQuality, QualityFigures, QualityReport, ValidationFigures } from '../query/response-schemas';
import type { ListingTableItem } from '../store/items';

export type {
  DayQuality,
  QualityFigures,
  QualityReport,
  ValidationFigures,
} from '../query/response-schemas';

/**
 * Live quality: every enriched paper is a labelled example (arXiv's categories against the
 * model's prediction stored beside them), so the shipped model is measured on each day's papers
 * for free. Pure: the store reads the listings (`PaperStore.qualityListingsOn`), this module
 * counts. The three figures are the ones the training script reports on its validation split
 * (`shared/classify/evaluate.ts`), computed the same way (codes compared as the canonical one of
 * arXiv's alias pairs, so `eess.SY` for `cs.SY` is not a miss), so the two compare.
 */

/** A listing, as far as live quality cares: its id, its enrichment state, arXiv's and the model's categories. */
export interface QualityListing {
  id: string;
  enrichment?: string;
  /** arXiv's categories in arXiv's order (primary first), when the paper was enriched. */
  arxivCategories?: readonly string[];
  /** The model's ranked category codes, most likely first. */
  predictedCodes?: readonly string[];
}

/** The attributes of a stored listing item live quality reads. */
export type QualityListingItem = Pick<
  ListingTableItem,
  'listedOn' | 'enrichment' | 'arxiv' | 'predictedCategories'
> & {
  paper: { id: string };
};

/** A stored listing item as live quality reads it. */
export function qualityListingOfItem(item: QualityListingItem): QualityListing {
  return {
    id: item.paper.id,
    ...(item.enrichment === undefined ? {} : { enrichment: item.enrichment }),
    ...(item.arxiv === undefined ? {} : { arxivCategories: item.arxiv.categories }),
    ...(item.predictedCategories === undefined
      ? {}
      : { predictedCodes: item.predictedCategories.map(({ code }) => code) }),
  };
}

/** A listing that counts for quality: enriched, with arXiv's categories and the model's prediction. */
export interface LabelledListing {
  id: string;
  arxivCategories: readonly string[];
  predictedCodes: readonly string[];
}

/** What one labelled paper says of the model. */
export interface QualityFacts {
  /** The model's first category is arXiv's primary. */
  top1IsPrimary: boolean;
  /** The model's first category is one of arXiv's categories. */
  top1InCategories: boolean;
  /** arXiv's primary is among the model's first three. */
  primaryInTop3: boolean;
}

export const QUALITY_FIGURES = ['top1IsPrimary', 'top1InCategories', 'primaryInTop3'] as const;
export type QualityFigure = (typeof QUALITY_FIGURES)[number];

/** The listing as a labelled example, or undefined when it does not count (not enriched, or a side missing). */
export function labelledListing(listing: QualityListing): LabelledListing | undefined {
  const { arxivCategories, predictedCodes } = listing;
  if (listing.enrichment !== 'enriched') return undefined;
  if (!arxivCategories?.length || !predictedCodes?.length) return undefined;
  return { id: listing.id, arxivCategories, predictedCodes };
}

/** The three facts of one labelled paper. */
export function qualityFacts(listing: LabelledListing): QualityFacts {
  const arxiv = listing.arxivCategories.map(canonicalCategory);
  const predicted = listing.predictedCodes.map(canonicalCategory);
  const [primary] = arxiv;
  const [first] = predicted;
  return {
    top1IsPrimary: first === primary,
    top1InCategories: first !== undefined && arxiv.includes(first),
    primaryInTop3: primary !== undefined && predicted.slice(0, 3).includes(primary),
  };
}

/** A rate as a percentage with 2 decimals (70.92 for 0.70917…). */
export function percentage(part: number, whole: number): number {
  return Math.round((part / whole) * 10_000) / 100;
}

/** The figures of `listings`: the ones that count are counted, the others ignored. */
export function qualityFigures(listings: readonly QualityListing[]): QualityFigures {
  const counts = { top1IsPrimary: 0, top1InCategories: 0, primaryInTop3: 0 };
  let enriched = 0;
  for (const listing of listings) {
    const labelled = labelledListing(listing);
    if (!labelled) continue;
    enriched++;
    const facts = qualityFacts(labelled);
    for (const figure of QUALITY_FIGURES) if (facts[figure]) counts[figure]++;
  }
  return { enriched, counts, ...(enriched > 0 ? { percent: percentagesOf(counts, enriched) } : {}) };
}

function percentagesOf(
  counts: QualityFigures['counts'],
  enriched: number,
): NonNullable<QualityFigures['percent']> {
  return {
    top1IsPrimary: percentage(counts.top1IsPrimary, enriched),
    top1InCategories: percentage(counts.top1InCategories, enriched),
    primaryInTop3: percentage(counts.primaryInTop3, enriched),
  };
}

/** One day's figures from its stored listings. */
export function dayQuality(day: IsoDate, listings: readonly QualityListing[]): DayQuality {
  return { day, listings: listings.length, ...qualityFigures(listings) };
}

/** The figures of several days together: the sums of their counts (each paper weighs the same, whatever its day). */
export function totalQuality(days: readonly DayQuality[]): QualityReport['total'] {
  const counts = { top1IsPrimary: 0, top1InCategories: 0, primaryInTop3: 0 };
  let enriched = 0;
  let listings = 0;
  for (const day of days) {
    enriched += day.enriched;
    listings += day.listings;
    for (const figure of QUALITY_FIGURES) counts[figure] += day.counts[figure];
  }
  return {
    listings,
    enriched,
    counts,
    ...(enriched > 0 ? { percent: percentagesOf(counts, enriched) } : {}),
  };
}

/**
 * The quality report of a range from its stored listings, by day (the days given, in order; a
 * day with no listing is a day with no figures). What the query API, the CLI and a benchmark call.
 */
export function qualityReport(
  range: { from: IsoDate; to: IsoDate },
  listingsByDay: ReadonlyMap<IsoDate, readonly QualityListing[]>,
  validation: ValidationFigures,
): QualityReport {
  const items = [...listingsByDay]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([day, listings]) => dayQuality(day, listings));
  return { from: range.from, to: range.to, items, total: totalQuality(items), validation };
}
