import type { SQSClient } from '@aws-sdk/client-sqs';
import { normalizeItem } from '../listing';
import { type ClassifyMessage, ParseMessageSchema, parseMessage } from '../messages';
import type { IsoDate, Paper } from '../paper';
import { sendMessagesReportingFailures } from '../queue';
import type { ListingOrigin } from '../store/items';
import type { ListingWriteOutcome, PaperStore } from '../store/paper-store';
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
 *
 * Each record's follow-up fails alone: a day whose record could not be written fails
 * its papers (and they are not sent on, so a redelivery does both), and a message the
 * classify queue refused fails its paper. Returns those failures; never throws for them.
 */
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
  const messages = forwarded.map(({ result: { paper, origin } }) =>
    JSON.stringify({ v: 1, paper, origin } satisfies ClassifyMessage),
  );
  const notSent = await sendMessagesReportingFailures(targets.sqs, targets.classifyQueueUrl, messages);
  for (const [index, error] of notSent) {
    const record = forwarded[index];
    if (record) failures.push({ messageId: record.messageId, error });
  }
  return failures;
}

export function parseStage(targets: ParseStageTargets): BatchStage<StoredListing> {
  return {
    processRecord: (body) => storeListedPaper(body, targets.store),
    afterBatch: (stored) => recordAndForward(stored, targets),
  };
}
