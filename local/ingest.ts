import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { makeDocumentClient } from '../shared/aws/dynamodb';
import type { IsoDate } from '../shared/paper';
import {
  type IngestedListing,
  ingestListingBytes,
  recordFetchedDay,
} from '../shared/pipeline/ingest-listing';
import { queues } from '../shared/resources';
import { DynamoPaperStore } from '../shared/store/dynamo-paper-store';
import type { IngestedDay } from '../shared/store/items';
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
  /** Listings that were already stored and were refreshed by this run. */
  updated: number;
  /** Listings left as they were because the table holds a newer fetch of them. */
  stale: number;
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
  const startedAt = new Date().toISOString();
  const today = startedAt.slice(0, 10) as IsoDate;
  const store = new DynamoPaperStore(
    makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB),
    stack.env.TABLE_NAME ?? '',
  );
  const countsBefore = await dayCounts(store);
  const dlqBefore = await deadLetterCounts(stack);

  const listings = await fetchOrRead(stack, handlers, store, request.date, request.source);
  const consumers = await drainPipeline(stack, handlers, options);
  await stack.persistArchive();

  const countsAfter = await dayCounts(store);
  const dlqAfter = await deadLetterCounts(stack);
  const listed = listings.reduce((sum, listing) => sum + listing.papers, 0);
  let created = 0;
  for (const [listedOn, count] of countsAfter) created += count - (countsBefore.get(listedOn) ?? 0);
  const written = await listingsWrittenBy(
    store,
    new Set(listings.map((listing) => listing.fetchedAt)),
    startedAt,
  );
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
    updated: written - created,
    stale: Math.max(0, listed - written - deadLettered.parse),
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
  store: DynamoPaperStore,
  day: IsoDate | undefined,
  source: string | undefined,
): Promise<IngestedListing[]> {
  if (source && !/^https?:\/\//i.test(source)) {
    const file = path.resolve(source);
    const listing = await ingestListingBytes(
      {
        bytes: new Uint8Array(await readFile(file)),
        url: pathToFileURL(file).toString(),
        fetchedAt: new Date().toISOString(),
        // A day given on the command line wins; without one, the file's own day (or today).
        listedOn: day,
      },
      {
        s3: stack.s3,
        sqs: stack.sqs,
        bucket: stack.env.ARCHIVE_BUCKET ?? '',
        parseQueueUrl: stack.queueUrls.parse,
      },
    );
    // Only a day named on the command line is recorded as fetched; a file's own days come from its papers.
    if (day) await recordFetchedDay(store, day, [listing]);
    return [listing];
  }
  // As the daily schedule invokes it; a URL source goes through the same fetch path.
  const date = day ?? (new Date().toISOString().slice(0, 10) as IsoDate);
  const report = await handlers.fetchListing({
    scheduledTime: `${date}T00:00:00Z`,
    date,
    ...(source ? { url: source } : {}),
  });
  return report.listings;
}

async function dayCounts(store: DynamoPaperStore): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const day of await allDays(store)) counts.set(day.day, day.papers);
  return counts;
}

async function allDays(store: DynamoPaperStore): Promise<IngestedDay[]> {
  const days: IngestedDay[] = [];
  let cursor: string | undefined;
  do {
    const page = await store.ingestedDays({ limit: 100, cursor });
    days.push(...page.items);
    cursor = page.cursor;
  } while (cursor);
  return days;
}

/**
 * Listings (paper, day) this run wrote, new or refreshed: on the days touched since
 * `startedAt`, the listing items that carry one of this run's fetch times.
 */
async function listingsWrittenBy(store: DynamoPaperStore, fetchedAts: Set<string>, startedAt: string) {
  let written = 0;
  for (const day of await allDays(store)) {
    if (!day.lastStoredAt || day.lastStoredAt < startedAt) continue;
    let cursor: string | undefined;
    do {
      const page = await store.papersListedOn(day.day, { limit: 100, cursor });
      written += page.items.filter((paper) => paper.fetchedAt && fetchedAts.has(paper.fetchedAt)).length;
      cursor = page.cursor;
    } while (cursor);
  }
  return written;
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
