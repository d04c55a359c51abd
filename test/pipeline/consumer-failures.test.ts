import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import {
  ProvisionedThroughputExceededException,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  CreateQueueCommand,
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
} from '@aws-sdk/client-sqs';
import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type LocalHandlers, loadHandlers } from '../../local/handlers';
import { localLambdaContext } from '../../local/http-adapter';
import { drainPipeline } from '../../local/ingest';
import { type LocalStack, openLocalStack } from '../../local/stack';
import { readArchivedListing } from '../../shared/archive';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { makeSqsClient } from '../../shared/aws/sqs';
import { deadLetterReason } from '../../shared/dead-letter';
import type { ParseMessage } from '../../shared/messages';
import { classifyStage } from '../../shared/pipeline/classify-stage';
import { parseListedPaper, parseStage } from '../../shared/pipeline/parse-stage';
import { type DeadLetterTarget, sqsConsumerHandler } from '../../shared/pipeline/sqs-batch';
import { queues } from '../../shared/resources';
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { readListing } from '../support/fixture-server';

/**
 * How the queue consumers fail: a record that can never succeed goes to its
 * dead-letter queue at once with its reason; a throttled per-batch step fails
 * only the records it could not finish, never the ones already done.
 */

let stack: LocalStack;
let handlers: LocalHandlers;
let store: DynamoPaperStore;
let dataDir: string;
let hfItems: { paper: { id: string; submittedOnDailyAt: string; upvotes: number } }[];

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'papers-consumers-'));
  stack = await openLocalStack({ dataDir });
  handlers = await loadHandlers(stack);
  store = new DynamoPaperStore(
    makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB),
    stack.env.TABLE_NAME ?? '',
  );
  hfItems = JSON.parse((await readListing('hf-daily-papers-2026-06-12.json')).toString());
});

afterAll(async () => {
  await stack?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

beforeEach(async () => {
  for (const queueUrl of Object.values(stack.queueUrls)) {
    await stack.sqs.send(new PurgeQueueCommand({ QueueUrl: queueUrl }));
  }
});

/** A parse message as fetch-listing writes it, for item `index` of the 06-12 listing moved to `day`. */
function parseMessage(
  index: number,
  day: string,
  fetchedAt = `${day}T12:00:00.000Z`,
): Extract<ParseMessage, { v: 1 }> {
  const raw = structuredClone(hfItems[index]);
  if (!raw) throw new Error(`no item ${index}`);
  raw.paper.submittedOnDailyAt = `${day}T00:00:00.000Z`;
  return {
    v: 1,
    listing: { archiveKey: `listings/${day.replaceAll('-', '/')}/test.json`, fetchedAt, listedOn: day },
    item: { format: 'hf-api', index, raw },
  };
}

function sqsEvent(bodies: readonly string[], receiveCount = 1): SQSEvent {
  return {
    Records: bodies.map((body) => ({
      messageId: randomUUID(),
      receiptHandle: randomUUID(),
      body,
      attributes: {
        ApproximateReceiveCount: String(receiveCount),
        SentTimestamp: String(Date.now()),
        SenderId: 'test',
        ApproximateFirstReceiveTimestamp: String(Date.now()),
      },
      messageAttributes: {},
      md5OfBody: '',
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:test',
      awsRegion: 'us-east-1',
    })),
  };
}

async function send(queueUrl: string, bodies: readonly string[]): Promise<void> {
  for (let start = 0; start < bodies.length; start += 10) {
    await stack.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: bodies.slice(start, start + 10).map((body, i) => ({ Id: String(i), MessageBody: body })),
      }),
    );
  }
}

/** Takes every message off a queue (with its attributes), so a test sees exactly what landed there. */
async function takeAll(queueUrl: string): Promise<Message[]> {
  const taken: Message[] = [];
  for (;;) {
    const { Messages = [] } = await stack.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        VisibilityTimeout: 60,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) return taken;
    taken.push(...Messages);
  }
}

async function newQueue(name: string): Promise<string> {
  const { QueueUrl } = await stack.sqs.send(new CreateQueueCommand({ QueueName: `${name}-${randomUUID()}` }));
  if (!QueueUrl) throw new Error('no queue URL');
  return QueueUrl;
}

/** The archive as parse-paper reads it (for a v2 message; these tests send v1). */
const readArchive = (archiveKey: string) =>
  readArchivedListing(stack.s3, stack.env.ARCHIVE_BUCKET ?? '', archiveKey);

