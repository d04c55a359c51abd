import { fileURLToPath } from 'node:url';
import type { SQSClient } from '@aws-sdk/client-sqs';
import * as z from 'zod';
import { makeCloudFormationClient } from '../../shared/aws/cloudformation';
import { readCommandLine, UsageError } from '../../shared/command-line';
import { IsoDateSchema } from '../../shared/paper';
import {
  DEAD_LETTER_QUEUES,
  type DeadLetter,
  type DeadLetterQueue,
  type DeadLetterQueueName,
  deleteDeadLetter,
  deployedDeadLetterQueues,
  describeReason,
  handBackDeadLetters,
  makeDeployedSqsClient,
  peekDeadLetters,
  redriveByHand,
  redriveWithMoveTask,
  takeDeadLetters,
} from '../dead-letters';
import { FetchDeadLetteredError } from '../handlers';
import { drainPipeline, runIngest } from '../ingest';
import { queueDepth } from '../queue-depth';
import { type LocalStack, withLocalStack } from '../stack';
import { loadCliHandlers } from './ingest';

/**
 * `npm run -s papers -- dlq list|redrive [--queue parse|classify|fetch] [--aws --stack NAME]`:
 * what sits in the dead-letter queues and why, and sending it back after a fix.
 */

export const usage = `usage: npm run -s papers -- dlq list [--queue parse|classify|fetch] [--aws --stack NAME]
   or: npm run -s papers -- dlq redrive [--queue parse|classify|fetch] [--aws --stack NAME]
  list     every message in the dead-letter queues: its id, the paper and day (or the fetch's day)
           it is about, and why it is there. A peek: the messages stay in their queues (each
           listing counts as one receive in their ApproximateReceiveCount, as on AWS)
  redrive  sends them back. parse and classify messages go to the queue they came from (SQS's
           message move task on AWS; locally receive, send, delete, then the consumers run as in
           \`papers ingest\`). A fetch record runs fetch-listing again with the event it holds and
           is deleted once that run is done: a run that fails again leaves a new record (local only)
  --queue  one dead-letter queue (default: all three)
  --aws    the deployed queues instead of the local stack's (credentials and region from the
           environment); needs --stack, the CloudFormation stack whose outputs name the queues
Exit code 1 when a redrive leaves messages in a dead-letter queue.
`;

const options = {
  queue: { type: 'string' },
  aws: { type: 'boolean' },
  stack: { type: 'string' },
} as const;

interface DlqCommand {
  action: 'list' | 'redrive';
  queues: readonly DeadLetterQueueName[];
  stackName?: string;
}

/** @throws UsageError for a mistake on the command line. */
export function parseDlqArgs(args: readonly string[]): DlqCommand {
  const { values, positionals } = readCommandLine(args, options, { positionals: true });
  const [action, ...extra] = positionals;
  if (action === undefined) throw new UsageError('say what to do: list or redrive');
  if (action !== 'list' && action !== 'redrive') {
    throw new UsageError(`unknown action "${action}": use list or redrive`);
  }
  if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);
  const queue = values.queue;
  if (queue !== undefined && !DEAD_LETTER_QUEUES.some((name) => name === queue)) {
    throw new UsageError(`--queue must be one of ${DEAD_LETTER_QUEUES.join(', ')}, got "${queue}"`);
  }
  if (values.aws && values.stack === undefined) throw new UsageError('--aws needs --stack NAME');
  if (!values.aws && values.stack !== undefined) throw new UsageError('--stack goes with --aws');
  return {
    action,
    queues: DEAD_LETTER_QUEUES.filter((name) => queue === undefined || name === queue),
    stackName: values.aws ? values.stack : undefined,
  };
}

export async function run(args: string[]): Promise<number> {
  const command = parseDlqArgs(args);
  if (command.stackName !== undefined) return runOnAws(command, command.stackName);
  return withLocalStack(async (stack) => {
    const queues = localDeadLetterQueues(stack).filter((queue) => command.queues.includes(queue.name));
    if (command.action === 'list') return list(stack.sqs, queues);
    return redriveLocally(stack, queues);
  });
}

function localDeadLetterQueues(stack: LocalStack): DeadLetterQueue[] {
  const urls = stack.queueUrls;
  return [
    { name: 'parse', url: urls.parseDeadLetter, sourceUrl: urls.parse },
    { name: 'classify', url: urls.classifyDeadLetter, sourceUrl: urls.classify },
    { name: 'fetch', url: urls.fetchDeadLetter },
  ];
}

async function runOnAws(command: DlqCommand, stackName: string): Promise<number> {
  const cloudFormation = makeCloudFormationClient();
  const sqs = makeDeployedSqsClient();
  try {
    const queues = (await deployedDeadLetterQueues(cloudFormation, stackName)).filter((queue) =>
      command.queues.includes(queue.name),
    );
    if (command.action === 'list') return await list(sqs, queues);
    let left = 0;
    for (const queue of queues) {
      if (queue.name === 'fetch') {
        const letters = await peekDeadLetters(sqs, queue.url);
        left += letters.length;
        if (letters.length > 0) {
          process.stderr.write(
            `papers dlq: fetch: ${letters.length} record(s) left: redriving them on AWS means invoking ` +
              "fetch-listing with each record's requestPayload (e.g. `aws lambda invoke --invocation-type Event " +
              "--function-name <requestContext.functionArn> --payload '<requestPayload>' …`), then deleting the record\n",
          );
        }
        continue;
      }
      const outcome = await redriveWithMoveTask(sqs, queue.url);
      left += outcome.failed;
      process.stderr.write(
        `papers dlq: ${queue.name}: message move task ${outcome.status}, ${outcome.moved} moved back to its source queue\n`,
      );
    }
    return left > 0 ? 1 : 0;
  } finally {
    cloudFormation.destroy();
    sqs.destroy();
  }
}

