import type { MessageAttributeValue } from '@aws-sdk/client-sqs';
import * as z from './zod';

/**
 * Why a message sits in a dead-letter queue. Three writers put messages there,
 * and each leaves its reason in its own place:
 *
 * | writer                                   | where the reason is                                   |
 * |------------------------------------------|-------------------------------------------------------|
 * | a consumer giving up on a record         | message attributes {@link DEAD_LETTER_ATTRIBUTES}     |
 * | the queue's redrive policy (a backstop)  | nowhere: only the receive count; the function crashed or timed out |
 * | Lambda's async on-failure destination    | the body: Lambda's destination record (`responsePayload.errorType`/`errorMessage`) |
 *
 * A consumer dead-letters a record itself (with its reason) when retrying cannot
 * help (a bad message, a bad paper) or on its last receive; the redrive policy
 * only catches what the consumer never got to report.
 */

/** Message attribute names a consumer sets on a record it dead-letters. */
export const DEAD_LETTER_ATTRIBUTES = {
  errorName: 'ErrorName',
  errorMessage: 'ErrorMessage',
  failedAt: 'FailedAt',
  /** `parse` or `classify`: the queue the record was consumed from. */
  sourceQueue: 'SourceQueue',
  receiveCount: 'ReceiveCount',
} as const;

/** SQS allows 256 KiB a message, attributes included; a reason needs far less. */
const MAX_REASON_CHARS = 2000;

export interface DeadLetterContext {
  sourceQueue: string;
  receiveCount: number;
  now?: Date;
}

/** The message attributes that record why a consumer dead-lettered a record. */
export function deadLetterAttributes(
  error: Error,
  context: DeadLetterContext,
): Record<string, MessageAttributeValue> {
  const text = (value: string): MessageAttributeValue => ({
    DataType: 'String',
    StringValue: value.length > 0 ? value.slice(0, MAX_REASON_CHARS) : '(empty)',
  });
  return {
    [DEAD_LETTER_ATTRIBUTES.errorName]: text(error.name),
    [DEAD_LETTER_ATTRIBUTES.errorMessage]: text(error.message),
    [DEAD_LETTER_ATTRIBUTES.failedAt]: text((context.now ?? new Date()).toISOString()),
    [DEAD_LETTER_ATTRIBUTES.sourceQueue]: text(context.sourceQueue),
    [DEAD_LETTER_ATTRIBUTES.receiveCount]: { DataType: 'Number', StringValue: String(context.receiveCount) },
  };
}

export interface DeadLetterReason {
  recordedBy: 'consumer' | 'redrive-policy' | 'lambda-destination';
  errorName?: string;
  errorMessage?: string;
  failedAt?: string;
  receiveCount?: number;
}

/** Lambda's on-failure destination record for an asynchronous invocation (the fields we read). */
export const LambdaDestinationRecordSchema = z.object({
  timestamp: z.optional(z.string()),
  requestContext: z.object({
    condition: z.optional(z.string()),
    approximateInvokeCount: z.optional(z.number()),
  }),
  requestPayload: z.unknown(),
  responsePayload: z.nullish(
    z.object({ errorType: z.optional(z.string()), errorMessage: z.optional(z.string()) }),
  ),
});
export type LambdaDestinationRecord = z.infer<typeof LambdaDestinationRecordSchema>;

/** What a dead-lettered message says about why it is there. */
export function deadLetterReason(message: {
  Body?: string;
  MessageAttributes?: Record<string, MessageAttributeValue>;
  Attributes?: Partial<Record<string, string>>;
}): DeadLetterReason {
  const attribute = (name: string) => message.MessageAttributes?.[name]?.StringValue;
  const errorName = attribute(DEAD_LETTER_ATTRIBUTES.errorName);
  if (errorName !== undefined) {
    return {
      recordedBy: 'consumer',
      errorName,
      errorMessage: attribute(DEAD_LETTER_ATTRIBUTES.errorMessage),
      failedAt: attribute(DEAD_LETTER_ATTRIBUTES.failedAt),
      receiveCount: Number(attribute(DEAD_LETTER_ATTRIBUTES.receiveCount)) || undefined,
    };
  }
  const destination = lambdaDestinationRecord(message.Body);
  if (destination) {
    return {
      recordedBy: 'lambda-destination',
      errorName: destination.responsePayload?.errorType ?? destination.requestContext.condition,
      errorMessage: destination.responsePayload?.errorMessage,
      failedAt: destination.timestamp,
      receiveCount: destination.requestContext.approximateInvokeCount,
    };
  }
  const received = Number(message.Attributes?.ApproximateReceiveCount);
  return { recordedBy: 'redrive-policy', receiveCount: Number.isFinite(received) ? received : undefined };
}

function lambdaDestinationRecord(body: string | undefined): LambdaDestinationRecord | undefined {
  if (body === undefined) return undefined;
  try {
    const parsed = LambdaDestinationRecordSchema.safeParse(JSON.parse(body));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
