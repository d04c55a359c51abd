import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { archiveListing } from '../archive';
import { type FetchOptions, fetchListing } from '../fetch/http';
import { ListingParseError, type SplitListing, splitListing } from '../listing';
import type { ParseMessage } from '../messages';
import type { IsoDate, ListingFormat } from '../paper';
import { sendMessages } from '../queue';
import type { PaperStore } from '../store/paper-store';

/**
 * fetch-listing's domain: fetch a day's listing (following pages), archive
 * every page's raw bytes, cut it into per-paper messages and send them to the
 * parse queue, and record the day as fetched. A listing that cannot be parsed
 * is archived all the same and reported; it sends nothing.
 */

export interface IngestTargets {
  s3: S3Client;
  sqs: SQSClient;
  bucket: string;
  parseQueueUrl: string;
}

/** Raw bytes of one listing and what is known about them. */
export interface ListingBytes {
  bytes: Uint8Array;
  url: string;
  fetchedAt: string;
  contentType?: string;
  /** The listing day asked for; when absent, the listing's own day, else the fetch day. */
  listedOn?: IsoDate;
}

export interface IngestedListing {
  url: string;
  /** When the bytes were fetched: every listing item this listing wrote carries it. */
  fetchedAt: string;
  archiveKey: string;
  /** False when identical bytes were archived before. */
  archived: boolean;
  format: ListingFormat | 'unknown';
  listedOn: IsoDate;
  /** Papers sent to the parse queue. */
  papers: number;
  /** Why the listing could not be parsed; absent when it parsed. */
  malformed?: string;
}

/** Archives one listing and fans its items out to the parse queue. */
export async function ingestListingBytes(
  listing: ListingBytes,
  targets: IngestTargets,
): Promise<IngestedListing> {
  const context = { url: listing.url, listedOn: listing.listedOn, fetchedAt: listing.fetchedAt };
  let split: SplitListing | undefined;
  let malformed: ListingParseError | undefined;
  try {
    split = splitListing(listing.bytes, context);
  } catch (error) {
    if (!(error instanceof ListingParseError)) throw error;
    malformed = error;
  }
  const listedOn = listing.listedOn ?? split?.listedOn ?? (listing.fetchedAt.slice(0, 10) as IsoDate);
  const format = split?.format ?? malformed?.format ?? 'unknown';
  const archived = await archiveListing(targets.s3, targets.bucket, {
    bytes: listing.bytes,
    listedOn,
    url: listing.url,
    fetchedAt: listing.fetchedAt,
    contentType: listing.contentType,
    format,
    parseStatus: split ? 'parsed' : 'malformed',
    items: split?.items.length ?? 0,
  });
  const report = {
    url: listing.url,
    fetchedAt: listing.fetchedAt,
    archiveKey: archived.key,
    archived: archived.written,
    listedOn,
  };
  if (!split) return { ...report, format, papers: 0, malformed: malformed?.message };

  const messages = split.items.map((item) =>
    JSON.stringify({
      v: 1,
      listing: {
        archiveKey: archived.key,
        fetchedAt: listing.fetchedAt,
        listedOn: listing.listedOn,
        url: listing.url,
      },
      item,
    } satisfies ParseMessage),
  );
  await sendMessages(targets.sqs, targets.parseQueueUrl, messages);
  return { ...report, format, papers: messages.length };
}

/** Where fetch-listing records the days it fetched (the papers table). */
export type FetchedDayRecorder = Pick<PaperStore, 'recordFetchedDay'>;

/**
 * Records that `listings` were fetched for `day`, unless one was malformed (a day whose
 * listing could not be read is not ingested, even if it was archived).
 */
export async function recordFetchedDay(
  days: FetchedDayRecorder,
  day: IsoDate,
  listings: readonly IngestedListing[],
): Promise<void> {
  const [first] = listings;
  if (!first || listings.some((listing) => listing.malformed !== undefined)) return;
  await days.recordFetchedDay(day, {
    fetchedAt: first.fetchedAt,
    listed: listings.reduce((sum, listing) => sum + listing.papers, 0),
  });
}

export interface DailyFetchRequest {
  /** The listing day. */
  day: IsoDate;
  /** Overrides the URL template (e.g. an arXiv feed, a saved listing served locally). */
  url?: string;
  /** The URL to record instead of the one fetched (see `FetchListingRequestSchema.recordAs`). */
  recordAs?: string;
}

export interface DailyFetchOptions extends FetchOptions {
  /** `{date}` is replaced by the day. */
  urlTemplate: string;
  /** Pause between pages, to stay well under the upstream's rate limit. */
  pageDelayMs: number;
  maxPages?: number;
}

export interface DailyIngestReport {
  day: IsoDate;
  listings: IngestedListing[];
  papers: number;
  malformed: number;
}

/** The HF API's page size when the URL does not set `limit`. */
const HF_DEFAULT_LIMIT = 50;

/**
 * Fetches the day's listing, following the HF API's pages while a page is full
 * (`p=1, 2, …`), and ingests every page.
 * @throws ListingFetchError when the upstream cannot be reached or refuses (the scheduler retries).
 */
export async function fetchAndIngestDay(
  request: DailyFetchRequest,
  options: DailyFetchOptions,
  targets: IngestTargets & { days: FetchedDayRecorder },
): Promise<DailyIngestReport> {
  const firstUrl = request.url ?? options.urlTemplate.replaceAll('{date}', request.day);
  const maxPages = options.maxPages ?? 20;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const listings: IngestedListing[] = [];
  const seenPages = new Set<string>();
  for (let page = 0; page < maxPages; page++) {
    const url = page === 0 ? firstUrl : withPage(firstUrl, page);
    if (page > 0) await sleep(options.pageDelayMs);
    const fetched = await fetchListing(url, options);
    // A source that ignores `p` answers the same page again: stop rather than fetch it maxPages times.
    const digest = createHash('sha256').update(fetched.bytes).digest('hex');
    if (seenPages.has(digest)) break;
    seenPages.add(digest);
    const recorded =
      request.recordAs === undefined ? url : page === 0 ? request.recordAs : withPage(request.recordAs, page);
    const listing = await ingestListingBytes(
      {
        bytes: fetched.bytes,
        url: recorded,
        fetchedAt: fetched.fetchedAt,
        contentType: fetched.contentType,
        listedOn: request.day,
      },
      targets,
    );
    listings.push(listing);
    if (listing.format !== 'hf-api' || listing.papers < pageSize(firstUrl)) break;
  }
  await recordFetchedDay(targets.days, request.day, listings);
  return {
    day: request.day,
    listings,
    papers: listings.reduce((sum, listing) => sum + listing.papers, 0),
    malformed: listings.filter((listing) => listing.malformed !== undefined).length,
  };
}

function pageSize(url: string): number {
  const limit = Number(new URL(url).searchParams.get('limit'));
  return Number.isInteger(limit) && limit > 0 ? limit : HF_DEFAULT_LIMIT;
}

function withPage(url: string, page: number): string {
  const next = new URL(url);
  next.searchParams.set('p', String(page));
  return next.toString();
}
