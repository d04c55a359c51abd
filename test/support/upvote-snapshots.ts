import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { IsoDate } from '../../shared/paper';
import type { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { paperPk, upvoteSnapshotSk } from '../../shared/store/keys';

/**
 * How many listings of `day` have an upvote snapshot from their latest fetch: the snapshots the
 * last run of the write path wrote for that day (a fetch that changed nothing writes none, but
 * still moves the listing's `fetchedAt` on). Read straight from the table.
 */
export async function snapshotsOfLatestFetch(
  client: DynamoDBDocumentClient,
  tableName: string,
  store: DynamoPaperStore,
  day: IsoDate,
): Promise<number> {
  let found = 0;
  let cursor: string | undefined;
  do {
    const page = await store.papersListedOn(day, { limit: 100, cursor }, 'id');
    for (const listing of page.items) {
      if (!listing.fetchedAt) continue;
      const { Item } = await client.send(
        new GetCommand({
          TableName: tableName,
          Key: { pk: paperPk(listing.id), sk: upvoteSnapshotSk(day, listing.fetchedAt) },
          ConsistentRead: true,
        }),
      );
      if (Item) found++;
    }
    cursor = page.cursor;
  } while (cursor);
  return found;
}
