import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { makeDocumentClient } from '../shared/aws/dynamodb';
import type { IsoDate } from '../shared/paper';
import { type IngestedListing, ingestListingBytes } from '../shared/pipeline/ingest-listing';
import { queues } from '../shared/resources';
import { DynamoPaperStore } from '../shared/store/dynamo-paper-store';
import { type ConsumerReport, drainQueues } from './event-source';
import type { LocalHandlers } from './handlers';
import type { LocalStack } from './stack';

/**
 * One local run of the pipeline: fetch-listing (invoked as the schedule would,
 * or fed a saved file), then the parse and classify queues drained through
 * their handlers as Lambda's event source mappings would, then a summary read
 * back from the table and the dead-letter queues.
 */

export interface IngestRequest {
  /** The listing day; default today (UTC). */
  date?: IsoDate;
  /** A file path or an http(s) URL to ingest instead of the day's HF listing. */
  source?: string;
}

export interface IngestSummary {
  day: IsoDate;
  listings: IngestedListing[];
  /** Papers the listing(s) held, sent to the parse queue. */
  listed: number;
  /** Listings (paper, day) stored for the first time. */
  new: number;
  /** Listings that were already stored and were refreshed. */
  updated: number;
  /** Records a handler reported as failed, retries included. */
  failedAttempts: number;
  /** Messages this run added to the dead-letter queues. */
  deadLettered: { parse: number; classify: number };
  consumers: ConsumerReport[];
}

export async function runIngest(
  stack: LocalStack,
  handlers: LocalHandlers,
  request: IngestRequest,
  options: { retryDelaySeconds?: number } = {},
): Promise<IngestSummary> {
  const today = new Date().toISOString().slice(0, 10) as IsoDate;
  const store = new DynamoPaperStore(
    makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB),
    stack.env.TABLE_NAME ?? '',
  );
  const countsBefore = await dayCounts(store);
  const dlqBefore = await deadLetterCounts(stack);

  const listings = await fetchOrRead(stack, handlers, request.date ?? today, request.source);
  const consumers = await drainPipeline(stack, handlers, options);
  await stack.persistArchive();

  const countsAfter = await dayCounts(store);
  const dlqAfter = await deadLetterCounts(stack);
  const listed = listings.reduce((sum, listing) => sum + listing.papers, 0);
  let created = 0;
  for (const [listedOn, count] of countsAfter) created += count - (countsBefore.get(listedOn) ?? 0);
  const deadLettered = {
    parse: dlqAfter.parse - dlqBefore.parse,
    classify: dlqAfter.classify - dlqBefore.classify,
  };
  return {
    // A saved file without --date stands for the day it holds.
    day: request.date ?? listings[0]?.listedOn ?? today,
    listings,
    listed,
    new: created,
    updated: Math.max(0, listed - created - deadLettered.parse),
    failedAttempts: consumers.reduce((sum, consumer) => sum + consumer.failedRecords, 0),
    deadLettered,
    consumers,
  };
}

/** Drives the parse and classify queues through their handlers until both are empty. */
export function drainPipeline(
  stack: LocalStack,
  handlers: LocalHandlers,
  options: { retryDelaySeconds?: number } = {},
): Promise<ConsumerReport[]> {
  return drainQueues(
    stack.sqs,
    [
      {
        name: 'parse-paper',
        queueUrl: stack.queueUrls.parse,
        definition: queues.parse,
        handler: handlers.parsePaper,
      },
      {
        name: 'classify-paper',
        queueUrl: stack.queueUrls.classify,
        definition: queues.classify,
        handler: handlers.classifyPaper,
      },
    ],
    { retryDelaySeconds: options.retryDelaySeconds },
  );
}

async function fetchOrRead(
  stack: LocalStack,
  handlers: LocalHandlers,
  day: IsoDate,
  source: string | undefined,
): Promise<IngestedListing[]> {
  if (source && !/^https?:\/\//i.test(source)) {
    const file = path.resolve(source);
    const listing = await ingestListingBytes(
      {
        bytes: new Uint8Array(await readFile(file)),
        url: pathToFileURL(file).toString(),
        fetchedAt: new Date().toISOString(),
        // A saved file says which day it holds; only a day given on the command line overrides it.
        listedOn: undefined,
      },
      {
        s3: stack.s3,
        sqs: stack.sqs,
        bucket: stack.env.ARCHIVE_BUCKET ?? '',
        parseQueueUrl: stack.queueUrls.parse,
      },
    );
    return [listing];
  }
  // As the daily schedule invokes it; a URL source goes through the same fetch path.
  const report = await handlers.fetchListing({
    scheduledTime: `${day}T00:00:00Z`,
    date: day,
    ...(source ? { url: source } : {}),
  });
  return report.listings;
}

async function dayCounts(store: DynamoPaperStore): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let cursor: string | undefined;
  do {
    const page = await store.ingestedDays({ limit: 100, cursor });
    for (const day of page.items) counts.set(day.day, day.papers);
    cursor = page.cursor;
  } while (cursor);
  return counts;
}

async function deadLetterCounts(stack: LocalStack): Promise<{ parse: number; classify: number }> {
  const [parse, classify] = await Promise.all([
    visibleMessages(stack.sqs, stack.queueUrls.parseDeadLetter),
    visibleMessages(stack.sqs, stack.queueUrls.classifyDeadLetter),
  ]);
  return { parse, classify };
}

async function visibleMessages(sqs: SQSClient, queueUrl: string): Promise<number> {
  const { Attributes } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
  );
  return Number(Attributes?.ApproximateNumberOfMessages ?? 0);
}