const telemetry = (name: string) => ({
  logger: new Logger({ serviceName: name, logLevel: 'SILENT' }),
  metrics: new Metrics({ namespace: 'Test', serviceName: name }),
  succeededMetric: 'Succeeded',
  failedMetric: 'Failed',
  deadLetteredMetric: 'DeadLettered',
  failureMessage: 'record failed',
});

/**
 * SDK middleware between the store and dynalite (tests only): `throttle` decides, per request,
 * whether it fails as DynamoDB's throttling does once the SDK's own retries are spent; for
 * BatchWriteItem, `unprocessed` picks items the table leaves unprocessed, as a throttled table does.
 */
function injectThrottling(
  client: DynamoDBDocumentClient,
  faults: {
    throttle?: (command: string, input: Record<string, unknown>) => boolean;
    unprocessed?: (request: Record<string, unknown>) => boolean;
  },
): void {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const input = args.input as Record<string, unknown>;
      const command = String(context.commandName);
      if (faults.throttle?.(command, input)) {
        throw new ProvisionedThroughputExceededException({ message: 'injected throttling', $metadata: {} });
      }
      if (command === 'BatchWriteItemCommand' && faults.unprocessed) {
        const requestItems = input.RequestItems as Record<string, Record<string, unknown>[]>;
        const kept: Record<string, Record<string, unknown>[]> = {};
        const left: Record<string, Record<string, unknown>[]> = {};
        for (const [table, requests] of Object.entries(requestItems)) {
          kept[table] = requests.filter((request) => !faults.unprocessed?.(request));
          left[table] = requests.filter((request) => faults.unprocessed?.(request));
        }
        const unprocessed = Object.fromEntries(
          Object.entries(left).filter(([, requests]) => requests.length > 0),
        );
        // A batch of only refused items never reaches the table (it would refuse an empty batch).
        const result = Object.values(kept).some((requests) => requests.length > 0)
          ? ((await next({ ...args, input: { ...input, RequestItems: kept } })) as {
              output: Record<string, unknown>;
            })
          : { output: { $metadata: {} } as Record<string, unknown>, response: {} };
        result.output.UnprocessedItems = unprocessed;
        return result as Awaited<ReturnType<typeof next>>;
      }
      return next(args);
    },
    // `initialize` on the client's own stack sees items as the store wrote them, before marshalling.
    { step: 'initialize', name: 'injectThrottling' },
  );
}

/** The classify messages parse-paper would send for these parse messages. */
async function classifyBodiesOf(messages: readonly ParseMessage[]): Promise<string[]> {
  return Promise.all(
    messages.map(
      async (message) =>
        (await parseListedPaper(JSON.stringify(message), store, readArchive)).classifyMessage,
    ),
  );
}

/** The `pk` of a key or item in a request. */
function pkOf(value: unknown): string | undefined {
  const key = value as { pk?: unknown } | undefined;
  return typeof key?.pk === 'string' ? key.pk : undefined;
}

/** A listing item for `id` on `day` as a hand or an older version left it: no paper, no fetch, no storedAt. */
async function putUnreadableListing(id: string, day: string): Promise<void> {
  await makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB).send(
    new PutCommand({
      TableName: stack.env.TABLE_NAME,
      Item: { pk: `PAPER#${id}`, sk: `LISTED#${day}`, listedOn: day, upvotes: 1 },
    }),
  );
}

/** The classify consumer over the test's store, dead-lettering to a queue of its own. */
async function classifyConsumer(deadLetterQueueName: string) {
  const deadLetterQueue = await newQueue(deadLetterQueueName);
  const handler = sqsConsumerHandler(classifyStage(store), telemetry('classify-test'), {
    sqs: stack.sqs,
    queueUrl: deadLetterQueue,
    sourceQueue: 'classify',
    maxReceiveCount: queues.classify.maxReceiveCount,
  });
  return { handler, deadLetterQueue };
}

