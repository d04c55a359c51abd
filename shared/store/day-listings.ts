import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { IsoDate } from '../paper';
import { papersTable } from '../resources';
import { dayPk } from './keys';

/**
 * The one way to read every listing of a day with a projection: a Query on `byDayId`
 * (`dayPk = DAY#<day>`), page by page, never a Scan. What `papers reclassify`, `papers enrich`
 * and live quality read is each only its projection (and filter) of this; ranking a range reads
 * `byDayRanking`, the same keys over a few of the listing's attributes.
 */
export interface DayListingsRead {
  /** `byDayId` when absent; `byDayRanking` holds only its `includes`. */
  index?: typeof papersTable.indexes.byDayId | typeof papersTable.indexes.byDayRanking;
  /** A ProjectionExpression; `#partition` is taken. */
  projection: string;
  names: Record<string, string>;
  /** A FilterExpression and its values (`:partition` is taken), to leave items out server-side. */
  filter?: { expression: string; values: Record<string, unknown> };
  /** Items per page (DynamoDB's own 1 MB page when absent). */
  pageSize?: number;
}

/** The projected listings of `day`, one page at a time. */
export async function* dayListingPages(
  client: DynamoDBDocumentClient,
  tableName: string,
  day: IsoDate,
  read: DayListingsRead,
): AsyncGenerator<Record<string, unknown>[]> {
  const index = read.index ?? papersTable.indexes.byDayId;
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: index.indexName,
        KeyConditionExpression: '#partition = :partition',
        ...(read.filter ? { FilterExpression: read.filter.expression } : {}),
        ProjectionExpression: read.projection,
        ExpressionAttributeNames: { '#partition': index.partitionKey.name, ...read.names },
        ExpressionAttributeValues: { ':partition': dayPk(day), ...read.filter?.values },
        ...(read.pageSize === undefined ? {} : { Limit: read.pageSize }),
        ExclusiveStartKey: start,
      }),
    );
    yield page.Items ?? [];
    start = page.LastEvaluatedKey;
  } while (start);
}
