import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NonEmptyStringSchema } from '../common-schemas';
import type { IsoDate } from '../paper';
import type { QualityListing } from '../quality/live-quality';
import * as z from '../zod';
import { dayListingPages } from './day-listings';
import { EnrichmentStateSchema } from './items';

/**
 * What live quality reads of a day's listings (`shared/quality/live-quality.ts`): one Query on
 * `byDayId` (`dayPk = DAY#<day>`, paged), projecting only the paper id, the enrichment state,
 * arXiv's categories and the codes of the model's first three categories (all the figures look
 * at); never a Scan.
 */

/** The model's categories the figures look at: the first, and the first three for `primaryInTop3`. */
const PREDICTED_DEPTH = 3;

const ProjectedListingSchema = z.object({
  paper: z.object({ id: NonEmptyStringSchema }),
  enrichment: z.optional(EnrichmentStateSchema),
  arxiv: z.optional(z.object({ categories: z.optional(z.array(NonEmptyStringSchema)) })),
  // A projection of list elements keeps their order and leaves out the ones the list lacks.
  predictedCategories: z.optional(z.array(z.object({ code: NonEmptyStringSchema }))),
});

// `pk` and `sk` only to name a skipped item in the log.
const PROJECTION = [
  'pk',
  'sk',
  '#paper.#id',
  '#enrichment',
  '#arxiv.#categories',
  ...Array.from({ length: PREDICTED_DEPTH }, (_, i) => `#predicted[${i}].#code`),
].join(', ');

/** A listing the projection cannot read is skipped and reported, as the store's other reads do. */
export type UnreadableQualityListing = (item: Record<string, unknown>, problem: string) => void;

/** Every listing stored for `day`, as live quality reads it (all pages). */
export async function qualityListingsOn(
  client: DynamoDBDocumentClient,
  tableName: string,
  day: IsoDate,
  reportSkipped: UnreadableQualityListing,
): Promise<QualityListing[]> {
  const listings: QualityListing[] = [];
  const pages = dayListingPages(client, tableName, day, {
    projection: PROJECTION,
    names: {
      '#paper': 'paper',
      '#id': 'id',
      '#enrichment': 'enrichment',
      '#arxiv': 'arxiv',
      '#categories': 'categories',
      '#predicted': 'predictedCategories',
      '#code': 'code',
    },
  });
  for await (const items of pages) {
    for (const item of items) {
      const parsed = ProjectedListingSchema.safeParse(item);
      if (!parsed.success) {
        reportSkipped(item, z.prettifyError(parsed.error));
        continue;
      }
      const { paper, enrichment, arxiv, predictedCategories } = parsed.data;
      listings.push({
        id: paper.id,
        ...(enrichment === undefined ? {} : { enrichment }),
        ...(arxiv?.categories === undefined ? {} : { arxivCategories: arxiv.categories }),
        ...(predictedCategories === undefined
          ? {}
          : { predictedCodes: predictedCategories.map(({ code }) => code) }),
      });
    }
  }
  return listings;
}