describe('a record that can never succeed', () => {
  it('goes to the dead-letter queue on its first receive, with its reason, while its batch-mates land', async () => {
    // Prepare: a good paper, a body that is not JSON, and an item that cannot become a paper.
    const good = parseMessage(0, '2026-10-01');
    const bad = parseMessage(1, '2026-10-01');
    bad.item.raw = { paper: { id: 42, title: ['not', 'a', 'title'] } };

    // Act
    await send(stack.queueUrls.parse, [JSON.stringify(good), '{"v":1,', JSON.stringify(bad)]);
    const reports = await drainPipeline(stack, handlers, { retryDelaySeconds: 0 });

    // Assess: no retry at all, two dead letters that say why, the good paper stored and classified.
    expect(reports.map((report) => report.failedRecords)).toEqual([0, 0]);
    const deadLetters = await takeAll(stack.queueUrls.parseDeadLetter);
    const reasons = deadLetters.map((message) => deadLetterReason(message));
    expect(reasons.map((reason) => reason.errorName).sort()).toEqual([
      'MalformedMessageError',
      'PaperParseError',
    ]);
    expect(reasons.every((reason) => reason.recordedBy === 'consumer' && reason.receiveCount === 1)).toBe(
      true,
    );
    expect(deadLetters.map((message) => message.MessageAttributes?.SourceQueue?.StringValue)).toEqual([
      'parse',
      'parse',
    ]);
    expect(deadLetters.map((message) => message.Body)).toContain('{"v":1,');
    const papers = (await store.papersListedOn('2026-10-01', { limit: 10 })).items;
    expect(papers.map((paper) => paper.id)).toEqual([good.item.raw ? hfItems[0]?.paper.id : '']);
    expect(papers[0]?.primaryCategory).toBeDefined();
  });

  it('dead-letters at once a reference to a stored listing that is unreadable (a reclassify), with the item named', async () => {
    // Prepare: a reference message, as papers reclassify sends, to a listing item without its paper.
    const day = '2026-10-08';
    const id = hfItems[13]?.paper.id ?? '';
    await putUnreadableListing(id, day);
    const origin = { listedOn: day, fetchedAt: `${day}T12:00:00.000Z`, archiveKey: 'listings/x.json' };
    const { handler, deadLetterQueue } = await classifyConsumer('classify-dlq-unreadable-ref');

    // Act
    const response = await handler(
      sqsEvent([JSON.stringify({ v: 2, paperId: id, origin })]),
      localLambdaContext('classify-test'),
    );

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    const [reason] = (await takeAll(deadLetterQueue)).map((message) => deadLetterReason(message));
    expect(reason).toMatchObject({ errorName: 'UnreadableListingError', receiveCount: 1 });
    expect(reason?.errorMessage).toContain(`PAPER#${id} / LISTED#${day}`);
  });

  it('dead-letters at once a paper whose stored listing is unreadable, with the item named; its batch-mates land', async () => {
    // Prepare: one paper's listing item as a hand or an older version left it (no paper, no storedAt).
    const day = '2026-10-07';
    const bodies = await classifyBodiesOf([10, 11, 12].map((index) => parseMessage(index, day)));
    const unlucky = hfItems[11]?.paper.id ?? '';
    await putUnreadableListing(unlucky, day);
    const { handler, deadLetterQueue } = await classifyConsumer('classify-dlq-unreadable');

    // Act
    const response = await handler(sqsEvent(bodies), localLambdaContext('classify-test'));

    // Assess: nothing left to retry, one dead letter that names the item, the others stored.
    expect(response.batchItemFailures).toEqual([]);
    const deadLetters = await takeAll(deadLetterQueue);
    expect(deadLetters.map((message) => JSON.parse(message.Body ?? '{}').paper?.id)).toEqual([unlucky]);
    const [reason] = deadLetters.map((message) => deadLetterReason(message));
    expect(reason).toMatchObject({ errorName: 'UnreadableListingError', receiveCount: 1 });
    expect(reason?.errorMessage).toContain(`PAPER#${unlucky} / LISTED#${day}`);
    const listed = (await store.papersListedOn(day, { limit: 10 })).items.map((paper) => paper.id);
    expect(listed.sort()).toEqual([hfItems[10]?.paper.id, hfItems[12]?.paper.id].sort());
  });

  it('is dead-lettered by the consumer, with its reason, when a transient error persists to its last receive', async () => {
    // Prepare: a classify message by reference to a listing that was never stored.
    const origin = { listedOn: '2026-10-02', fetchedAt: '2026-10-02T12:00:00.000Z', archiveKey: 'k' };
    const body = JSON.stringify({ v: 2, paperId: '2610.99999', origin });

    // Act: its first receive fails and is retried; its last is given up on.
    const first = await handlers.classifyPaper(sqsEvent([body], 1), localLambdaContext('classify-paper'));
    const last = await handlers.classifyPaper(
      sqsEvent([body], queues.classify.maxReceiveCount),
      localLambdaContext('classify-paper'),
    );

    // Assess
    expect(first.batchItemFailures).toHaveLength(1);
    expect(last.batchItemFailures).toEqual([]);
    const [deadLetter, ...others] = await takeAll(stack.queueUrls.classifyDeadLetter);
    expect(others).toEqual([]);
    expect(deadLetter?.Body).toBe(body);
    expect(deadLetterReason(deadLetter ?? {})).toMatchObject({
      recordedBy: 'consumer',
      errorName: 'ListingNotStoredError',
      receiveCount: queues.classify.maxReceiveCount,
    });
  });

  it('is reported as failed, never dropped, when the dead-letter queue cannot be reached', async () => {
    const deadLetters: DeadLetterTarget = {
      sqs: stack.sqs,
      queueUrl: `${stack.env.AWS_ENDPOINT_URL_SQS}/000000000000/no-such-queue`,
      sourceQueue: 'classify',
      maxReceiveCount: queues.classify.maxReceiveCount,
    };
    const handler = sqsConsumerHandler(classifyStage(store), telemetry('classify-test'), deadLetters);
    const event = sqsEvent(['not json']);

    const response = await handler(event, localLambdaContext('classify-test'));

    expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[0]?.messageId }]);
  });
});

