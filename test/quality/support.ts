import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { CategoryScore } from '../../shared/classification';
import type { IsoDate } from '../../shared/paper';
import type { ArxivEnrichment, EnrichmentState } from '../../shared/store/items';
import { listingSk, paperPk } from '../../shared/store/keys';
import { type openTestStack, seed } from '../query/support';

/** A listing as the enrichment stores it (the contract fields), for the live quality figures. */
export interface QualitySeed {
  id: string;
  listedOn: IsoDate;
  enrichment?: EnrichmentState;
  /** arXiv's categories, primary first; absent for a paper arXiv did not answer for. */
  arxiv?: string[];
  /** The model's ranked codes, most likely first. */
  predicted?: string[];
}

const score = (code: string, rank: number): CategoryScore => ({
  code,
  name: `Name of ${code}`,
  group: 'Test',
  score: 0.9 - rank * 0.1,
  assigned: rank === 0,
  terms: ['term'],
});

/**
 * Stores the listings as the pipeline does (listing, day, classification, entries), then sets the
 * attributes the enrichment writes (`enrichment`, `arxiv`, `predictedCategories`) on each listing item.
 */
export async function seedQualityListings(
  stack: Awaited<ReturnType<typeof openTestStack>>,
  listings: readonly QualitySeed[],
): Promise<void> {
  await seed(
    stack.store,
    listings.map((listing) => ({
      id: listing.id,
      listedOn: listing.listedOn,
      upvotes: 1,
      categories: listing.arxiv ?? listing.predicted ?? ['cs.LG'],
    })),
  );
  for (const listing of listings) {
    const values: Record<string, unknown> = {};
    if (listing.enrichment) values.enrichment = listing.enrichment;
    if (listing.arxiv) {
      values.arxiv = {
        categories: listing.arxiv,
        atomArchiveKey: `arxiv/${listing.listedOn}/${listing.id}.xml`,
        enrichedAt: `${listing.listedOn}T09:00:00.000Z`,
      } satisfies ArxivEnrichment;
    }
    if (listing.predicted) values.predictedCategories = listing.predicted.map(score);
    const names = Object.keys(values);
    if (names.length === 0) continue;
    await stack.client.send(
      new UpdateCommand({
        TableName: stack.tableName,
        Key: { pk: paperPk(listing.id), sk: listingSk(listing.listedOn) },
        UpdateExpression: `SET ${names.map((name) => `#${name} = :${name}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(names.map((name) => [`#${name}`, name])),
        ExpressionAttributeValues: Object.fromEntries(names.map((name) => [`:${name}`, values[name]])),
      }),
    );
  }
}

/** A day of listings whose figures are worked out by hand in the tests. */
export const JUNE_11: QualitySeed[] = [
  // all three
  {
    id: '2606.10001',
    listedOn: '2026-06-11',
    enrichment: 'enriched',
    arxiv: ['cs.CV', 'cs.LG'],
    predicted: ['cs.CV', 'cs.LG', 'cs.AI'],
  },
  // one of arXiv's, not its primary; primary in the top 3
  {
    id: '2606.10002',
    listedOn: '2026-06-11',
    enrichment: 'enriched',
    arxiv: ['cs.CL', 'cs.AI'],
    predicted: ['cs.AI', 'cs.LG', 'cs.CL'],
  },
  // none: arXiv's primary is the model's fourth
  {
    id: '2606.10003',
    listedOn: '2026-06-11',
    enrichment: 'enriched',
    arxiv: ['cs.LG'],
    predicted: ['stat.ML', 'cs.AI', 'cs.CV', 'cs.LG', 'cs.CL'],
  },
  // all three, through the alias pair
  {
    id: '2606.10004',
    listedOn: '2026-06-11',
    enrichment: 'enriched',
    arxiv: ['eess.SY'],
    predicted: ['cs.SY', 'cs.LG'],
  },
  // not counted: arXiv has not answered yet
  { id: '2606.10005', listedOn: '2026-06-11', enrichment: 'pending', predicted: ['cs.CV'] },
  // not counted: no prediction stored
  { id: '2606.10006', listedOn: '2026-06-11', enrichment: 'enriched', arxiv: ['cs.CV'] },
];
/** 4 counted: 2 top1IsPrimary (50.00%), 3 top1InCategories (75.00%), 3 primaryInTop3 (75.00%). */

export const JUNE_12: QualitySeed[] = [
  {
    id: '2606.20001',
    listedOn: '2026-06-12',
    enrichment: 'enriched',
    arxiv: ['cs.CV'],
    predicted: ['cs.CV'],
  },
  {
    id: '2606.20002',
    listedOn: '2026-06-12',
    enrichment: 'enriched',
    arxiv: ['math.OC', 'cs.LG'],
    predicted: ['cs.LG', 'math.OC'],
  },
  { id: 'title-a-paper-hf-only', listedOn: '2026-06-12', enrichment: 'not-arxiv', predicted: ['cs.CV'] },
];
/** 2 counted: 1 top1IsPrimary (50.00%), 2 top1InCategories (100.00%), 2 primaryInTop3 (100.00%). */
