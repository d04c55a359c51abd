import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import type { EnrichmentRun } from '../shared/arxiv/enrich';
import { enrichPendingDays } from '../shared/arxiv/enrich-pending';
import { enrichmentFromEnv } from '../shared/arxiv/enrichment-from-env';
import { makeDocumentClient } from '../shared/aws/dynamodb';
import { makeS3Client } from '../shared/aws/s3';
import { makeSqsClient } from '../shared/aws/sqs';
import { FetchListingEnvSchema, fetchRunSettings } from '../shared/env/fetch-listing';
import { loadConfig } from '../shared/env/load-config';
import { PAGE_HANDLING_ALLOWANCE_MS } from '../shared/fetch/http';
import { createRequestLimiter, FIVE_MINUTES_MS } from '../shared/fetch/request-limiter';
import { parseFetchRequest, requestedDay } from '../shared/messages';
import {
  type DailyIngestReport,
  fetchAndIngestDay,
  MalformedListingError,
} from '../shared/pipeline/ingest-listing';
import { DynamoPaperStore } from '../shared/store/dynamo-paper-store';
import { METRICS_NAMESPACE, metricNames, serviceNames } from '../shared/telemetry';

const config = loadConfig(FetchListingEnvSchema);
const logger = new Logger({ serviceName: serviceNames.fetchListing });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: serviceNames.fetchListing });
const s3 = makeS3Client(config.AWS_ENDPOINT_URL_S3);
const sqs = makeSqsClient(config.AWS_ENDPOINT_URL_SQS);
const documentClient = makeDocumentClient(config.AWS_ENDPOINT_URL_DYNAMODB);
const enrich = enrichmentFromEnv(
  config,
  { client: documentClient, tableName: config.TABLE_NAME, s3, bucket: config.ARCHIVE_BUCKET },
  {
    onPending: (problem, ids) =>
      logger.warn('arXiv did not answer; papers stay pending', { problem, papers: ids.length }),
    onRetry: (problem, attempt, waitMs) =>
      logger.warn('arXiv attempt failed; retrying', { problem, attempt, waitMs: Math.round(waitMs) }),
  },
);
const classifyQueueUrl = config.CLASSIFY_QUEUE_URL;
const targets = {
  s3,
  sqs,
  bucket: config.ARCHIVE_BUCKET,
  parseQueueUrl: config.PARSE_QUEUE_URL,
  days: new DynamoPaperStore(documentClient, config.TABLE_NAME),
  enrich,
  // Only with an arXiv to ask (locally enrichment is off unless ARXIV_API_URL is set).
  ...(classifyQueueUrl && config.ARXIV_API_URL
    ? {
        enrichPending: (day: string, run?: EnrichmentRun) =>
          enrichPendingDays(
            [day],
            { client: documentClient, tableName: config.TABLE_NAME, sqs, classifyQueueUrl, enrich },
            run,
          ),
      }
    : {}),
};
const fetchOptions = {
  ...fetchRunSettings(config),
  urlTemplate: config.LISTING_URL_TEMPLATE,
  userAgent: config.USER_AGENT,
  maxBytes: config.FETCH_MAX_BYTES,
  firstListingDay: config.LISTING_FIRST_DAY,
  // One per process: every run in it (a local backfill runs many days in one) shares the limit.
  limiter: createRequestLimiter({ requests: config.FETCH_MAX_REQUESTS_PER_5_MIN, perMs: FIVE_MINUTES_MS }),
  onRetry: (problem: string, attempt: number, waitMs: number) =>
    logger.warn('fetch attempt failed; retrying', { problem, attempt, waitMs: Math.round(waitMs) }),
};

/**
 * Scheduled daily (invoked asynchronously): fetches the day's listing, archives it and fans its
 * papers out to the parse queue. Every failure throws, so Lambda retries the run and then sends
 * it to the fetch dead-letter queue: an unreachable upstream, and also bytes that are not a
 * listing (a 200 with an HTML error page, an empty or truncated body), which are kept in the
 * archive's quarantine and counted in `ListingsMalformed` first. A request for a day that cannot
 * have a listing is refused before anything is fetched. A revisit (`daysAgo`, the daily revisit
 * schedules) fetches a past day again and fans out only a listing whose bytes changed.
 */
export const handler = async (event: unknown, context?: Pick<Context, 'getRemainingTimeInMillis'>) => {
  const request = parseFetchRequest(event);
  // Leave the last page's archiving and sending time to finish before Lambda's timeout.
  const deadline = context
    ? Date.now() + context.getRemainingTimeInMillis() - PAGE_HANDLING_ALLOWANCE_MS
    : undefined;
  let report: DailyIngestReport;
  try {
    report = await fetchAndIngestDay(
      {
        day: requestedDay(request),
        url: request.url,
        recordAs: request.recordAs,
        fetchedAt: request.fetchedAt,
        revisit: request.daysAgo !== undefined,
      },
      { ...fetchOptions, deadline },
      targets,
    );
  } catch (error) {
    if (error instanceof MalformedListingError) {
      logger.error('listing is not a listing; quarantined, failing the run so it is retried', {
        ...error.listing,
        reason: error.message,
      });
      metrics.addMetric(metricNames.listingsMalformed, MetricUnit.Count, 1);
      metrics.publishStoredMetrics();
    }
    throw error;
  }
  for (const listing of report.listings) logger.info('listing ingested', { ...listing });
  if (report.pendingEnriched) logger.info('pending papers asked about again', { ...report.pendingEnriched });
  metrics.addMetric(metricNames.papersListed, MetricUnit.Count, report.papers);
  metrics.addMetric(metricNames.listingsMalformed, MetricUnit.Count, 0);
  metrics.publishStoredMetrics();
  return report;
};
