import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import {
  labelledListing,
  QUALITY_FIGURES,
  type QualityListing,
  qualityFacts,
  qualityListingOfItem,
} from '../quality/live-quality';
import type { ListingTableItem } from '../store/items';
import type { ListingWrite } from '../store/paper-store';
import { qualityMetricNames } from '../telemetry';
import type { StoredListingStep } from './classify-stage';

/**
 * Live quality as metrics: for each enriched paper classify-paper stores, one value per figure
 * (`ModelTop1IsPrimary`, …): 100 when the fact holds, 0 when not, unit Percent. CloudWatch's
 * Average over a period is then the figure of that period's papers, each weighing the same, which
 * the drift alarm watches over 7 days (`infra/pipeline-stack.ts`). The handler publishes them with
 * its other metrics at the end of the batch (Powertools flushes on its own every 100 values).
 *
 * A listing stored `unchanged` (a redelivery, or a failed record redone) adds nothing: each paper
 * is counted when its enrichment or prediction is written, not once per delivery. A listing
 * `updated` for another reason (new upvotes) with the same enrichment is counted again: the
 * metric is a sample of papers, and what a paper says of the model does not depend on its upvotes.
 */

/** The enrichment's fields of a listing write, named as on the listing item (the enrichment writes them). */
export type EnrichedListingWrite = ListingWrite &
  Partial<Pick<ListingTableItem, 'enrichment' | 'arxiv' | 'predictedCategories'>>;

/** A listing write as live quality reads it: its fields are named as the item's. */
export function qualityListingOfWrite(write: EnrichedListingWrite): QualityListing {
  return qualityListingOfItem({ ...write, listedOn: write.origin.listedOn });
}

/** The step that adds the quality metrics of the batch's stored enriched papers to `metrics`. Never fails a record. */
export function qualityMetricsStep(metrics: Pick<Metrics, 'addMetric'>): StoredListingStep {
  return async (stored) => {
    for (const { write, outcome } of stored) {
      if (outcome === 'unchanged') continue;
      const labelled = labelledListing(qualityListingOfWrite(write));
      if (!labelled) continue;
      const facts = qualityFacts(labelled);
      for (const figure of QUALITY_FIGURES) {
        metrics.addMetric(qualityMetricNames[figure], MetricUnit.Percent, facts[figure] ? 100 : 0);
      }
    }
    return [];
  };
}
