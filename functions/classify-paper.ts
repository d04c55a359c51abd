import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { makeDocumentClient } from '../shared/aws/dynamodb';
import { ClassifyPaperEnvSchema, loadConfig } from '../shared/config';
import { classifyStage } from '../shared/pipeline/classify-stage';
import { processSqsBatch } from '../shared/pipeline/sqs-batch';
import { DynamoPaperStore } from '../shared/store/dynamo-paper-store';
import { METRICS_NAMESPACE, metricNames, serviceNames } from '../shared/telemetry';

const config = loadConfig(ClassifyPaperEnvSchema);
const logger = new Logger({ serviceName: serviceNames.classifyPaper });
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: serviceNames.classifyPaper });
const stage = classifyStage(
  new DynamoPaperStore(makeDocumentClient(config.AWS_ENDPOINT_URL_DYNAMODB), config.TABLE_NAME),
);

/** Consumes the classify queue with partial batch responses: a bad message fails alone. */
export const handler = async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
  const { response, succeeded, failed } = await processSqsBatch(event, context, stage);
  for (const { messageId, error } of failed)
    logger.warn('paper not classified', { messageId, error: { name: error.name, message: error.message } });
  metrics.addMetric(metricNames.papersClassified, MetricUnit.Count, succeeded.length);
  metrics.addMetric(metricNames.papersFailed, MetricUnit.Count, failed.length);
  metrics.publishStoredMetrics();
  return response;
};
