import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { makeDocumentClient } from '../shared/aws/dynamodb';
import { makeS3Client } from '../shared/aws/s3';
import { makeSqsClient } from '../shared/aws/sqs';
import { FetchListingEnvSchema, loadConfig } from '../shared/config';
import { FetchListingRequestSchema, requestedDay } from '../shared/messages';
import { type DailyIngestReport, fetchAndIngestDay } from '../shared/pipeline/ingest-listing';
import { DynamoPaperStore } from '../shared/store/dynamo-paper-store';
import { METRICS_NAMESPACE, metricNames, serviceNames } from '../shared/telemetry';

const config = loadConfig(FetchListingEnvSchema);
const logger = new Logger({ serviceName: serviceNames.fetchListing });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: serviceNames.fetchListing });
const targets = {
  s3: makeS3Client(config.AWS_ENDPOINT_URL_S3),
  sqs: makeSqsClient(config.AWS_ENDPOINT_URL_SQS),
  bucket: config.ARCHIVE_BUCKET,
  parseQueueUrl: config.PARSE_QUEUE_URL,
  days: new DynamoPaperStore(makeDocumentClient(config.AWS_ENDPOINT_URL_DYNAMODB), config.TABLE_NAME),
};
const fetchOptions = {
  urlTemplate: config.LISTING_URL_TEMPLATE,
  userAgent: config.USER_AGENT,
  timeoutMs: config.FETCH_TIMEOUT_MS,
  maxAttempts: config.FETCH_MAX_ATTEMPTS,
  pageDelayMs: config.FETCH_PAGE_DELAY_MS,
};

/**
 * Scheduled daily: fetches the day's listing, archives it and fans its papers
 * out to the parse queue. A malformed listing is archived and reported, not thrown:
 * retrying cannot fix it. An unreachable upstream throws, so the scheduler retries.
 */
export const handler = async (event: unknown): Promise<DailyIngestReport> => {
  const request = FetchListingRequestSchema.parse(event ?? {});
  const report = await fetchAndIngestDay(
    { day: requestedDay(request), url: request.url, recordAs: request.recordAs },
    fetchOptions,
    targets,
  );
  for (const listing of report.listings) {
    if (listing.malformed) logger.error('listing could not be parsed; archived as is', { ...listing });
    else logger.info('listing ingested', { ...listing });
  }
  metrics.addMetric(metricNames.papersListed, MetricUnit.Count, report.papers);
  metrics.addMetric(metricNames.listingsMalformed, MetricUnit.Count, report.malformed);
  metrics.publishStoredMetrics();
  return report;
};
