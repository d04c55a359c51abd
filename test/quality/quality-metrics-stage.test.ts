import { Metrics } from '@aws-lambda-powertools/metrics';
import { describe, expect, it } from 'vitest';
import type { StoredListing } from '../../shared/pipeline/classify-stage';
import { type EnrichedListingWrite, qualityMetricsStep } from '../../shared/pipeline/quality-metrics-stage';
import type { ListingWriteOutcome } from '../../shared/store/paper-store';
import { classificationOf, paperOf } from '../query/support';

/** A stored listing as classify-paper's steps get it, with the enrichment's fields when given. */
function stored(
  id: string,
  outcome: ListingWriteOutcome,
  enrichment: Partial<Pick<EnrichedListingWrite, 'enrichment'>> & { arxiv?: string[]; predicted?: string[] },
): StoredListing {
  const paper = paperOf({ id, listedOn: '2026-06-11', upvotes: 3, categories: ['cs.CV'] });
  const write: EnrichedListingWrite = {
    paper,
    origin: { listedOn: '2026-06-11', fetchedAt: '2026-06-11T08:00:00.000Z', archiveKey: 'listings/x.json' },
    classification: classificationOf(enrichment.arxiv ?? ['cs.CV']),
    ...(enrichment.enrichment ? { enrichment: enrichment.enrichment } : {}),
    ...(enrichment.arxiv
      ? {
          arxiv: {
            categories: enrichment.arxiv,
            atomArchiveKey: 'arxiv/x.xml',
            enrichedAt: '2026-06-11T09:00:00.000Z',
          },
        }
      : {}),
    ...(enrichment.predicted
      ? { predictedCategories: classificationOf(enrichment.predicted).categories }
      : {}),
  };
  return { messageId: id, write, outcome };
}

function emitted(metrics: Metrics): Record<string, unknown> {
  return metrics.serializeMetrics() as unknown as Record<string, unknown>;
}

describe('qualityMetricsStep', () => {
  it('adds one 0/100 Percent value per figure for each enriched paper stored', async () => {
    const metrics = new Metrics({ namespace: 'DailyPapers', serviceName: 'classify-paper' });
    const step = qualityMetricsStep(metrics);

    const failures = await step([
      // all three facts
      stored('2606.00001', 'created', {
        enrichment: 'enriched',
        arxiv: ['cs.CV'],
        predicted: ['cs.CV', 'cs.LG'],
      }),
      // one of arXiv's, primary second
      stored('2606.00002', 'updated', {
        enrichment: 'enriched',
        arxiv: ['cs.CL', 'cs.AI'],
        predicted: ['cs.AI', 'cs.CL'],
      }),
      // none
      stored('2606.00003', 'created', {
        enrichment: 'enriched',
        arxiv: ['cs.LG'],
        predicted: ['stat.ML', 'cs.AI', 'cs.CV', 'cs.LG'],
      }),
      // not counted: a redelivery, not enriched, no prediction
      stored('2606.00004', 'unchanged', { enrichment: 'enriched', arxiv: ['cs.CV'], predicted: ['cs.LG'] }),
      stored('2606.00005', 'created', { enrichment: 'pending', predicted: ['cs.LG'] }),
      stored('2606.00006', 'created', { enrichment: 'enriched', arxiv: ['cs.CV'] }),
      stored('2606.00007', 'created', {}),
    ]);

    expect(failures).toEqual([]);
    const emf = emitted(metrics);
    expect(emf).toMatchObject({
      service: 'classify-paper',
      ModelTop1IsPrimary: [100, 0, 0],
      ModelTop1InCategories: [100, 100, 0],
      ModelPrimaryInTop3: [100, 100, 0],
    });
    const [directive] = (emf._aws as { CloudWatchMetrics: { Namespace: string; Metrics: unknown[] }[] })
      .CloudWatchMetrics;
    expect(directive?.Namespace).toBe('DailyPapers');
    expect(directive?.Metrics).toEqual(
      expect.arrayContaining([
        { Name: 'ModelTop1IsPrimary', Unit: 'Percent' },
        { Name: 'ModelTop1InCategories', Unit: 'Percent' },
        { Name: 'ModelPrimaryInTop3', Unit: 'Percent' },
      ]),
    );
  });

  it('adds nothing when no enriched paper was stored', async () => {
    const metrics = new Metrics({ namespace: 'DailyPapers', serviceName: 'classify-paper' });
    await qualityMetricsStep(metrics)([stored('2606.00005', 'created', { enrichment: 'pending' })]);
    expect(metrics.hasStoredMetrics()).toBe(false);
  });
});
