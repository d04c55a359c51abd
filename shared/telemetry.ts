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

export const serviceNames = {
  fetchListing: 'fetch-listing',
  parsePaper: 'parse-paper',
  classifyPaper: 'classify-paper',
  query: 'query',
} as const;
