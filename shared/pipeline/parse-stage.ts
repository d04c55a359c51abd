import type { SQSClient } from '@aws-sdk/client-sqs';
import { normalizeItem } from '../listing';
import { type ClassifyMessage, ParseMessageSchema, parseMessage } from '../messages';
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

export interface ParseStageTargets {
  store: PaperStore;
  sqs: SQSClient;
  classifyQueueUrl: string;
}

/**
 * Validates, normalises and stores one parse-queue message.
 * @throws MalformedMessageError or PaperParseError for a bad message (it will end in the DLQ);
 *   any store error for a transient failure (it will be retried).
 */
export async function storeListedPaper(body: string, store: PaperStore): Promise<StoredListing> {
  const { listing, item } = parseMessage(ParseMessageSchema, body);
  const paper = normalizeItem(item, {
    url: listing.url,
    listedOn: listing.listedOn,
    fetchedAt: listing.fetchedAt,
  });
  // The paper's own listing day wins (one response can span days); then the listing's, then the fetch day.
  const listedOn =
    paper.listedOn ?? item.listedOn ?? listing.listedOn ?? (listing.fetchedAt.slice(0, 10) as IsoDate);
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

export function parseStage(targets: ParseStageTargets): BatchStage<StoredListing> {
  return {
    processRecord: (body) => storeListedPaper(body, targets.store),
    afterBatch: (stored) => recordAndForward(stored, targets),
  };
}
