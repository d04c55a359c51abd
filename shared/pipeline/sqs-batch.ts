import { BatchProcessor, EventType } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';

/**
 * A queue consumer's stage: work per message, then work per batch.
 *
 * Built on Powertools' BatchProcessor, so one bad message is reported in
 * `batchItemFailures` (retried, then sent to the DLQ after the queue's
 * maxReceiveCount) while its batch-mates succeed.
 */
export interface BatchStage<R> {
  /** Processes one message body. If it throws, the record is reported as failed and retried. */
  processRecord(body: string): Promise<R>;
  /**
   * Runs once per invocation with the results of the records that succeeded, for the
   * writes that are cheaper batched (day counts, fan-out to the next queue). If it
   * throws, the invocation fails and the whole batch is delivered again: every stage
   * is idempotent, so a redelivered success changes nothing.
   */
  afterBatch(results: R[]): Promise<void>;
}

export interface BatchOutcome<R> {
  response: SQSBatchResponse;
  succeeded: R[];
  failed: { messageId: string; error: Error }[];
}

export async function processSqsBatch<R>(
  event: SQSEvent,
  context: Context,
  stage: BatchStage<R>,
): Promise<BatchOutcome<R>> {
  const processor = new BatchProcessor(EventType.SQS);
  // Powertools reports a failure as its message only; keep the error itself for the caller's log.
  const errors = new Map<string, Error>();
  const handleRecord = async (record: SQSRecord) => {
    try {
      return await stage.processRecord(record.body);
    } catch (error) {
      errors.set(record.messageId, toError(error));
      throw error;
    }
  };
  processor.register(event.Records, handleRecord, {
    context,
    throwOnFullBatchFailure: false,
    processInParallel: true,
  });
  const processed = await processor.process();
  const succeeded: R[] = [];
  const failed: BatchOutcome<R>['failed'] = [];
  for (const [status, result, record] of processed) {
    if (status === 'success') succeeded.push(result as R);
    else {
      const { messageId } = record as SQSRecord;
      failed.push({ messageId, error: errors.get(messageId) ?? toError(result) });
    }
  }
  await stage.afterBatch(succeeded);
  return { response: processor.response(), succeeded, failed };
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

export interface ConsumerTelemetry {
  logger: Logger;
  metrics: Metrics;
  /** Metric counting the records that succeeded (e.g. `PapersStored`). */
  succeededMetric: string;
  /** Metric counting the records reported as failed. */
  failedMetric: string;
  /** Log message for a failed record, e.g. "paper not stored". */
  failureMessage: string;
}

/**
 * A Lambda handler for an SQS event source over `stage`: partial batch responses,
 * one warning per failed record (its error's name and message), and a count of
 * successes and failures as metrics.
 */
export function sqsConsumerHandler<R>(stage: BatchStage<R>, telemetry: ConsumerTelemetry) {
  const { logger, metrics } = telemetry;
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const { response, succeeded, failed } = await processSqsBatch(event, context, stage);
    for (const { messageId, error } of failed) {
      logger.warn(telemetry.failureMessage, {
        messageId,
        error: { name: error.name, message: error.message },
      });
    }
    metrics.addMetric(telemetry.succeededMetric, MetricUnit.Count, succeeded.length);
    metrics.addMetric(telemetry.failedMetric, MetricUnit.Count, failed.length);
    metrics.publishStoredMetrics();
    return response;
  };
}