describe('a throttled per-batch step', () => {
  it('fails only the records whose day could not be recorded; the others are stored', async () => {
    // Prepare: a classify consumer whose table throttles every write of one day's record.
    const client = makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB);
    const throttledDay = '2026-10-04';
    let throttling = true;
    injectThrottling(client, {
      throttle: (command, input) =>
        throttling &&
        command === 'UpdateItemCommand' &&
        pkOf(input.Key) === 'DAYS' &&
        (input.Key as { sk?: unknown }).sk === throttledDay,
    });
    const deadLetterQueueUrl = await newQueue('classify-dlq-throttled');
    const handler = sqsConsumerHandler(
      classifyStage(new DynamoPaperStore(client, stack.env.TABLE_NAME ?? '')),
      telemetry('classify-test'),
      { sqs: stack.sqs, queueUrl: deadLetterQueueUrl, sourceQueue: 'classify', maxReceiveCount: 3 },
    );
    const event = sqsEvent(
      await classifyBodiesOf([
        parseMessage(2, '2026-10-03'),
        parseMessage(3, '2026-10-03'),
        parseMessage(4, throttledDay),
        parseMessage(5, throttledDay),
      ]),
    );
    const ids = event.Records.map((record) => record.messageId);

    // Act
    const response = await handler(event, localLambdaContext('classify-test'));

    // Assess: the throttled day's two records are retried; the others are done.
    expect(response.batchItemFailures.map((failure) => failure.itemIdentifier).sort()).toEqual(
      [ids[2], ids[3]].sort(),
    );
    expect(await takeAll(deadLetterQueueUrl)).toEqual([]);
    const days = (await store.ingestedDays({ limit: 100 })).items;
    expect(days.find((day) => day.day === '2026-10-03')?.papers).toBe(2);

    // Act: the table recovers and the failed records come back.
    throttling = false;
    const retried = await handler(
      {
        Records: event.Records.slice(2).map((record) => ({
          ...record,
          attributes: { ...record.attributes, ApproximateReceiveCount: '2' },
        })),
      },
      localLambdaContext('classify-test'),
    );

    // Assess: done, nothing doubled.
    expect(retried.batchItemFailures).toEqual([]);
    const after = (await store.ingestedDays({ limit: 100 })).items;
    expect(after.find((day) => day.day === throttledDay)?.papers).toBe(2);
    const listed = (await store.papersListedOn(throttledDay, { limit: 10 })).items;
    expect(listed).toHaveLength(2);
    expect(listed.every((paper) => paper.primaryCategory)).toBe(true);
  });

  it('fails only the record whose hand-off the classify queue refused', async () => {
    // Prepare: an SQS client whose classify queue refuses one paper's message on every attempt.
    const refusedId = hfItems[11]?.paper.id ?? '';
    const sqs = makeSqsClient(stack.env.AWS_ENDPOINT_URL_SQS);
    sqs.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as SendMessageBatchCommandInput;
        if (context.commandName !== 'SendMessageBatchCommand' || !input.Entries) return next(args);
        const refused = input.Entries.filter((entry) => entry.MessageBody?.includes(`"id":"${refusedId}"`));
        const sent = input.Entries.filter((entry) => !refused.includes(entry));
        const result = (
          sent.length > 0
            ? await next({ ...args, input: { ...input, Entries: sent } })
            : { output: { $metadata: {} }, response: {} }
        ) as { output: { Successful?: unknown[]; Failed?: unknown[] } };
        result.output.Failed = refused.map((entry) => ({
          Id: entry.Id,
          Code: 'ServiceUnavailable',
          SenderFault: false,
          Message: 'injected',
        }));
        return result as Awaited<ReturnType<typeof next>>;
      },
      { step: 'initialize', name: 'refuseOneMessage' },
    );
    const classifyQueueUrl = await newQueue('classify-refusing');
    const handler = sqsConsumerHandler(
      parseStage({
        readArchive,
        store,
        sqs,
        classifyQueueUrl,
      }),
      telemetry('parse-test'),
      { sqs, queueUrl: await newQueue('parse-dlq-refusing'), sourceQueue: 'parse', maxReceiveCount: 3 },
    );
    const event = sqsEvent([10, 11, 12].map((index) => JSON.stringify(parseMessage(index, '2026-10-07'))));

    // Act
    const response = await handler(event, localLambdaContext('parse-test'));

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[1]?.messageId }]);
    const forwarded = (await takeAll(classifyQueueUrl)).map((message) => JSON.parse(message.Body ?? '{}'));
    expect(forwarded.map((message) => message.paper.id).sort()).toEqual(
      [hfItems[10]?.paper.id, hfItems[12]?.paper.id].sort(),
    );
    sqs.destroy();
  });

  it('dead-letters, with its reason, a record whose per-batch step still fails on its last receive', async () => {
    const client = makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB);
    injectThrottling(client, {
      throttle: (command, input) => command === 'UpdateItemCommand' && pkOf(input.Key) === 'DAYS',
    });
    const deadLetterQueueUrl = await newQueue('classify-dlq-last');
    const handler = sqsConsumerHandler(
      classifyStage(new DynamoPaperStore(client, stack.env.TABLE_NAME ?? '')),
      telemetry('classify-test'),
      { sqs: stack.sqs, queueUrl: deadLetterQueueUrl, sourceQueue: 'classify', maxReceiveCount: 3 },
    );

    const response = await handler(
      sqsEvent(await classifyBodiesOf([parseMessage(6, '2026-10-05')]), 3),
      localLambdaContext('classify-test'),
    );

    expect(response.batchItemFailures).toEqual([]);
    const [deadLetter] = await takeAll(deadLetterQueueUrl);
    expect(deadLetterReason(deadLetter ?? {})).toMatchObject({
      errorName: 'ProvisionedThroughputExceededException',
      receiveCount: 3,
    });
  });

  it('fails only the record whose listing the table refused; its batch-mates are stored in the same batch', async () => {
    // Prepare: a table that refuses one paper's actions in any transaction (as it would an item too large).
    const day = '2026-10-06';
    const bodies = await classifyBodiesOf([7, 8, 9].map((index) => parseMessage(index, day)));
    const unlucky = hfItems[8]?.paper.id ?? '';
    const client = makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB);
    client.middlewareStack.add(
      (next, context) => async (args) => {
        const input = args.input as { TransactItems?: Record<string, { Key?: unknown; Item?: unknown }>[] };
        if (context.commandName !== 'TransactWriteItemsCommand' || !input.TransactItems) return next(args);
        const reasons = input.TransactItems.map((action) => {
          const [params] = Object.values(action);
          const refused = pkOf(params?.Key ?? params?.Item) === `PAPER#${unlucky}`;
          return refused ? { Code: 'ValidationError', Message: 'injected' } : { Code: 'None' };
        });
        if (reasons.every((reason) => reason.Code === 'None')) return next(args);
        throw new TransactionCanceledException({
          message: 'Transaction cancelled',
          $metadata: {},
          CancellationReasons: reasons,
        });
      },
      { step: 'initialize', name: 'refuseOneListing' },
    );
    const handler = sqsConsumerHandler(
      classifyStage(new DynamoPaperStore(client, stack.env.TABLE_NAME ?? '')),
      telemetry('classify-test'),
      {
        sqs: stack.sqs,
        queueUrl: await newQueue('classify-dlq-refused'),
        sourceQueue: 'classify',
        maxReceiveCount: 3,
      },
    );
    const event = sqsEvent(bodies);

    // Act
    const response = await handler(event, localLambdaContext('classify-test'));

    // Assess
    const unluckyIndex = bodies.findIndex((body) => JSON.parse(body).paper.id === unlucky);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: event.Records[unluckyIndex]?.messageId }]);
    const listed = (await store.papersListedOn(day, { limit: 10 })).items.map((paper) => paper.id);
    expect(listed.sort()).toEqual([hfItems[7]?.paper.id, hfItems[9]?.paper.id].sort());
  });
});
