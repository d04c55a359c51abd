import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { readArchivedListing } from '../shared/archive';
import { makeDocumentClient } from '../shared/aws/dynamodb';
import { makeS3Client } from '../shared/aws/s3';
import { makeSqsClient } from '../shared/aws/sqs';
import { loadConfig, ParsePaperEnvSchema } from '../shared/config';
import { parseStage } from '../shared/pipeline/parse-stage';
import { sqsConsumerHandler } from '../shared/pipeline/sqs-batch';
import { DynamoPaperStore } from '../shared/store/dynamo-paper-store';
import { METRICS_NAMESPACE, metricNames, serviceNames } from '../shared/telemetry';

const config = loadConfig(ParsePaperEnvSchema);
const s3 = makeS3Client(config.AWS_ENDPOINT_URL_S3);
const stage = parseStage({
  readArchive: (archiveKey) => readArchivedListing(s3, config.ARCHIVE_BUCKET, archiveKey),
  store: new DynamoPaperStore(makeDocumentClient(config.AWS_ENDPOINT_URL_DYNAMODB), config.TABLE_NAME),
  sqs: makeSqsClient(config.AWS_ENDPOINT_URL_SQS),
  classifyQueueUrl: config.CLASSIFY_QUEUE_URL,
});

/** Consumes the parse queue with partial batch responses: a bad paper fails alone. */
export const handler = sqsConsumerHandler(stage, {
  logger: new Logger({ serviceName: serviceNames.parsePaper }),
  metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName: serviceNames.parsePaper }),
  succeededMetric: metricNames.papersStored,
  failedMetric: metricNames.papersFailed,
  failureMessage: 'paper not stored',
});
