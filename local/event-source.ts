import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { QueueDefinition } from '../shared/resources';
import { localLambdaContext } from './http-adapter';

/**
 * Drives queues the way Lambda's SQS event source mapping does: receive up to
 * `batchSize` messages, invoke the handler with an SQS event, delete the
 * records it did not report in `batchItemFailures`, and leave the failed ones
 * on the queue to be received again — until the queue's redrive policy moves a
 * message that failed `maxReceiveCount` times to its dead-letter queue.
 *
 * One difference, for speed: Lambda leaves a failed message invisible for the
 * queue's whole visibility timeout (minutes); the driver makes it visible again
 * after `retryDelaySeconds`.
 */

export type SqsHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

export interface Consumer {
  name: string;
  queueUrl: string;
  queueArn?: string;
  definition: QueueDefinition;
  handler: SqsHandler;
}

export interface ConsumerReport {
  name: string;
  invocations: number;
  records: number;
  failedRecords: number;
  /** Successful records the queue refused to delete (they come back; the stages are idempotent). */
  undeleted: number;
}

export interface DrainOptions {
  retryDelaySeconds?: number;
  /** Concurrent pollers per queue (Lambda's maximum concurrency; bounded here by the machine). */
  pollers?: number;
  /** Gives up (throws) if the queues are not drained by then. */
  timeoutMs?: number;
}

/**
 * Drains the consumers' queues in pipeline order: a consumer is done when every
 * consumer before it is done and its own queue holds no message, visible or in flight.
 */
export async function drainQueues(
  sqs: SQSClient,
  consumers: readonly Consumer[],
  options: DrainOptions = {},
): Promise<ConsumerReport[]> {
  const { retryDelaySeconds = 1, pollers = 2, timeoutMs = 10 * 60_000 } = options;
  const deadline = Date.now() + timeoutMs;
  const reports: ConsumerReport[] = consumers.map((consumer) => ({
    name: consumer.name,
    invocations: 0,
    records: 0,
    failedRecords: 0,
    undeleted: 0,
  }));
  const done: Promise<void>[] = [];
  // Set when any poller fails, so the others stop instead of polling until the deadline.
  let aborted = false;
  consumers.forEach((consumer, index) => {
    const upstream = done.slice(0, index);
    let upstreamDone = upstream.length === 0;
    Promise.all(upstream).then(
      () => {
        upstreamDone = true;
      },
      () => {},
    );
    const report = reports[index] as ConsumerReport;
    const poll = async () => {
      while (!aborted) {
        if (Date.now() > deadline)
          throw new Error(`queue ${consumer.name} not drained within ${timeoutMs} ms`);
        const received = await sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: consumer.queueUrl,
            MaxNumberOfMessages: Math.min(consumer.definition.batchSize, 10),
            WaitTimeSeconds: 0,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        );
        const messages = received.Messages ?? [];
        if (messages.length > 0) {
          await invoke(sqs, consumer, messages, report, retryDelaySeconds);
          continue;
        }
        if (upstreamDone && (await isEmpty(sqs, consumer.queueUrl))) return;
        await sleep(upstreamDone ? 250 : 50);
      }
    };
    const pollersDone = Promise.allSettled(
      Array.from({ length: pollers }, () =>
        poll().catch((error: unknown) => {
          aborted = true;
          throw error;
        }),
      ),
    ).then(firstFailure);
    done.push(pollersDone);
  });
  // Wait for every poller to stop (none is left invoking a handler against a closing stack), then fail.
  firstFailure(await Promise.allSettled(done));
  return reports;
}

/** Throws the first rejection among settled promises. */
function firstFailure(outcomes: PromiseSettledResult<unknown>[]): void {
  const failure = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
  if (failure) throw failure.reason;
}

async function invoke(
  sqs: SQSClient,
  consumer: Consumer,
  messages: Message[],
  report: ConsumerReport,
  retryDelaySeconds: number,
): Promise<void> {
  const event: SQSEvent = { Records: messages.map((message) => toRecord(message, consumer)) };
  report.invocations++;
  report.records += messages.length;
  let failedIds: Set<string>;
  try {
    const response = await consumer.handler(event, localLambdaContext(consumer.name));
    failedIds = new Set((response?.batchItemFailures ?? []).map((failure) => failure.itemIdentifier));
  } catch {
    // A thrown invocation fails the whole batch, as on Lambda.
    failedIds = new Set(messages.map((message) => message.MessageId ?? ''));
  }
  report.failedRecords += failedIds.size;
  const succeeded = messages.filter((message) => !failedIds.has(message.MessageId ?? ''));
  const failed = messages.filter((message) => failedIds.has(message.MessageId ?? ''));
  if (succeeded.length > 0) {
    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: consumer.queueUrl,
        Entries: succeeded.map((message, i) => ({ Id: String(i), ReceiptHandle: message.ReceiptHandle })),
      }),
    );
    // Not fatal: an undeleted message is delivered again, and every stage is idempotent.
    report.undeleted += deleted.Failed?.length ?? 0;
  }
  if (failed.length > 0) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: consumer.queueUrl,
        Entries: failed.map((message, i) => ({
          Id: String(i),
          ReceiptHandle: message.ReceiptHandle,
          VisibilityTimeout: retryDelaySeconds,
        })),
      }),
    );
  }
}

async function isEmpty(sqs: SQSClient, queueUrl: string): Promise<boolean> {
  const { Attributes: attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return (
    Number(attributes.ApproximateNumberOfMessages ?? 0) +
      Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
      Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0) ===
    0
  );
}

function toRecord(message: Message, consumer: Consumer): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId ?? '',
    receiptHandle: message.ReceiptHandle ?? '',
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? 'local',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: message.MD5OfBody ?? '',
    eventSource: 'aws:sqs',
    eventSourceARN: consumer.queueArn ?? `arn:aws:sqs:us-east-1:000000000000:${consumer.name}`,
    awsRegion: 'us-east-1',
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
