import { createHash } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { archiveListing } from '../archive';
import type { EnrichmentRun, EnrichmentSource } from '../arxiv/enrich';
import type { EnrichPendingReport } from '../arxiv/enrich-pending';
import type { EnrichmentState, PaperEnrichment } from '../enrichment';
import { type FetchOptions, fetchListing } from '../fetch/http';
import {
  type ListingItem,
  ListingParseError,
  normalizeItem,
  PaperParseError,
  paperListingDay,
  type SplitListing,
  splitListing,
} from '../listing';
import { checkListingDay, firstListingDayOf } from '../listing/listing-days';
import type { ListingRef, ParseMessage } from '../messages';
import type { IsoDate, ListingFormat } from '../paper';
import { fitsInOneMessage, sendMessages } from '../queue';
import type { PaperStore } from '../store/paper-store';

/**
 * fetch-listing's domain: fetch a day's listing (following pages), archive
 * every page's raw bytes, cut it into per-paper messages and send them to the
 * parse queue, and record the day as fetched.
 *
 * Bytes that are not a listing (a 200 with an HTML error page, an empty or a
 * truncated body, a junk file) are kept in the archive's quarantine and the run
 * fails with a {@link MalformedListingError}, so it is retried (a CDN hiccup
 * passes) and, still malformed after the retries, dead-lettered.
 */

export interface IngestTargets {
  s3: S3Client;
  sqs: SQSClient;
  bucket: string;
  parseQueueUrl: string;
  /**
   * Asks arXiv about the listing's papers before the fan-out, and each parse message carries the
   * answer for its paper. Absent: the messages carry none (the model's categories, as before).
   */
  enrich?: EnrichmentSource;
}

/** Raw bytes of one listing and what is known about them. */
export interface ListingBytes {
  bytes: Uint8Array;
  url: string;
  /** When the bytes were captured (a live fetch: now; a saved listing: its own capture time). */
  fetchedAt: string;
  contentType?: string;
  /** The listing day asked for; when absent, the listing's own day, else the capture day. */
  listedOn?: IsoDate;
  /** A revisit of a past day: bytes the archive already holds are not fanned out again. */
  revisit?: boolean;
}

export interface IngestedListing {
  url: string;
  /**
   * When the bytes were captured: the first capture the archive holds for them (the same bytes
   * archived earlier keep their time). Every listing item this listing wrote carries it.
   */
  fetchedAt: string;
  archiveKey: string;
  /** False when identical bytes were archived before. */
  archived: boolean;
  format: ListingFormat;
  listedOn: IsoDate;
  /** Papers in the listing, sent to the parse queue unless {@link IngestedListing.fannedOut} is false. */
  papers: number;
  /** False for a revisit that found these bytes archived already: nothing changed, nothing was sent. */
  fannedOut: boolean;
  /** Of those, the ones filed under `listedOn` (a response can carry papers of earlier days). */
  papersOfDay: number;
  /** Of those, the ones sent as a reference to the archive, being too large for one message. */
  byReference: number;
  /** Papers by what arXiv said about them, when enrichment ran. */
  enrichment?: Partial<Record<EnrichmentState, number>>;
}

/**
 * Bytes that are not a listing. They are archived under the quarantine prefix (`archiveKey`)
 * with the reason; the run fails so that it is retried.
 */
