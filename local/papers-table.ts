import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import {
  type AttributeValue,
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  ResourceNotFoundException,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import * as z from 'zod';
import { type IndexDefinition, papersTable } from '../shared/resources';

/**
 * The papers table on dynalite, from its one definition in `shared/resources.ts`.
 *
 * A data folder outlives code changes, and dynalite cannot add an index to an existing table
 * (UpdateTable ignores a GlobalSecondaryIndexUpdates Create). So a table that lacks an index of
 * the definition (e.g. `byDayId`, added after the folder was made) is rebuilt: its items saved to
 * a file in the data folder, the table deleted and created again, the items written back, the
 * file removed. A process killed in between finds the file at its next start and finishes the
 * restore, so no item is lost. This Scan is local only, a one-off migration; the API never scans.
 */

type Item = Record<string, AttributeValue>;

/**
 * One attribute value as Scan returns it and JSON keeps it. Binary values (`B`, `BS`) are left out:
 * the table holds none, and JSON would not keep their bytes, so an item with one fails here loudly.
 */
const AttributeValueSchema: z.ZodType<AttributeValue> = z.lazy(() =>
  z.union([
    z.strictObject({ S: z.string() }),
    z.strictObject({ N: z.string() }),
    z.strictObject({ BOOL: z.boolean() }),
    z.strictObject({ NULL: z.literal(true) }),
    z.strictObject({ SS: z.array(z.string()) }),
    z.strictObject({ NS: z.array(z.string()) }),
    z.strictObject({ L: z.array(AttributeValueSchema) }),
    z.strictObject({ M: z.record(z.string(), AttributeValueSchema) }),
  ]),
);
/** The saved items of a rebuild in progress, as Scan returned them. */
const SavedItemsSchema = z.array(z.record(z.string(), AttributeValueSchema));

/**
 * Creates the table, or finds it after a restart; rebuilds it when it lacks an index of the
 * definition; finishes a rebuild a killed process left half done.
 * @param client a client on the local DynamoDB endpoint (the document client passes these commands through).
 * @param savedItemsFile where a rebuild keeps the items while the table is recreated.
 */
export async function openPapersTable(
  client: DynamoDBClient,
  tableName: string,
  savedItemsFile: string,
): Promise<void> {
  await createTable(client, tableName);
  const saved = await readSavedItems(savedItemsFile);
  if (saved === undefined && (await missingIndexes(client, tableName)).length === 0) return;
  const items = saved ?? SavedItemsSchema.parse(await scanAll(client, tableName));
  if (saved === undefined) {
    // Written whole, then renamed: the file is either absent or complete.
    await writeFile(`${savedItemsFile}.partial`, JSON.stringify(items));
    await rename(`${savedItemsFile}.partial`, savedItemsFile);
  }
  if ((await missingIndexes(client, tableName)).length > 0) {
    await client.send(new DeleteTableCommand({ TableName: tableName }));
    await waitForTable(client, tableName, 'deleted');
    await createTable(client, tableName);
  }
  await writeAll(client, tableName, items);
  await rm(savedItemsFile, { force: true });
}

/** The definition's indexes the table does not have. */
export async function missingIndexes(client: DynamoDBClient, tableName: string): Promise<string[]> {
  const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const present = new Set((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  return Object.values(papersTable.indexes)
    .map((index) => index.indexName)
    .filter((name) => !present.has(name));
}

/** Creates the table from the definition (`indexes` overrides its indexes, for tests); a table already there is kept. */
export async function createTable(
  client: DynamoDBClient,
  tableName: string,
  indexes: readonly IndexDefinition[] = Object.values(papersTable.indexes),
): Promise<void> {
  const { partitionKey, sortKey } = papersTable;
  const attributes = new Map<string, 'S' | 'N'>();
  for (const key of [
    partitionKey,
    sortKey,
    ...indexes.flatMap((index) => [index.partitionKey, index.sortKey]),
  ]) {
    attributes.set(key.name, key.type);
  }
  await client
    .send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: [...attributes].map(([AttributeName, AttributeType]) => ({
          AttributeName,
          AttributeType,
        })),
        KeySchema: [
          { AttributeName: partitionKey.name, KeyType: 'HASH' },
          { AttributeName: sortKey.name, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: indexes.map((index) => ({
          IndexName: index.indexName,
          KeySchema: [
            { AttributeName: index.partitionKey.name, KeyType: 'HASH' },
            { AttributeName: index.sortKey.name, KeyType: 'RANGE' },
          ],
          Projection: index.includes
            ? { ProjectionType: 'INCLUDE', NonKeyAttributes: [...index.includes] }
            : { ProjectionType: 'ALL' },
        })),
      }),
    )
    .catch((error: unknown) => {
      // The table persists in the data folder: on a restart it is already there.
      if (!(error instanceof ResourceInUseException)) throw error;
    });
  await waitForTable(client, tableName, 'active');
}

/**
 * dynalite, like DynamoDB, creates and deletes a table in the background (even with its delays
 * at 0): until the table is ACTIVE, reads and writes answer ResourceNotFoundException.
 */
async function waitForTable(client: DynamoDBClient, tableName: string, state: 'active' | 'deleted') {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const status = await client
      .send(new DescribeTableCommand({ TableName: tableName }))
      .then(({ Table }) => Table?.TableStatus)
      .catch((error: unknown) => {
        if (error instanceof ResourceNotFoundException) return 'DELETED';
        throw error;
      });
    if (state === 'active' ? status === 'ACTIVE' : status === 'DELETED') return;
    if (Date.now() > deadline)
      throw new Error(`table ${tableName} is still ${status}, not ${state}, after 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function readSavedItems(file: string): Promise<Item[] | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return SavedItemsSchema.parse(JSON.parse(text));
}

async function scanAll(client: DynamoDBClient, tableName: string): Promise<Item[]> {
  const items: Item[] = [];
  let start: Item | undefined;
  do {
    const page = await client.send(new ScanCommand({ TableName: tableName, ExclusiveStartKey: start }));
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

async function writeAll(client: DynamoDBClient, tableName: string, items: readonly Item[]): Promise<void> {
  for (let start = 0; start < items.length; start += 25) {
    let pending: Item[] = items.slice(start, start + 25);
    while (pending.length > 0) {
      const result = await client.send(
        new BatchWriteItemCommand({
          RequestItems: { [tableName]: pending.map((Item) => ({ PutRequest: { Item } })) },
        }),
      );
      pending = (result.UnprocessedItems?.[tableName] ?? []).flatMap((request) =>
        request.PutRequest?.Item ? [request.PutRequest.Item] : [],
      );
    }
  }
}
