import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** SQS's limits on one SendMessageBatch: 10 entries, and a total payload we keep well under 256 KiB. */
const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 240 * 1024;
const SEND_ATTEMPTS = 3;

/** Some messages could not be sent after every retry; the caller's unit of work must be retried whole. */
export class QueueSendError extends Error {
  override name = 'QueueSendError';
}

/**
 * Sends message bodies in as few SendMessageBatch requests as SQS allows,
 * retrying the entries SQS reports as failed.
 * @throws QueueSendError when entries still fail after every retry, or one body alone is too large.
 */
export async function sendMessages(
  sqs: SQSClient,
  queueUrl: string,
  bodies: readonly string[],
): Promise<void> {
  for (const batch of packBatches(bodies)) {
    const failures = await sendBatch(sqs, queueUrl, batch);
    if (failures.size > 0) {
      throw new QueueSendError(
        `${failures.size} message(s) not sent to ${queueUrl}: ${[...failures.values()].map((error) => error.message).join('; ')}`,
      );
    }
  }
}

/**
 * Like {@link sendMessages}, but a body that cannot be sent fails alone: returns the
 * {@link QueueSendError} of each body not sent, by its index in `bodies` (empty when all were).
 * Never throws for a failed send, so a caller can retry just the work behind those bodies.
 */
export async function sendMessagesReportingFailures(
  sqs: SQSClient,
  queueUrl: string,
  bodies: readonly string[],
): Promise<Map<number, QueueSendError>> {
  const failures = new Map<number, QueueSendError>();
  const sendable: string[] = [];
  const indexes: number[] = [];
  bodies.forEach((body, index) => {
    const bytes = Buffer.byteLength(body);
    if (bytes > MAX_BATCH_BYTES) {
      failures.set(index, new QueueSendError(`message ${index} is ${bytes} bytes, over the SQS limit`));
    } else {
      sendable.push(body);
      indexes.push(index);
    }
  });
  for (const batch of packBatches(sendable)) {
    let batchFailures: Map<string, QueueSendError>;
    try {
      batchFailures = await sendBatch(sqs, queueUrl, batch);
    } catch (error) {
      const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      const sendError = new QueueSendError(`not sent to ${queueUrl}: ${reason}`, { cause: error });
      batchFailures = new Map(batch.map((entry) => [entry.Id ?? '', sendError]));
    }
    for (const [id, error] of batchFailures) failures.set(indexes[Number(id)] ?? -1, error);
  }
  return failures;
}

/** One SendMessageBatch with retries of its failed entries; returns what still failed, by entry id. */
async function sendBatch(
  sqs: SQSClient,
  queueUrl: string,
  batch: SendMessageBatchRequestEntry[],
): Promise<Map<string, QueueSendError>> {
  let pending = batch;
  for (let attempt = 1; ; attempt++) {
    // Entries SQS refused are usually throttled: give it a moment before the retry.
    if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
    const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
    const failed = new Map((result.Failed ?? []).map((entry) => [entry.Id, entry]));
    pending = pending.filter((entry) => failed.has(entry.Id));
    if (pending.length === 0) return new Map();
    if (attempt >= SEND_ATTEMPTS) {
      return new Map(
        pending.map((entry) => {
          const reason = failed.get(entry.Id);
          return [
            entry.Id ?? '',
            new QueueSendError(
              `message ${entry.Id} not sent to ${queueUrl}: ${reason?.Code} ${reason?.Message ?? ''}`.trim(),
            ),
          ];
        }),
      );
    }
  }
}

function packBatches(bodies: readonly string[]): SendMessageBatchRequestEntry[][] {
  const batches: SendMessageBatchRequestEntry[][] = [];
  let current: SendMessageBatchRequestEntry[] = [];
  let currentBytes = 0;
  bodies.forEach((body, index) => {
    const bytes = Buffer.byteLength(body);
    if (bytes > MAX_BATCH_BYTES)
      throw new QueueSendError(`message ${index} is ${bytes} bytes, over the SQS limit`);
    if (current.length === MAX_ENTRIES || currentBytes + bytes > MAX_BATCH_BYTES) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push({ Id: String(index), MessageBody: body });
    currentBytes += bytes;
  });
  if (current.length > 0) batches.push(current);
  return batches;
}
