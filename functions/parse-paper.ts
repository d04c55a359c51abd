import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { readArchivedListing } from '../shared/archive';
import { makeDocumentClient } from '../shared/aws/dynamodb';
import { makeS3Client } from '../shared/aws/s3';
import { makeSqsClient } from '../shared/aws/sqs';
import { loadConfig } from '../shared/env/load-config';
import { ParsePaperEnvSchema } from '../shared/env/parse-paper';
import { parseStage } from '../shared/pipeline/parse-stage';
import { sqsConsumerHandler } from '../shared/pipeline/sqs-batch';
import { queues } from '../shared/resources';
import { DynamoPaperStore } from '../shared/store/dynamo-paper-store';
import { METRICS_NAMESPACE, metricNames, serviceNames } from '../shared/telemetry';

const config = loadConfig(ParsePaperEnvSchema);
const sqs = makeSqsClient(config.AWS_ENDPOINT_URL_SQS);
const s3 = makeS3Client(config.AWS_ENDPOINT_URL_S3);
const stage = parseStage({
  readArchive: (archiveKey) => readArchivedListing(s3, config.ARCHIVE_BUCKET, archiveKey),
  store: new DynamoPaperStore(makeDocumentClient(config.AWS_ENDPOINT_URL_DYNAMODB), config.TABLE_NAME),
  sqs,
  classifyQueueUrl: config.CLASSIFY_QUEUE_URL,
});

/**
 * Consumes the parse queue with partial batch responses: a bad paper fails alone, and goes
 * to the dead-letter queue at once with its reason (a transient failure on its last receive).
 */
export const handler = sqsConsumerHandler(
  stage,
  {
    logger: new Logger({ serviceName: serviceNames.parsePaper }),
    metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: serviceNames.parsePaper }),
    succeededMetric: metricNames.papersStored,
    failedMetric: metricNames.papersFailed,
    deadLetteredMetric: metricNames.recordsDeadLettered,
    failureMessage: 'paper not stored',
  },
  {
    sqs,
    queueUrl: config.PARSE_DEAD_LETTER_QUEUE_URL,
    sourceQueue: 'parse',
    maxReceiveCount: queues.parse.maxReceiveCount,
  },
);
