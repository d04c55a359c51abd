import { BatchProcessor, EventType } from '@aws-lambda-powertools/batch';
import type { Logger } from '@aws-lambda-powertools/logger';
import { type Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { type MessageAttributeValue, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { deadLetterAttributes } from '../dead-letter';
import { PaperParseError } from '../listing/errors';
import { MalformedMessageError } from '../messages';
import { UnreadableListingError } from '../store/paper-store';

/**
 * A queue consumer's stage: work per message, then work per batch.
 *
 * Built on Powertools' BatchProcessor, so one bad message is reported in
 * `batchItemFailures` while its batch-mates succeed. On top of it, the consumer
 * gives up on a record itself, sending it to its dead-letter queue with the
 * reason ({@link deadLetterAttributes}), when retrying cannot help: a permanent
 * error ({@link isPermanentError}) at once, any other error on the record's last
 * receive. The queue's redrive policy stays as the backstop for a consumer that
 * crashed or timed out.
 */
export interface BatchStage<R> {
  /**
   * Processes one message body. If it throws, the record is retried, or dead-lettered
   * with the error as its reason when the error is permanent or this was its last receive.
   */
  processRecord(body: string): Promise<R>;
  /**
   * Runs once per invocation with the records that succeeded, for the writes that are
   * cheaper batched (day counts, fan-out to the next queue, index entries). Returns the
   * records whose follow-up failed: those alone are retried like a failed record (every
   * stage is idempotent, so the redelivery redoes the record from the start), and the
   * others are done. If it throws, every record it was given is treated as failed with
   * that error; the invocation itself never fails.
   */
  afterBatch(records: readonly ProcessedRecord<R>[]): Promise<readonly RecordFailure[]>;
}

export interface ProcessedRecord<R> {
  messageId: string;
  result: R;
}

export interface RecordFailure {
  messageId: string;
  error: Error;
}

/** Where a consumer sends the records it gives up on. */
export interface DeadLetterTarget {
  sqs: SQSClient;
  /** The consumer's own dead-letter queue (the one its queue's redrive policy names). */
  queueUrl: string;
  /** `parse` or `classify`: recorded with each dead letter as `SourceQueue`. */
  sourceQueue: string;
  /** The source queue's maxReceiveCount: a record failing on this receive is its last chance. */
  maxReceiveCount: number;
}

/**
 * Errors that fail the same way on every retry: a message that fails its schema, an item
 * that cannot become a paper, a stored listing that fails its schema (until someone repairs it:
 * then a redrive of the dead letter stores it). A record failing with one is dead-lettered on its
 * first receive.
 */
export function isPermanentError(error: Error): boolean {
  return (
    error instanceof MalformedMessageError ||
    error instanceof PaperParseError ||
    error instanceof UnreadableListingError
  );
}

/** A record could not be dead-lettered: it is reported as failed, so SQS keeps it (and redrives it). */
export class DeadLetterSendError extends Error {
  override name = 'DeadLetterSendError';
}

export interface BatchOutcome<R> {
  response: SQSBatchResponse;
  /** Records done, follow-up included. */
  succeeded: R[];
  /** Records reported in `batchItemFailures`: they will be received again. */
  failed: RecordFailure[];
  /** Records this consumer sent to its dead-letter queue (reported as processed). */
  deadLettered: RecordFailure[];
}

type RecordResult<R> = { kind: 'processed'; result: R } | { kind: 'dead-lettered'; error: Error };

export async function processSqsBatch<R>(
  event: SQSEvent,
  context: Context,
  stage: BatchStage<R>,
  deadLetters: DeadLetterTarget,
): Promise<BatchOutcome<R>> {
  const processor = new BatchProcessor(EventType.SQS);
  // Powertools reports a failure as its message only; keep the error itself for the caller's log.
  const errors = new Map<string, Error>();
  const deadLettered: RecordFailure[] = [];
  const handleRecord = async (record: SQSRecord): Promise<RecordResult<R>> => {
    try {
      return { kind: 'processed', result: await stage.processRecord(record.body) };
    } catch (thrown) {
      const error = toError(thrown);
      if (!isPermanentError(error) && !isLastReceive(record, deadLetters)) {
        errors.set(record.messageId, error);
        throw error;
      }
      const notSent = await deadLetter(record, error, deadLetters);
      if (notSent) {
        errors.set(record.messageId, notSent);
        throw notSent;
      }
      deadLettered.push({ messageId: record.messageId, error });
      return { kind: 'dead-lettered', error };
    }
  };
  processor.register(event.Records, handleRecord, {
    context,
    throwOnFullBatchFailure: false,
    processInParallel: true,
  });
  const processed = await processor.process();
  const done: (ProcessedRecord<R> & { record: SQSRecord })[] = [];
  const failed: RecordFailure[] = [];
  for (const [status, result, record] of processed) {
    const { messageId } = record as SQSRecord;
    if (status === 'success') {
      const outcome = result as RecordResult<R>;
      if (outcome.kind === 'processed')
        done.push({ messageId, result: outcome.result, record: record as SQSRecord });
    } else failed.push({ messageId, error: errors.get(messageId) ?? toError(result) });
  }

  const followUpFailures = await stage.afterBatch(done).catch((thrown: unknown) => {
    const error = toError(thrown);
    return done.map(({ messageId }) => ({ messageId, error }));
  });
  const failedFollowUp = new Map(followUpFailures.map((failure) => [failure.messageId, failure.error]));
  const succeeded: R[] = [];
  await Promise.all(
    done.map(async ({ messageId, result, record }) => {
      const error = failedFollowUp.get(messageId);
      if (!error) {
        succeeded.push(result);
        return;
      }
      // As for a record's own failure: a permanent error goes to the dead-letter queue at once.
      if (!isPermanentError(error) && !isLastReceive(record, deadLetters)) {
        failed.push({ messageId, error });
        return;
      }
      const notSent = await deadLetter(record, error, deadLetters);
      if (notSent) failed.push({ messageId, error: notSent });
      else deadLettered.push({ messageId, error });
    }),
  );

  const reported = new Set(processor.response().batchItemFailures.map((failure) => failure.itemIdentifier));
  for (const { messageId } of failed) reported.add(messageId);
  return {
    response: { batchItemFailures: [...reported].map((itemIdentifier) => ({ itemIdentifier })) },
    succeeded,
    failed,
    deadLettered,
  };
}

function isLastReceive(record: SQSRecord, deadLetters: DeadLetterTarget): boolean {
  return Number(record.attributes.ApproximateReceiveCount) >= deadLetters.maxReceiveCount;
}

/** Sends `record` to the dead-letter queue with `error` as its reason; returns the error if it could not. */
async function deadLetter(
  record: SQSRecord,
  error: Error,
  target: DeadLetterTarget,
): Promise<DeadLetterSendError | undefined> {
  try {
    await target.sqs.send(
      new SendMessageCommand({
        QueueUrl: target.queueUrl,
        MessageBody: record.body,
        MessageAttributes: {
          ...messageAttributesOf(record),
          ...deadLetterAttributes(error, {
            sourceQueue: target.sourceQueue,
            receiveCount: Number(record.attributes.ApproximateReceiveCount) || 1,
          }),
        },
      }),
    );
    return undefined;
  } catch (sendError) {
    return new DeadLetterSendError(
      `${error.name}: ${error.message} (and the record could not be dead-lettered: ${toError(sendError).message})`,
      { cause: sendError },
    );
  }
}

/** The record's own string and number attributes, kept on the dead letter so a redrive sends the same message. */
function messageAttributesOf(record: SQSRecord): Record<string, MessageAttributeValue> {
  const attributes: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(record.messageAttributes ?? {})) {
    if (value.stringValue !== undefined && !value.dataType.startsWith('Binary')) {
      attributes[name] = { DataType: value.dataType, StringValue: value.stringValue };
    }
  }
  return attributes;
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

export interface ConsumerTelemetry {
  logger: Logger;
  metrics: Metrics;
  /** Metric counting the records that succeeded (e.g. `PapersStored`). */
  succeededMetric: string;
  /** Metric counting the records reported as failed (they will be retried). */
  failedMetric: string;
  /** Metric counting the records the consumer sent to its dead-letter queue. */
  deadLetteredMetric: string;
  /** Log message for a failed record, e.g. "paper not stored". */
  failureMessage: string;
}

/**
 * A Lambda handler for an SQS event source over `stage`: partial batch responses,
 * records that cannot succeed sent to `deadLetters` with their reason, one log line
 * per failed or dead-lettered record (its error's name and message), and counts of
 * each as metrics.
 */
export function sqsConsumerHandler<R>(
  stage: BatchStage<R>,
  telemetry: ConsumerTelemetry,
  deadLetters: DeadLetterTarget,
) {
  const { logger, metrics } = telemetry;
  return async (event: SQSEvent, context: Context): Promise<SQSBatchResponse> => {
    const { response, succeeded, failed, deadLettered } = await processSqsBatch(
      event,
      context,
      stage,
      deadLetters,
    );
    for (const { messageId, error } of failed) {
      logger.warn(telemetry.failureMessage, {
        messageId,
        error: { name: error.name, message: error.message },
      });
    }
    for (const { messageId, error } of deadLettered) {
      logger.warn(`${telemetry.failureMessage}: sent to the dead-letter queue`, {
        messageId,
        error: { name: error.name, message: error.message },
      });
    }
    metrics.addMetric(telemetry.succeededMetric, MetricUnit.Count, succeeded.length);
    metrics.addMetric(telemetry.failedMetric, MetricUnit.Count, failed.length);
    metrics.addMetric(telemetry.deadLetteredMetric, MetricUnit.Count, deadLettered.length);
    metrics.publishStoredMetrics();
    return response;
  };
}
