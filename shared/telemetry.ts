/**
 * Names shared by the functions' Powertools metrics and the stack's alarms, so
 * an alarm cannot watch a metric nobody emits.
 */
export const METRICS_NAMESPACE = 'DailyPapers';

export const metricNames = {
  /** fetch-listing: papers found in a fetched listing. */
  papersListed: 'PapersListed',
  /** fetch-listing: listings that could not be parsed (archived all the same). */
  listingsMalformed: 'ListingsMalformed',
  /** parse-paper: papers written to the table (new or updated). */
  papersStored: 'PapersStored',
  /** classify-paper: papers whose categories were written. */
  papersClassified: 'PapersClassified',
  /** parse-paper and classify-paper: records reported as failed in a batch. */
  papersFailed: 'PapersFailed',
  /** parse-paper and classify-paper: records the consumer sent to its dead-letter queue, with their reason. */
  recordsDeadLettered: 'RecordsDeadLettered',
} as const;

/**
 * classify-paper: the live quality of the shipped model, one value per enriched paper stored
 * (`shared/pipeline/quality-metrics-stage.ts`): 100 when the fact holds, 0 when not (unit Percent),
 * so the Average statistic over any period is the percentage of that period's papers.
 */
export const qualityMetricNames = {
  /** The model's first category is arXiv's primary. */
  top1IsPrimary: 'ModelTop1IsPrimary',
  /** The model's first category is one of arXiv's categories. */
  top1InCategories: 'ModelTop1InCategories',
  /** arXiv's primary is among the model's first three. */
  primaryInTop3: 'ModelPrimaryInTop3',
} as const;

export const serviceNames = {
  fetchListing: 'fetch-listing',
  parsePaper: 'parse-paper',
  classifyPaper: 'classify-paper',
  query: 'query',
} as const;