async function list(sqs: SQSClient, queues: readonly DeadLetterQueue[]): Promise<number> {
  for (const queue of queues) {
    const letters = await peekDeadLetters(sqs, queue.url);
    process.stdout.write(`${queue.name} DLQ: ${letters.length} message(s)\n`);
    for (const letter of letters) {
      process.stdout.write(`  ${letter.messageId}  ${describeSubject(queue.name, letter)}\n`);
      process.stdout.write(`    ${describeReason(letter.reason)}\n`);
    }
  }
  process.stderr.write('papers dlq: a peek: every message listed is still in its queue\n');
  return 0;
}

function describeSubject(queue: DeadLetterQueueName, letter: DeadLetter): string {
  const { paperId, day, url, index } = letter.subject;
  if (queue === 'fetch') {
    return letter.requestPayload === undefined
      ? 'not a Lambda destination record'
      : `fetch for ${day ?? 'the day it ran'}${url ? ` (${url})` : ''}`;
  }
  if (paperId) return `paper ${paperId}${day ? ` listed on ${day}` : ''}`;
  if (index !== undefined) return `item ${index} of ${url ?? 'a listing'}${day ? ` (day ${day})` : ''}`;
  return 'a message whose body names no paper';
}

async function redriveLocally(stack: LocalStack, queues: readonly DeadLetterQueue[]): Promise<number> {
  const handlers = await loadCliHandlers(stack);
  for (const queue of queues) {
    if (queue.name === 'fetch') {
      await redriveFetchRecords(stack, handlers, queue.url);
      continue;
    }
    const outcome = await redriveByHand(stack.sqs, queue.url, queue.sourceUrl ?? '');
    process.stderr.write(
      `papers dlq: ${queue.name}: ${outcome.moved} sent back to its queue` +
        (outcome.failed > 0 ? `, ${outcome.failed} could not be sent and stay in the DLQ` : '') +
        '\n',
    );
  }
  const consumers = await drainPipeline(stack, handlers);
  const records = consumers.reduce((sum, consumer) => sum + consumer.records, 0);
  let left = 0;
  const counts: string[] = [];
  for (const queue of localDeadLetterQueues(stack)) {
    const depth = await queueDepth(stack.sqs, queue.url);
    left += queues.some((selected) => selected.name === queue.name) ? depth : 0;
    counts.push(`${queue.name} ${depth}`);
  }
  process.stderr.write(
    `papers dlq: the consumers handled ${records} message(s); in the DLQs now: ${counts.join(', ')}\n`,
  );
  return left > 0 ? 1 : 0;
}

/** Runs fetch-listing again for each record, as Lambda would; a run that fails again leaves a new record. */
async function redriveFetchRecords(
  stack: LocalStack,
  handlers: Awaited<ReturnType<typeof loadCliHandlers>>,
  queueUrl: string,
): Promise<void> {
  const letters = await takeDeadLetters(stack.sqs, queueUrl);
  let succeeded = 0;
  let failedAgain = 0;
  const unusable: DeadLetter[] = [];
  for (const letter of letters) {
    if (letter.requestPayload === undefined) {
      unusable.push(letter);
      continue;
    }
    try {
      await runFetchAgain(stack, handlers, letter.requestPayload);
      succeeded++;
    } catch (error) {
      if (!(error instanceof FetchDeadLetteredError)) {
        await handBackDeadLetters(stack.sqs, queueUrl, [letter.receiptHandle]);
        throw error;
      }
      failedAgain++;
      process.stderr.write(
        `papers dlq: fetch for ${letter.subject.day ?? '?'} failed again: ${error.message}\n`,
      );
    }
    // Either way this record is done with: the run succeeded, or its failure left a new record.
    await deleteDeadLetter(stack.sqs, queueUrl, letter);
  }
  await handBackDeadLetters(
    stack.sqs,
    queueUrl,
    unusable.map((letter) => letter.receiptHandle),
  );
  process.stderr.write(
    `papers dlq: fetch: ${succeeded} run(s) succeeded, ${failedAgain} failed again` +
      (unusable.length > 0 ? `, ${unusable.length} not a Lambda record (left in the DLQ)` : '') +
      '\n',
  );
}

const SavedFileEventSchema = z.object({
  date: z.optional(IsoDateSchema),
  recordAs: z.string().startsWith('file:'),
});

/**
 * Runs a dead-lettered fetch event again. A saved file was served on a loopback port that
 * died with its run: it is ingested again from the file its `recordAs` names, as
 * `papers ingest --source FILE` would.
 */
async function runFetchAgain(
  stack: LocalStack,
  handlers: Awaited<ReturnType<typeof loadCliHandlers>>,
  event: unknown,
): Promise<void> {
  const saved = SavedFileEventSchema.safeParse(event);
  if (saved.success) {
    await runIngest(stack, handlers, { date: saved.data.date, source: fileURLToPath(saved.data.recordAs) });
    return;
  }
  await handlers.fetchListing(event);
}
