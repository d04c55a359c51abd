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
    let pending = batch;
    for (let attempt = 1; pending.length > 0; attempt++) {
      // Entries SQS refused are usually throttled: give it a moment before the retry.
      if (attempt > 1) await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt));
      const result = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: pending }));
      const failed = new Set((result.Failed ?? []).map((entry) => entry.Id));
      pending = pending.filter((entry) => failed.has(entry.Id));
      if (pending.length > 0 && attempt >= SEND_ATTEMPTS) {
        const reasons = (result.Failed ?? []).map(
          (entry) => `${entry.Id}: ${entry.Code} ${entry.Message ?? ''}`,
        );
        throw new QueueSendError(
          `${pending.length} message(s) not sent to ${queueUrl}: ${reasons.join('; ')}`,
        );
      }
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
