import type { SQSClient } from '@aws-sdk/client-sqs';
import { type ListingItem, normalizeItem, PaperParseError, paperListingDay, splitListing } from '../listing';
import { type ClassifyMessage, type ParseMessage, ParseMessageSchema, parseMessage } from '../messages';
import type { IsoDate, Paper } from '../paper';
import { fitsInOneMessage, sendMessagesReportingFailures } from '../queue';
import type { ListingOrigin } from '../store/items';
import type { ListingWriteOutcome, PaperStore } from '../store/paper-store';
import { indexStoredListings } from './search-index-stage';
import type { BatchStage, ProcessedRecord, RecordFailure } from './sqs-batch';

/**
 * parse-paper's domain: a raw listing item becomes a validated paper, is
 * stored as listed on its day, and is passed on to the classify queue.
 */

export interface StoredListing {
  paper: Paper;
  origin: ListingOrigin;
  outcome: ListingWriteOutcome;
}

/** Reads an archived listing's raw bytes by key (S3 on AWS; see `readArchivedListing`). */
export type ArchivedListingReader = (archiveKey: string) => Promise<Uint8Array>;

export interface ParseStageTargets {
  store: PaperStore;
  /** Where parse-paper reads an item sent by reference (a v2 message). */
  readArchive: ArchivedListingReader;
  sqs: SQSClient;
  classifyQueueUrl: string;
}

/**
 * Validates, normalises and stores one parse-queue message. A v2 message names its item in the
 * archived listing instead of carrying it: the listing is read from the archive and split again
 * (the same splitter, the same context, so the same item).
 * @throws MalformedMessageError or PaperParseError for a bad message (it will end in the DLQ),
 *   including an item that no listing day places (the paper's, the item's or the listing's);
 *   any store or archive error for a transient failure (it will be retried).
 */
export async function storeListedPaper(
  body: string,
  store: PaperStore,
  readArchive: ArchivedListingReader,
): Promise<StoredListing> {
  const message = parseMessage(ParseMessageSchema, body);
  const { listing } = message;
  const context = { url: listing.url, listedOn: listing.listedOn, fetchedAt: listing.fetchedAt };
  const item = message.v === 1 ? message.item : await archivedItem(message, context, readArchive);
  const paper = normalizeItem(item, context);
  // Never a day made up from the fetch time: a listing fetched late must not file a paper under another day.
  const listedOn = paperListingDay(paper, item, listing.listedOn);
  if (!listedOn) {
    throw new PaperParseError(
      item.format,
      item.index,
      'no listing day: neither the item nor its listing names one',
    );
  }
  const origin = { listedOn, fetchedAt: listing.fetchedAt, archiveKey: listing.archiveKey };
  const stored = { ...paper, listedOn };
  return { paper: stored, origin, outcome: await store.putListing(stored, origin) };
}

/**
 * Records the batch's papers under their days and sends every listing that was
 * written to the classify queue. A stale write (an older fetch than the stored
 * one) is not sent on: the newer fetch's message classifies the paper.
 *
 * Each record's follow-up fails alone: a day whose record could not be written fails
 * its papers (and they are not sent on, so a redelivery does both), and a message the
 * classify queue refused fails its paper. Returns those failures; never throws for them.
 */
/**
 * The classify message for a stored listing: the paper itself, or, when that is too large for
 * one SQS message (thousands of authors, a huge abstract), a reference to its listing item.
 */
export function classifyMessageBody(paper: Paper, origin: ListingOrigin): string {
  const whole = JSON.stringify({ v: 1, paper, origin } satisfies ClassifyMessage);
  if (fitsInOneMessage(whole)) return whole;
  return JSON.stringify({ v: 2, paperId: paper.id, origin } satisfies ClassifyMessage);
}

export async function recordAndForward(
  stored: readonly ProcessedRecord<StoredListing>[],
  targets: ParseStageTargets,
): Promise<RecordFailure[]> {
  const byDay = new Map<IsoDate, ProcessedRecord<StoredListing>[]>();
  for (const record of stored) {
    const day = record.result.origin.listedOn;
    byDay.set(day, [...(byDay.get(day) ?? []), record]);
  }
  const failures: RecordFailure[] = [];
  const recorded: ProcessedRecord<StoredListing>[] = [];
  await Promise.all(
    [...byDay].map(async ([day, records]) => {
      try {
        await targets.store.recordListedDays(new Map([[day, records.map(({ result }) => result.paper.id)]]));
        recorded.push(...records);
      } catch (thrown) {
        const error = thrown instanceof Error ? thrown : new Error(String(thrown));
        for (const { messageId } of records) failures.push({ messageId, error });
      }
    }),
  );
  const forwarded = recorded.filter(({ result }) => result.outcome !== 'stale');
  const messages = forwarded.map(({ result: { paper, origin } }) => classifyMessageBody(paper, origin));
  const notSent = await sendMessagesReportingFailures(targets.sqs, targets.classifyQueueUrl, messages);
  for (const [index, error] of notSent) {
    const record = forwarded[index];
    if (record) failures.push({ messageId: record.messageId, error });
  }
  return failures;
}

/** Item `ref.index` of the archived listing a v2 message points at. */
async function archivedItem(
  message: Extract<ParseMessage, { v: 2 }>,
  context: { url?: string; listedOn?: IsoDate; fetchedAt: string },
  readArchive: ArchivedListingReader,
): Promise<ListingItem> {
  const { ref, listing } = message;
  const split = splitListing(await readArchive(listing.archiveKey), context);
  const item = split.items.find((candidate) => candidate.index === ref.index);
  if (!item || item.format !== ref.format) {
    throw new PaperParseError(
      ref.format,
      ref.index,
      `the archived listing ${listing.archiveKey} has no ${ref.format} item ${ref.index}`,
    );
  }
  return item;
}

export function parseStage(targets: ParseStageTargets): BatchStage<StoredListing> {
  return {
    processRecord: (body) => storeListedPaper(body, targets.store, targets.readArchive),
    afterBatch: async (stored) =>
      // Keyword search's one hook (shared/pipeline/search-index-stage.ts), beside the day records and fan-out.
      (
        await Promise.all([recordAndForward(stored, targets), indexStoredListings(stored, targets.store)])
      ).flat(),
  };
}
