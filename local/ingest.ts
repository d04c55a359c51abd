import { readFile, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { makeDocumentClient } from '../shared/aws/dynamodb';
import { ListingParseError, splitListing } from '../shared/listing';
import { HF_DAILY_PAPERS_FIRST_DAY } from '../shared/listing/listing-days';
import { requestedDay } from '../shared/messages';
import type { IsoDate } from '../shared/paper';
import type { IngestedListing } from '../shared/pipeline/ingest-listing';
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
  /** The listing day; default today (UTC), or for a saved file the day it names. */
  date?: IsoDate;
  /** A file path, a `file:` URL or an http(s) URL to ingest instead of the day's HF listing. */
  source?: string;
  /** When a saved listing was captured; default: the file's modification time. */
  fetchedAt?: string;
  /**
   * Also re-fetch this many days before the day, as the daily revisit schedules do on AWS
   * (`daysAgo` 1…N). Days before the source's first listing day are left out. Ignored with a `source`.
   */
  revisitDays?: number;
}

/** A `--source` that is neither a file path nor an http(s) or `file:` URL. */
export class InvalidSourceError extends Error {
  override name = 'InvalidSourceError';
}

export type ListingSource = { kind: 'url'; url: string } | { kind: 'file'; path: string };

/**
 * What a `--source` names: an http(s) URL, a saved file given as a `file:` URL (as the archive
 * records saved files) or as a path.
 * @throws InvalidSourceError for a malformed URL, or a URL of another scheme.
 */
export function listingSource(source: string): ListingSource {
  if (!/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) return { kind: 'file', path: path.resolve(source) };
  if (!URL.canParse(source)) throw new InvalidSourceError(`--source "${source}" is not a valid URL`);
  const url = new URL(source);
  if (url.protocol === 'file:') {
    try {
      return { kind: 'file', path: fileURLToPath(url) };
    } catch (error) {
      throw new InvalidSourceError(`--source "${source}": ${(error as Error).message}`, { cause: error });
    }
  }
  if (url.protocol === 'http:' || url.protocol === 'https:') return { kind: 'url', url: url.toString() };
  throw new InvalidSourceError(`--source "${source}" must be a file, a file:// URL or an http(s) URL`);
}

/** `--date` names another day than the saved listing names itself: its papers would not land on that day. */
export class ListingDayConflictError extends Error {
  override name = 'ListingDayConflictError';
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

  const listings = await fetchListings(handlers, request, today);
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
    day: listings[0]?.listedOn ?? request.date ?? today,
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

/**
 * fetch-listing, invoked as the daily schedule invokes it, for `day` (default today); a URL
 * source goes through the same fetch path, and so does a saved file (see {@link fetchSavedListing}).
 */
async function fetchListings(
  handlers: LocalHandlers,
  request: IngestRequest,
  today: IsoDate,
): Promise<IngestedListing[]> {
  const source = request.source === undefined ? undefined : listingSource(request.source);
  if (source?.kind === 'file')
    return fetchSavedListing(handlers, request.date, source.path, request.fetchedAt);
  const date = request.date ?? today;
  const report = await handlers.fetchListing({
    scheduledTime: `${date}T00:00:00Z`,
    date,
    ...(source ? { url: source.url } : {}),
    ...(request.fetchedAt ? { fetchedAt: request.fetchedAt } : {}),
  });
  const listings = [...report.listings];
  if (source) return listings;
  // One run per day back, each with its own budget, as the revisit schedules invoke fetch-listing.
  // fetch-listing refuses a day before this (its LISTING_FIRST_DAY), and a revisit never needs one.
  const firstDay = process.env.LISTING_FIRST_DAY ?? HF_DAILY_PAPERS_FIRST_DAY;
  for (let daysAgo = 1; daysAgo <= (request.revisitDays ?? 0); daysAgo++) {
    const event = { scheduledTime: `${date}T00:00:00Z`, date, daysAgo };
    if (requestedDay(event) < firstDay) break;
    listings.push(...(await handlers.fetchListing(event)).listings);
  }
  return listings;
}

/**
 * A saved listing takes the live path: it is served over HTTP on 127.0.0.1 for this run, and fetch-listing
 * fetches, archives and fans it out, and records the day, exactly as it would the live listing.
 *
 * Its capture time is `fetchedAt` (`--fetched-at`), else the file's modification time: its papers
 * carry it, so replaying an older save never overwrites a newer capture. The day is `--date`, else
 * the day the file names itself (a multi-day API response names its latest), else the capture day.
 * @throws ListingDayConflictError when `--date` and the file name different days.
 */
async function fetchSavedListing(
  handlers: LocalHandlers,
  day: IsoDate | undefined,
  file: string,
  fetchedAt: string | undefined,
): Promise<IngestedListing[]> {
  const bytes = await readFile(file);
  const capturedAt = fetchedAt ?? (await stat(file)).mtime.toISOString();
  const named = namedListingDay(bytes, file, day);
  if (day && named && day !== named) {
    throw new ListingDayConflictError(
      `${file} is the listing of ${named}, not of --date ${day}: its papers carry their own day, so they ` +
        `would be stored under ${named}. Drop --date, or give --date ${named}.`,
    );
  }
  const date = day ?? named ?? new Date(capturedAt).toISOString().slice(0, 10);
  const server = createServer((_request, response) => {
    response.writeHead(200, { 'content-type': contentTypeOf(file) }).end(bytes);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const url = `http://127.0.0.1:${port}/${encodeURIComponent(path.basename(file))}`;
    const report = await handlers.fetchListing({
      scheduledTime: `${date}T00:00:00Z`,
      date,
      url,
      // The listing's origin is the file; the loopback URL dies with this run.
      recordAs: pathToFileURL(file).toString(),
      fetchedAt: capturedAt,
    });
    return report.listings;
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/**
 * The listing day a listing names itself, if any (none for a malformed one: fetch-listing reports
 * that). `asked` places a day named without a year, as it does when fetch-listing parses it.
 */
function namedListingDay(bytes: Uint8Array, file: string, asked: IsoDate | undefined): IsoDate | undefined {
  try {
    const context = { url: file, fetchedAt: new Date().toISOString() };
    return splitListing(bytes, asked ? { ...context, listedOn: asked } : context).listedOn;
  } catch (error) {
    if (error instanceof ListingParseError) return undefined;
    throw error;
  }
}

function contentTypeOf(file: string): string {
  const extension = path.extname(file).toLowerCase();
  if (extension === '.json') return 'application/json';
  if (extension === '.html' || extension === '.htm') return 'text/html; charset=utf-8';
  if (extension === '.xml' || extension === '.atom' || extension === '.rss') return 'application/xml';
  return 'text/plain; charset=utf-8';
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
