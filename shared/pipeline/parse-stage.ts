import type { SQSClient } from '@aws-sdk/client-sqs';
import type { PaperEnrichment } from '../enrichment';
import { type ListingItem, normalizeItem, PaperParseError, paperListingDay, splitListing } from '../listing';
import { type ClassifyMessage, type ParseMessage, ParseMessageSchema, parseMessage } from '../messages';
import type { IsoDate, Paper } from '../paper';
import { fitsInOneMessage, sendMessagesReportingFailures } from '../queue';
import type { ListingOrigin } from '../store/items';
import type { PaperStore } from '../store/paper-store';
import type { BatchStage, ProcessedRecord, RecordFailure } from './sqs-batch';

/**
 * parse-paper's domain: a raw listing item becomes a validated, normalised paper
 * filed under its listing day, and is passed on to the classify queue. The table is
 * written once per paper, by classify-paper, with the listing and its classification
 * together (see `PaperStore.storeListings`); parse-paper writes only a paper too large
 * for a classify message, which then goes on as a reference to its stored listing.
 */

export interface ParsedListing {
  paper: Paper;
  origin: ListingOrigin;
  /** The classify message for it (the paper itself, or a reference to its stored listing). */
  classifyMessage: string;
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
 * Validates and normalises one parse-queue message. A v2 message names its item in the
 * archived listing instead of carrying it: the listing is read from the archive and split again
 * (the same splitter, the same context, so the same item). A paper too large for a classify
 * message is stored here (without a classification) and passed on by reference.
 * @throws MalformedMessageError or PaperParseError for a bad message (it will end in the DLQ),
 *   including an item that no listing day places (the paper's, the item's or the listing's);
 *   any store or archive error for a transient failure (it will be retried).
 */
export async function parseListedPaper(
  body: string,
  store: PaperStore,
  readArchive: ArchivedListingReader,
): Promise<ParsedListing> {
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
  const listed = { ...paper, listedOn };
  const classifyMessage = classifyMessageBody(listed, origin, message.enrichment);
  // Too large to travel whole: stored now, and classify-paper reads it from its listing.
  if (isReference(classifyMessage)) await store.putListing(listed, origin);
  return { paper: listed, origin, classifyMessage };
}

const REFERENCE_PREFIX = JSON.stringify({ v: 2 }).slice(0, -1);

/** A classify message that names its paper's stored listing instead of carrying the paper (v2). */
function isReference(classifyMessage: string): boolean {
  return classifyMessage.startsWith(REFERENCE_PREFIX);
}

/**
 * The classify message for a stored listing: the paper itself, or, when that is too large for
 * one SQS message (thousands of authors, a huge abstract), a reference to its listing item.
 */
export function classifyMessageBody(
  paper: Paper,
  origin: ListingOrigin,
  enrichment?: PaperEnrichment,
): string {
  const extra = enrichment ? { enrichment } : {};
  const whole = JSON.stringify({ v: 1, paper, origin, ...extra } satisfies ClassifyMessage);
  if (fitsInOneMessage(whole)) return whole;
  return JSON.stringify({ v: 2, paperId: paper.id, origin, ...extra } satisfies ClassifyMessage);
}

/**
 * Sends the batch's papers to the classify queue (in as few SendMessageBatch requests as fit).
 * A message the queue refused fails its record alone; returns those failures, never throws for them.
 */
export async function forwardToClassify(
  parsed: readonly ProcessedRecord<ParsedListing>[],
  targets: ParseStageTargets,
): Promise<RecordFailure[]> {
  const messages = parsed.map(({ result }) => result.classifyMessage);
  const notSent = await sendMessagesReportingFailures(targets.sqs, targets.classifyQueueUrl, messages);
  const failures: RecordFailure[] = [];
  for (const [index, error] of notSent) {
    const record = parsed[index];
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

export function parseStage(targets: ParseStageTargets): BatchStage<ParsedListing> {
  return {
    processRecord: (body) => parseListedPaper(body, targets.store, targets.readArchive),
    afterBatch: (parsed) => forwardToClassify(parsed, targets),
  };
}
