import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ClassifyMessage } from '../messages';
import type { IsoDate } from '../paper';
import { sendMessages } from '../queue';
import { dayListingPages } from '../store/day-listings';
import { type ListingOrigin, ListingOriginSchema } from '../store/items';
import { UnreadableListingError } from '../store/paper-store';
import * as z from '../zod';
import type { EnrichmentRun, EnrichmentSource } from './enrich';

/**
 * Enriching later: the stored listings of some days that arXiv has not answered for yet
 * (`enrichment = pending`), asked about again (≤100 ids per request, through the same gate), and
 * those it answered for sent through the classify queue with the answer, as reference messages:
 * the one writer path (ordered by fetch, idempotent, category entries kept in step) stores them.
 * Found with one Query per day on `byDayId`, never a Scan. Used by `papers enrich` and by
 * fetch-listing's daily revisit of a past day.
 */

export interface PendingListing {
  paperId: string;
  origin: ListingOrigin;
}

const ProjectedPendingSchema = z.extend(ListingOriginSchema, {
  paper: z.object({ id: z.string().check(z.minLength(1)) }),
});

/** The listings of `day` still pending enrichment. @throws UnreadableListingError for an item without its origin. */
export async function pendingListingsOn(
  client: DynamoDBDocumentClient,
  tableName: string,
  day: IsoDate,
): Promise<PendingListing[]> {
  const pending: PendingListing[] = [];
  const pages = dayListingPages(client, tableName, day, {
    projection: '#paper.#id, listedOn, fetchedAt, archiveKey',
    names: { '#paper': 'paper', '#id': 'id', '#enrichment': 'enrichment' },
    filter: { expression: '#enrichment = :pending', values: { ':pending': 'pending' } },
  });
  for await (const items of pages) {
    for (const item of items) {
      const parsed = ProjectedPendingSchema.safeParse(item);
      if (!parsed.success) {
        throw new UnreadableListingError(
          `a listing of ${day} is unreadable: ${z.prettifyError(parsed.error)}`,
        );
      }
      const { paper, listedOn, fetchedAt, archiveKey } = parsed.data;
      pending.push({ paperId: paper.id, origin: { listedOn, fetchedAt, archiveKey } });
    }
  }
  return pending;
}

export interface EnrichPendingTargets {
  client: DynamoDBDocumentClient;
  tableName: string;
  sqs: SQSClient;
  classifyQueueUrl: string;
  enrich: EnrichmentSource;
}

export interface EnrichPendingReport {
  /** Listings found pending. */
  pending: number;
  /** Of those, sent to the classify queue with arXiv's answer. */
  enriched: number;
  /** Of those, sent on as `missing` (arXiv answered without them). */
  missing: number;
  /** Of those, still pending (arXiv down or slow again): not sent. */
  stillPending: number;
}

/** Asks arXiv about the pending listings of `days` and sends those it answered for to be stored. @throws QueueSendError */
export async function enrichPendingDays(
  days: readonly IsoDate[],
  targets: EnrichPendingTargets,
  run?: EnrichmentRun,
): Promise<EnrichPendingReport> {
  const report: EnrichPendingReport = { pending: 0, enriched: 0, missing: 0, stillPending: 0 };
  for (const day of days) {
    const pending = await pendingListingsOn(targets.client, targets.tableName, day);
    if (pending.length === 0) continue;
    report.pending += pending.length;
    const answers = await targets.enrich(
      pending.map((listing) => listing.paperId),
      day,
      run,
    );
    const bodies: string[] = [];
    for (const listing of pending) {
      const enrichment = answers.get(listing.paperId);
      if (!enrichment || enrichment.state === 'pending') {
        report.stillPending++;
        continue;
      }
      if (enrichment.state === 'enriched') report.enriched++;
      else report.missing++;
      bodies.push(
        JSON.stringify({
          v: 2,
          paperId: listing.paperId,
          origin: listing.origin,
          enrichment,
        } satisfies ClassifyMessage),
      );
    }
    await sendMessages(targets.sqs, targets.classifyQueueUrl, bodies);
  }
  return report;
}
