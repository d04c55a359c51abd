import type { SQSClient } from '@aws-sdk/client-sqs';
import { type ListingItem, normalizeItem, PaperParseError, paperListingDay, splitListing } from '../listing';
import { type ClassifyMessage, type ParseMessage, ParseMessageSchema, parseMessage } from '../messages';
import type { IsoDate, Paper } from '../paper';
import { sendMessages } from '../queue';
import type { ListingOrigin } from '../store/items';
import type { ListingWriteOutcome, PaperStore } from '../store/paper-store';
import type { BatchStage } from './sqs-batch';

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
 */
export async function recordAndForward(
  stored: readonly StoredListing[],
  targets: ParseStageTargets,
): Promise<void> {
  const idsByDay = new Map<IsoDate, string[]>();
  for (const { paper, origin } of stored) {
    idsByDay.set(origin.listedOn, [...(idsByDay.get(origin.listedOn) ?? []), paper.id]);
  }
  await targets.store.recordListedDays(idsByDay);
  const messages = stored
    .filter(({ outcome }) => outcome !== 'stale')
    .map(({ paper, origin }) => JSON.stringify({ v: 1, paper, origin } satisfies ClassifyMessage));
  await sendMessages(targets.sqs, targets.classifyQueueUrl, messages);
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
    afterBatch: (stored) => recordAndForward(stored, targets),
  };
}
