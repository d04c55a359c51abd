import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { makeDocumentClient } from '../shared/aws/dynamodb';
import { makeSqsClient } from '../shared/aws/sqs';
import { loadClassifier } from '../shared/classify';
import { ClassifyPaperEnvSchema } from '../shared/env/classify-paper';
import { loadConfig } from '../shared/env/load-config';
import { classifyStage } from '../shared/pipeline/classify-stage';
import { qualityMetricsStep } from '../shared/pipeline/quality-metrics-stage';
import { sqsConsumerHandler } from '../shared/pipeline/sqs-batch';
import { queues } from '../shared/resources';
import { DynamoPaperStore } from '../shared/store/dynamo-paper-store';
import { METRICS_NAMESPACE, metricNames, serviceNames } from '../shared/telemetry';

const config = loadConfig(ClassifyPaperEnvSchema);
// Load the model during the cold start, not inside the first batch.
loadClassifier();
const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: serviceNames.classifyPaper });
const stage = classifyStage(
  new DynamoPaperStore(makeDocumentClient(config.AWS_ENDPOINT_URL_DYNAMODB), config.TABLE_NAME),
  // The live quality of each enriched paper stored, published with the batch's other metrics.
  [qualityMetricsStep(metrics)],
);

/**
 * Consumes the classify queue with partial batch responses: a bad message fails alone, and goes
 * to the dead-letter queue at once with its reason (a transient failure on its last receive).
 */
export const handler = sqsConsumerHandler(
  stage,
  {
    logger: new Logger({ serviceName: serviceNames.classifyPaper }),
    metrics,
    succeededMetric: metricNames.papersClassified,
    failedMetric: metricNames.papersFailed,
    deadLetteredMetric: metricNames.recordsDeadLettered,
    failureMessage: 'paper not classified',
  },
  {
    sqs: makeSqsClient(config.AWS_ENDPOINT_URL_SQS),
    queueUrl: config.CLASSIFY_DEAD_LETTER_QUEUE_URL,
    sourceQueue: 'classify',
    maxReceiveCount: queues.classify.maxReceiveCount,
  },
);
