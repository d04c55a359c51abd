import { type DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { IsoDate } from '../../shared/paper';
import type { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { paperPk, UPVOTES_SK_PREFIX, upvoteSnapshotSk } from '../../shared/store/keys';

/**
 * Writes the upvote snapshots the write path writes (perf-writes' contract, `shared/store/keys.ts`)
 * for the listings of `day` as the table holds them now: one `UPVOTES#<day>#<fetchedAt>` item per
 * listing whose figures differ from its latest snapshot, none when they are unchanged. Tests of
 * the read side use it until the write path's own snapshots are on this branch; writing the same
 * snapshot again is a no-op, so it can run beside them.
 * @returns how many snapshots it wrote
 */
export async function recordUpvoteSnapshots(
  client: DynamoDBDocumentClient,
  tableName: string,
  store: DynamoPaperStore,
  day: IsoDate,
): Promise<number> {
  let written = 0;
  let cursor: string | undefined;
  do {
    const page = await store.papersListedOn(day, { limit: 100, cursor }, 'id');
    for (const listing of page.items) {
      if (!listing.fetchedAt) continue;
      const { Items: previous = [] } = await client.send(
        new QueryCommand({
          TableName: tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': paperPk(listing.id), ':prefix': `${UPVOTES_SK_PREFIX}${day}#` },
          ScanIndexForward: false,
          Limit: 1,
        }),
      );
      const latest = previous[0];
      if (latest && latest.upvotes === listing.upvotes && latest.comments === listing.comments) continue;
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            pk: paperPk(listing.id),
            sk: upvoteSnapshotSk(day, listing.fetchedAt),
            listedOn: day,
            fetchedAt: listing.fetchedAt,
            ...(listing.upvotes === undefined ? {} : { upvotes: listing.upvotes }),
            ...(listing.comments === undefined ? {} : { comments: listing.comments }),
          },
        }),
      );
      written++;
    }
    cursor = page.cursor;
  } while (cursor);
  return written;
}
