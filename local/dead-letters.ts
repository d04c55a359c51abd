import { type CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ListMessageMoveTasksCommand,
  type Message,
  type MessageAttributeValue,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import * as z from 'zod';
import {
  DEAD_LETTER_ATTRIBUTES,
  type DeadLetterReason,
  deadLetterReason,
  LambdaDestinationRecordSchema,
} from '../shared/dead-letter';

/**
 * What the dead-letter tool (`papers dlq`) works on: the three DLQs, where each
 * message came from, and why it is there (`shared/dead-letter.ts`), locally or
 * on the deployed stack.
 */

export const DEAD_LETTER_QUEUES = ['parse', 'classify', 'fetch'] as const;
export type DeadLetterQueueName = (typeof DEAD_LETTER_QUEUES)[number];

export interface DeadLetterQueue {
  name: DeadLetterQueueName;
  url: string;
  /** The queue its messages came from; none for fetch (its records come from Lambda). */
  sourceUrl?: string;
}

/** A stack output the dead-letter tool needs is missing: the stack is not this pipeline, or is older. */
export class StackOutputsError extends Error {
  override name = 'StackOutputsError';
}

const QUEUE_OUTPUTS = {
  parse: { url: 'ParseDeadLetterQueueUrl', source: 'ParseQueueUrl' },
  classify: { url: 'ClassifyDeadLetterQueueUrl', source: 'ClassifyQueueUrl' },
  fetch: { url: 'FetchDeadLetterQueueUrl' },
} as const;

/**
 * The deployed stack's DLQs (and their source queues), from its outputs (CloudFormation
 * DescribeStacks).
 * @throws StackOutputsError naming the outputs the stack lacks.
 */
export async function deployedDeadLetterQueues(
  cloudFormation: CloudFormationClient,
  stackName: string,
): Promise<DeadLetterQueue[]> {
  const described = await cloudFormation.send(new DescribeStacksCommand({ StackName: stackName }));
  const outputs = new Map(
    (described.Stacks?.[0]?.Outputs ?? []).map((output) => [output.OutputKey, output.OutputValue]),
  );
  const needed = Object.values(QUEUE_OUTPUTS).flatMap((output) => Object.values(output));
  const missing = needed.filter((key) => !z.url().safeParse(outputs.get(key)).success);
  if (missing.length > 0) {
    throw new StackOutputsError(
      `stack ${stackName} has no ${missing.join(', ')} output${missing.length > 1 ? 's' : ''}: ` +
        'deploy this version of the pipeline (npx cdk deploy) first',
    );
  }
  const url = (key: string) => outputs.get(key) ?? '';
  return [
    { name: 'parse', url: url(QUEUE_OUTPUTS.parse.url), sourceUrl: url(QUEUE_OUTPUTS.parse.source) },
    { name: 'classify', url: url(QUEUE_OUTPUTS.classify.url), sourceUrl: url(QUEUE_OUTPUTS.classify.source) },
    { name: 'fetch', url: url(QUEUE_OUTPUTS.fetch.url) },
  ];
}

/**
 * The SQS client for the deployed queues: the caller's own credentials (not the local
 * stand-ins' dummy ones). An `AWS_ENDPOINT_URL_SQS` is given as an explicit endpoint, so
 * the SDK sends there instead of to each queue URL's host.
 */
export function makeDeployedSqsClient(): SQSClient {
  const endpoint = process.env.AWS_ENDPOINT_URL_SQS;
  return new SQSClient(endpoint ? { endpoint } : {});
}

export interface DeadLetter {
  messageId: string;
  body: string;
  reason: DeadLetterReason;
  /** What the body says it is about: a paper and its day, or the day a fetch was for. */
  subject: { paperId?: string; day?: string; url?: string; index?: number };
  /** The fetch event to run again, for a Lambda destination record. */
  requestPayload?: unknown;
  receiptHandle: string;
  messageAttributes: Record<string, MessageAttributeValue>;
}

/** While a peek holds messages out of sight; they are handed back at once after, or come back by themselves. */
const PEEK_VISIBILITY_SECONDS = 30;
/** While a redrive holds them: long enough to run a fetch again for each. */
const REDRIVE_VISIBILITY_SECONDS = 15 * 60;

/**
 * Every message in the queue, without consuming any: received out of sight to reach
 * the ones behind them, then made visible again. Each receive counts in the messages'
 * ApproximateReceiveCount, as on AWS.
 */
export async function peekDeadLetters(sqs: SQSClient, queueUrl: string): Promise<DeadLetter[]> {
  const letters = await receiveAll(sqs, queueUrl, PEEK_VISIBILITY_SECONDS);
  await handBack(
    sqs,
    queueUrl,
    letters.map((letter) => letter.receiptHandle),
  );
  return letters;
}

async function receiveAll(
  sqs: SQSClient,
  queueUrl: string,
  visibilitySeconds: number,
): Promise<DeadLetter[]> {
  const seen = new Map<string, DeadLetter>();
  for (;;) {
    const received = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: visibilitySeconds,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const messages = received.Messages ?? [];
    if (messages.length === 0) return [...seen.values()];
    for (const message of messages) seen.set(message.MessageId ?? '', toDeadLetter(message));
  }
}

async function handBack(sqs: SQSClient, queueUrl: string, receiptHandles: string[]): Promise<void> {
  for (let start = 0; start < receiptHandles.length; start += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: queueUrl,
        Entries: receiptHandles.slice(start, start + 10).map((handle, i) => ({
          Id: String(i),
          ReceiptHandle: handle,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
}

const SubjectSchema = z.object({
  paper: z.object({ id: z.string() }).optional(),
  origin: z.object({ listedOn: z.string() }).optional(),
  listing: z.object({ listedOn: z.string().optional(), url: z.string().optional() }).optional(),
  item: z
    .object({
      index: z.number().optional(),
      listedOn: z.string().optional(),
      raw: z.unknown(),
    })
    .optional(),
});
const RawItemIdSchema = z.union([
  z.object({ paper: z.object({ id: z.string() }) }),
  z.object({ id: z.string() }),
]);
const FetchEventSchema = z.object({
  date: z.string().optional(),
  scheduledTime: z.string().optional(),
  url: z.string().optional(),
  recordAs: z.string().optional(),
});

function toDeadLetter(message: Message): DeadLetter {
  const body = message.Body ?? '';
  return {
    messageId: message.MessageId ?? '',
    body,
    reason: deadLetterReason(message),
    ...subjectOf(body),
    receiptHandle: message.ReceiptHandle ?? '',
    messageAttributes: message.MessageAttributes ?? {},
  };
}

/** The paper and day a parse or classify message is about, or the day a fetch record was for. */
function subjectOf(body: string): Pick<DeadLetter, 'subject' | 'requestPayload'> {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { subject: {} };
  }
  const destination = LambdaDestinationRecordSchema.safeParse(json);
  if (destination.success) {
    const event = FetchEventSchema.safeParse(destination.data.requestPayload);
    const day = event.success ? (event.data.date ?? event.data.scheduledTime?.slice(0, 10)) : undefined;
    const url = event.success ? (event.data.recordAs ?? event.data.url) : undefined;
    return { subject: { day, url }, requestPayload: destination.data.requestPayload };
  }
  const parsed = SubjectSchema.safeParse(json);
  if (!parsed.success) return { subject: {} };
  const { paper, origin, listing, item } = parsed.data;
  const raw = RawItemIdSchema.safeParse(item?.raw);
  const rawId = raw.success ? ('paper' in raw.data ? raw.data.paper.id : raw.data.id) : undefined;
  return {
    subject: {
      paperId: paper?.id ?? rawId,
      day: origin?.listedOn ?? item?.listedOn ?? listing?.listedOn,
      url: listing?.url,
      index: item?.index,
    },
  };
}

/** One line on why a message is in its DLQ. */
export function describeReason(reason: DeadLetterReason): string {
  const error = [reason.errorName, reason.errorMessage].filter(Boolean).join(': ') || 'no error recorded';
  switch (reason.recordedBy) {
    case 'consumer':
      return (
        `${error} (dead-lettered by the consumer${reason.failedAt ? ` at ${reason.failedAt}` : ''}` +
        `${reason.receiveCount ? ` on receive ${reason.receiveCount}` : ''})`
      );
    case 'lambda-destination':
      return (
        `${error} (Lambda gave up after ${reason.receiveCount ?? '?'} invocation(s)` +
        `${reason.failedAt ? ` at ${reason.failedAt}` : ''})`
      );
    default:
      return (
        `moved by the redrive policy after ${reason.receiveCount ?? '?'} receive(s) (this listing's ` +
        'included); no reason recorded: the consumer crashed or timed out'
      );
  }
}

/** The reason attributes a consumer set: dropped when a message goes back, so a later failure records its own. */
const REASON_ATTRIBUTES = new Set<string>(Object.values(DEAD_LETTER_ATTRIBUTES));

export interface RedriveOutcome {
  moved: number;
  /** Messages whose send back failed: they stay in the DLQ. */
  failed: number;
}

/**
 * Moves every message in the DLQ back to `sourceUrl` by hand: receive, send, then delete
 * only the ones whose send succeeded (a failed send leaves its message in the DLQ, visible
 * again). For stand-ins without SQS's message move task (fauxqs 1.9.2 has none).
 */
export async function redriveByHand(
  sqs: SQSClient,
  queueUrl: string,
  sourceUrl: string,
): Promise<RedriveOutcome> {
  const letters = await receiveAll(sqs, queueUrl, REDRIVE_VISIBILITY_SECONDS);
  const outcome: RedriveOutcome = { moved: 0, failed: 0 };
  for (let start = 0; start < letters.length; start += 10) {
    const batch = letters.slice(start, start + 10);
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: sourceUrl,
        Entries: batch.map((letter, i) => ({
          Id: String(i),
          MessageBody: letter.body,
          MessageAttributes: Object.fromEntries(
            Object.entries(letter.messageAttributes).filter(([name]) => !REASON_ATTRIBUTES.has(name)),
          ),
        })),
      }),
    );
    const sentIds = new Set((sent.Successful ?? []).map((entry) => entry.Id));
    const done = batch.filter((_, i) => sentIds.has(String(i)));
    const kept = batch.filter((_, i) => !sentIds.has(String(i)));
    if (done.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: done.map((letter, i) => ({ Id: String(i), ReceiptHandle: letter.receiptHandle })),
        }),
      );
    }
    await handBack(
      sqs,
      queueUrl,
      kept.map((letter) => letter.receiptHandle),
    );
    outcome.moved += done.length;
    outcome.failed += kept.length;
  }
  return outcome;
}