export class MalformedListingError extends Error {
  override name = 'MalformedListingError';
  constructor(
    message: string,
    readonly listing: {
      url: string;
      archiveKey: string;
      format: ListingFormat | 'unknown';
      listedOn: IsoDate;
    },
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/**
 * Archives one listing and fans its items out to the parse queue. An item too large for one
 * SQS message is sent as a reference to the archived listing (a v2 parse message).
 * @throws MalformedListingError when the bytes are not a listing (after quarantining them).
 */
export async function ingestListingBytes(
  listing: ListingBytes,
  targets: IngestTargets,
  run?: EnrichmentRun,
): Promise<IngestedListing> {
  const context = { url: listing.url, listedOn: listing.listedOn, fetchedAt: listing.fetchedAt };
  let split: SplitListing;
  try {
    split = splitListing(listing.bytes, context);
  } catch (error) {
    if (!(error instanceof ListingParseError)) throw error;
    throw await quarantine(listing, error, targets);
  }
  const listedOn = listing.listedOn ?? split.listedOn ?? captureDay(listing.fetchedAt);
  const archived = await archiveListing(targets.s3, targets.bucket, {
    bytes: listing.bytes,
    listedOn,
    url: listing.url,
    fetchedAt: listing.fetchedAt,
    contentType: listing.contentType,
    format: split.format,
    parseStatus: 'parsed',
    items: split.items.length,
  });
  const ref: ListingRef = {
    archiveKey: archived.key,
    fetchedAt: archived.fetchedAt,
    listedOn,
    url: listing.url,
  };
  // A revisit finding the same bytes has nothing new to say. (Any other run sends them again: a
  // rerun after a failure after archiving must finish the fan-out.)
  const fannedOut = !(listing.revisit && !archived.written);
  const dayContext = { url: listing.url, listedOn, fetchedAt: archived.fetchedAt };
  const ids = split.items.map((item) => paperIdOf(item, dayContext));
  // Every id of the listing is known here at once: one arXiv request per 100 of them.
  const enrichments =
    fannedOut && targets.enrich
      ? await targets.enrich(
          ids.filter((id): id is string => id !== undefined),
          listedOn,
          run,
        )
      : undefined;
  let byReference = 0;
  const counts: Partial<Record<EnrichmentState, number>> = {};
  const messages = split.items.map((item, index) => {
    const id = ids[index];
    const enrichment: PaperEnrichment | undefined = id === undefined ? undefined : enrichments?.get(id);
    if (enrichment) counts[enrichment.state] = (counts[enrichment.state] ?? 0) + 1;
    const extra = enrichment ? { enrichment } : {};
    const whole = JSON.stringify({ v: 1, listing: ref, item, ...extra } satisfies ParseMessage);
    if (fitsInOneMessage(whole)) return whole;
    byReference++;
    return JSON.stringify({
      v: 2,
      listing: ref,
      ref: { format: item.format, index: item.index },
      ...extra,
    } satisfies ParseMessage);
  });
  if (fannedOut) await sendMessages(targets.sqs, targets.parseQueueUrl, messages);
  return {
    url: listing.url,
    fetchedAt: archived.fetchedAt,
    archiveKey: archived.key,
    archived: archived.written,
    format: split.format,
    listedOn,
    papers: messages.length,
    fannedOut,
    papersOfDay: split.items.filter((item) => dayOfItem(item, dayContext) === listedOn).length,
    byReference,
    ...(enrichments ? { enrichment: counts } : {}),
  };
}

/** The id parse-paper will give the item's paper; undefined for an item it will reject. */
function paperIdOf(
  item: ListingItem,
  context: { url: string; listedOn: IsoDate; fetchedAt: string },
): string | undefined {
  try {
    return normalizeItem(item, context).id;
  } catch (error) {
    if (error instanceof PaperParseError) return undefined;
    throw error;
  }
}

/** Keeps bytes that are not a listing, apart from the listings, and says where. */
async function quarantine(
  listing: ListingBytes,
  error: ListingParseError,
  targets: IngestTargets,
): Promise<MalformedListingError> {
  const listedOn = listing.listedOn ?? captureDay(listing.fetchedAt);
  const archived = await archiveListing(targets.s3, targets.bucket, {
    bytes: listing.bytes,
    listedOn,
    url: listing.url,
    fetchedAt: listing.fetchedAt,
    contentType: listing.contentType,
    format: error.format,
    parseStatus: 'malformed',
    items: 0,
    reason: error.message,
  });
  return new MalformedListingError(
    `${listing.url} is not a listing: ${error.message} (its bytes are kept as ${archived.key})`,
    { url: listing.url, archiveKey: archived.key, format: error.format, listedOn },
    { cause: error },
  );
}

/** The day parse-paper will file the item under; an item it will reject counts under the listing's day. */
function dayOfItem(
  item: ListingItem,
  context: { url: string; listedOn: IsoDate; fetchedAt: string },
): IsoDate | undefined {
  try {
    return paperListingDay(normalizeItem(item, context), item, context.listedOn);
  } catch (error) {
    if (error instanceof PaperParseError) return context.listedOn;
    throw error;
  }
}

function captureDay(fetchedAt: string): IsoDate {
  return new Date(fetchedAt).toISOString().slice(0, 10);
}

/** Where fetch-listing records the days it fetched (the papers table). */
export type FetchedDayRecorder = Pick<PaperStore, 'recordFetchedDay'>;

/**
 * Records that `listings` were fetched for `day`, with the papers they hold for that day
 * (papers a response carries over from earlier days are counted there, not here). An empty
 * re-fetch does not erase a count (see `PaperStore.recordFetchedDay`).
 */
export async function recordFetchedDay(
  days: FetchedDayRecorder,
  day: IsoDate,
  listings: readonly IngestedListing[],
): Promise<void> {
  const [first] = listings;
  if (!first) return;
  await days.recordFetchedDay(day, {
    fetchedAt: first.fetchedAt,
    listed: listings.reduce((sum, listing) => sum + listing.papersOfDay, 0),
  });
}

export interface DailyFetchRequest {
  /** The listing day. */
  day: IsoDate;
  /** Overrides the URL template (e.g. an arXiv feed, a saved listing served locally). */
  url?: string;
  /** The URL to record instead of the one fetched (see `FetchListingRequestSchema.recordAs`). */
  recordAs?: string;
  /** The bytes' capture time, when they were captured before this run (see `FetchListingRequestSchema.fetchedAt`). */
  fetchedAt?: string;
  /** A revisit of a past day (see `FetchListingRequestSchema.daysAgo`). */
  revisit?: boolean;
}

export interface DailyFetchOptions extends FetchOptions {
  /** `{date}` is replaced by the day. */
  urlTemplate: string;
  /** Pause between pages, to stay well under the upstream's rate limit. */
  pageDelayMs: number;
  /** @default 5 */
  maxPages?: number;
  /** The first day the template's source has a listing for. @default firstListingDayOf(urlTemplate) */
  firstListingDay?: IsoDate;
}

export interface DailyIngestReport {
  day: IsoDate;
  listings: IngestedListing[];
  papers: number;
  /** A revisit that sent nothing new: what asking arXiv again about the day's pending papers did. */
  pendingEnriched?: EnrichPendingReport;
}

/** Asks arXiv again about a day's stored pending papers (`shared/arxiv/enrich-pending.ts`). */
export type PendingEnricher = (day: IsoDate, run?: EnrichmentRun) => Promise<EnrichPendingReport>;

/** The HF API's page size when the URL does not set `limit`. */
const HF_DEFAULT_LIMIT = 50;
export const DEFAULT_MAX_PAGES = 5;

/**
 * Fetches the day's listing, following the HF API's pages while a page is full
 * (`p=1, 2, …`), and ingests every page.
 * @throws ListingDayOutOfRangeError for a day that cannot have a listing (nothing is fetched).
 * @throws ListingFetchError when the upstream cannot be reached or refuses (the run is retried).
 * @throws MalformedListingError when a page is not a listing (quarantined; the run is retried).
 */
export async function fetchAndIngestDay(
  request: DailyFetchRequest,
  options: DailyFetchOptions,
  targets: IngestTargets & { days: FetchedDayRecorder; enrichPending?: PendingEnricher },
): Promise<DailyIngestReport> {
  checkListingDay(
    request.day,
    request.url === undefined
      ? (options.firstListingDay ?? firstListingDayOf(options.urlTemplate))
      : firstListingDayOf(request.url),
  );
  const firstUrl = request.url ?? options.urlTemplate.replaceAll('{date}', request.day);
  const maxPages = options.maxPages ?? DEFAULT_MAX_PAGES;
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
        fetchedAt: request.fetchedAt ?? fetched.fetchedAt,
        contentType: fetched.contentType,
        listedOn: request.day,
        revisit: request.revisit,
      },
      targets,
      { deadline: options.deadline },
    );
    listings.push(listing);
    if (listing.format !== 'hf-api' || listing.papers < pageSize(firstUrl)) break;
  }
  await recordFetchedDay(targets.days, request.day, listings);
  // A revisit whose listing changed was enriched as it was fanned out; one that changed nothing
  // still asks arXiv about the papers it could not answer for before.
  const pendingEnriched =
    request.revisit && targets.enrichPending && !listings.some((listing) => listing.fannedOut)
      ? await targets.enrichPending(request.day, { deadline: options.deadline })
      : undefined;
  return {
    day: request.day,
    listings,
    papers: listings.reduce((sum, listing) => sum + listing.papers, 0),
    ...(pendingEnriched ? { pendingEnriched } : {}),
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
