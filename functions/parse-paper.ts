import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { makeDocumentClient } from '../shared/aws/dynamodb';
import { makeSqsClient } from '../shared/aws/sqs';
import { loadConfig, ParsePaperEnvSchema } from '../shared/config';
import { parseStage } from '../shared/pipeline/parse-stage';
import { processSqsBatch } from '../shared/pipeline/sqs-batch';
import { DynamoPaperStore } from '../shared/store/dynamo-paper-store';
import { METRICS_NAMESPACE, metricNames, serviceNames } from '../shared/telemetry';

const config = loadConfig(ParsePaperEnvSchema);
const logger = new Logger({ serviceName: serviceNames.parsePaper });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: serviceNames.parsePaper });
const stage = parseStage({
  store: new DynamoPaperStore(makeDocumentClient(config.AWS_ENDPOINT_URL_DYNAMODB), config.TABLE_NAME),
  sqs: makeSqsClient(config.AWS_ENDPOINT_URL_SQS),
  classifyQueueUrl: config.CLASSIFY_QUEUE_URL,
});

/** Consumes the parse queue with partial batch responses: a bad paper fails alone. */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const { response, succeeded, failed } = await processSqsBatch(event, context, stage);
  for (const { messageId, error } of failed)
    logger.warn('paper not stored', { messageId, error: { name: error.name, message: error.message } });
  metrics.addMetric(metricNames.papersStored, MetricUnit.Count, succeeded.length);
  metrics.addMetric(metricNames.papersFailed, MetricUnit.Count, failed.length);
  metrics.publishStoredMetrics();
  return response;
};
