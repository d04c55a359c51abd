import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';

/** SQS's limits on one SendMessageBatch: 10 entries, and a total payload we keep well under 256 KiB. */
const MAX_ENTRIES = 10;
const MAX_BATCH_BYTES = 240 * 1024;
/** The largest body {@link sendMessages} sends: one message alone may use the whole batch allowance. */
export const MAX_MESSAGE_BYTES = MAX_BATCH_BYTES;

/** Whether `body` fits in one SQS message as {@link sendMessages} sends it. */
export function fitsInOneMessage(body: string): boolean {
  return Buffer.byteLength(body) <= MAX_MESSAGE_BYTES;
}
const SEND_ATTEMPTS = 3;

/** Some messages could not be sent after every retry; the caller's unit of work must be retried whole. */
export class QueueSendError extends Error {
  override name = 'QueueSendError';
}

/**
 * Sends message bodies in as few SendMessageBatch requests as SQS allows,
 * retrying the entries SQS reports as failed. A body too large for SQS does not stop the
 * others: they are all sent first, then the error names the ones that were not.
 * @throws QueueSendError when entries still fail after every retry, or a body is too large
 *   (check with {@link fitsInOneMessage} and send a smaller one instead).
 */
export async function sendMessages(
  sqs: SQSClient,
  queueUrl: string,
  bodies: readonly string[],
): Promise<void> {
  const { batches, oversized } = packBatches(bodies);
  for (const batch of batches) {
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
  if (oversized.length > 0) {
    throw new QueueSendError(
      `${oversized.length} message(s) not sent to ${queueUrl}, over the SQS limit of ${MAX_MESSAGE_BYTES} bytes: ` +
        oversized.map(({ index, bytes }) => `message ${index} is ${bytes} bytes`).join('; '),
    );
  }
}

function packBatches(bodies: readonly string[]): {
  batches: SendMessageBatchRequestEntry[][];
  oversized: { index: number; bytes: number }[];
} {
  const batches: SendMessageBatchRequestEntry[][] = [];
  const oversized: { index: number; bytes: number }[] = [];
  let current: SendMessageBatchRequestEntry[] = [];
  let currentBytes = 0;
  bodies.forEach((body, index) => {
    const bytes = Buffer.byteLength(body);
    if (bytes > MAX_MESSAGE_BYTES) {
      oversized.push({ index, bytes });
      return;
    }
    if (current.length === MAX_ENTRIES || currentBytes + bytes > MAX_BATCH_BYTES) {
      batches.push(current);
      current = [];
      currentBytes = 0;
    }
    current.push({ Id: String(index), MessageBody: body });
    currentBytes += bytes;
  });
  if (current.length > 0) batches.push(current);
  return { batches, oversized };
}
