import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { NonEmptyStringSchema } from '../common-schemas';
import type { IsoDate } from '../paper';
import * as z from '../zod';
import { dayListingPages } from './day-listings';
import { type ListingOrigin, ListingOriginSchema } from './items';
import { UnreadableListingError } from './paper-store';

/**
 * Which model classified each listing of a day: what `papers reclassify` reads to find the
 * listings a newer model should classify again. One Query per day on `byDayId`
 * (`dayPk = DAY#<day>`), reading only the few attributes it needs; never a Scan.
 */

export interface ListingClassificationState {
  paperId: string;
  /** The listing, as the classify queue's messages name it. */
  origin: ListingOrigin;
  /** The model that classified it; absent when it was never classified. */
  classifierVersion?: string;
}

const ProjectedListingSchema = z.extend(ListingOriginSchema, {
  paper: z.object({ id: NonEmptyStringSchema }),
  classification: z.optional(z.object({ classifierVersion: NonEmptyStringSchema })),
});

/**
 * The classification state of every listing stored for `day`, a page (up to 100 listings) at a time.
 * @throws UnreadableListingError for an item that lacks its origin or paper id.
 */
export async function* listingClassificationsOn(
  client: DynamoDBDocumentClient,
  tableName: string,
  day: IsoDate,
): AsyncGenerator<ListingClassificationState[]> {
  const pages = dayListingPages(client, tableName, day, {
    projection: '#paper.#id, listedOn, fetchedAt, archiveKey, #classification.classifierVersion',
    names: { '#paper': 'paper', '#id': 'id', '#classification': 'classification' },
    pageSize: 100,
  });
  for await (const items of pages) {
    yield items.map((item) => {
      const parsed = ProjectedListingSchema.safeParse(item);
      if (!parsed.success) {
        throw new UnreadableListingError(
          `a listing of ${day} is unreadable: ${z.prettifyError(parsed.error)}`,
        );
      }
      const { paper, classification, listedOn, fetchedAt, archiveKey } = parsed.data;
      return {
        paperId: paper.id,
        origin: { listedOn, fetchedAt, archiveKey },
        ...(classification ? { classifierVersion: classification.classifierVersion } : {}),
      };
    });
  }
}