/**
 * Moves every message in the DLQ back to the queue it came from with SQS's own message
 * move task (StartMessageMoveTask), and waits (up to `timeoutMs`) for the task to finish.
 */
export async function redriveWithMoveTask(
  sqs: SQSClient,
  queueUrl: string,
  timeoutMs = 5 * 60_000,
): Promise<RedriveOutcome & { status: string }> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['QueueArn'] }),
  );
  const sourceArn = Attributes?.QueueArn;
  if (!sourceArn) throw new Error(`queue ${queueUrl} did not say its ARN`);
  const started = await sqs.send(new StartMessageMoveTaskCommand({ SourceArn: sourceArn }));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { Results = [] } = await sqs.send(new ListMessageMoveTasksCommand({ SourceArn: sourceArn }));
    const task = Results.find((result) => result.TaskHandle === started.TaskHandle) ?? Results[0];
    const status = task?.Status ?? 'UNKNOWN';
    if (status !== 'RUNNING' || Date.now() > deadline) {
      return {
        status,
        moved: task?.ApproximateNumberOfMessagesMoved ?? 0,
        failed:
          status === 'COMPLETED'
            ? 0
            : Math.max(
                0,
                (task?.ApproximateNumberOfMessagesToMove ?? 0) -
                  (task?.ApproximateNumberOfMessagesMoved ?? 0),
              ),
      };
    }
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
}

/** Deletes one message (a fetch record whose run has now succeeded). */
export async function deleteDeadLetter(sqs: SQSClient, queueUrl: string, letter: DeadLetter): Promise<void> {
  await sqs.send(
    new DeleteMessageBatchCommand({
      QueueUrl: queueUrl,
      Entries: [{ Id: '0', ReceiptHandle: letter.receiptHandle }],
    }),
  );
}

/** Receives every message in the queue and keeps them out of sight for the redrive; see {@link peekDeadLetters}. */
export function takeDeadLetters(sqs: SQSClient, queueUrl: string): Promise<DeadLetter[]> {
  return receiveAll(sqs, queueUrl, REDRIVE_VISIBILITY_SECONDS);
}

export { handBack as handBackDeadLetters };
