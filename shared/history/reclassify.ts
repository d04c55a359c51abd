import type { SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { ClassifyMessage } from '../messages';
import type { IsoDate } from '../paper';
import { sendMessages } from '../queue';
import { type ListingClassificationState, listingClassificationsOn } from '../store/listing-classifications';

/**
 * Reclassify: the stored listings a model other than the shipped one classified (or none did)
 * go to the classify queue again, as reference messages: classify-paper reads the paper from its
 * stored listing, so nothing is parsed or fetched again. Found by one Query per day, never a Scan.
 */

export interface ReclassifyTargets {
  client: DynamoDBDocumentClient;
  tableName: string;
  sqs: SQSClient;
  classifyQueueUrl: string;
}

export interface StaleListings {
  /** Listings read in the range. */
  examined: number;
  /** Of those, the ones not classified by `currentVersion`. */
  stale: ListingClassificationState[];
}

/** The listings of `days` that `currentVersion` did not classify. */
export async function staleListings(
  days: readonly IsoDate[],
  currentVersion: string,
  targets: Pick<ReclassifyTargets, 'client' | 'tableName'>,
): Promise<StaleListings> {
  const stale: ListingClassificationState[] = [];
  let examined = 0;
  for (const day of days) {
    for await (const page of listingClassificationsOn(targets.client, targets.tableName, day)) {
      examined += page.length;
      stale.push(...page.filter((listing) => listing.classifierVersion !== currentVersion));
    }
  }
  return { examined, stale };
}

/** Sends one classify message per listing (a reference to the stored listing). @throws QueueSendError */
export async function sendForReclassification(
  listings: readonly ListingClassificationState[],
  targets: Pick<ReclassifyTargets, 'sqs' | 'classifyQueueUrl'>,
): Promise<void> {
  const bodies = listings.map((listing) =>
    JSON.stringify({ v: 2, paperId: listing.paperId, origin: listing.origin } satisfies ClassifyMessage),
  );
  await sendMessages(targets.sqs, targets.classifyQueueUrl, bodies);
}
