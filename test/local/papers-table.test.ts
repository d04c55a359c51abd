import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DynamoDBClient, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';
import { afterEach, describe, expect, it } from 'vitest';
import { createTable, missingIndexes, openPapersTable } from '../../local/papers-table';
import { localOptions } from '../../shared/aws/local-options';
import { papersTable } from '../../shared/resources';

/** A data folder made before `byDayId` existed must get the index, and keep every item. */

const TABLE = 'daily-papers';
let close: (() => Promise<void>) | undefined;

afterEach(async () => {
  await close?.();
  close = undefined;
});

async function dynamoIn(dataDir: string): Promise<DynamoDBClient> {
  const server = dynalite({ path: path.join(dataDir, 'dynamodb'), createTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const client = new DynamoDBClient(localOptions(`http://127.0.0.1:${port}`));
  close = async () => {
    client.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return client;
}

const listing = (id: string) => ({
  pk: { S: `PAPER#${id}` },
  sk: { S: 'LISTED#2026-06-12' },
  dayPk: { S: 'DAY#2026-06-12' },
  upvotes: { N: '3' },
  paperIds: { SS: ['a', 'b'] },
  paper: {
    M: {
      title: { S: `Paper ${id}` },
      authors: { L: [{ S: 'Ada' }, { S: 'Alan' }] },
      scores: { NS: ['0.5', '1'] },
      assigned: { BOOL: true },
      nothing: { NULL: true },
    },
  },
});

async function oldTableWith(client: DynamoDBClient, ids: string[]): Promise<void> {
  const { byDay, byCategory } = papersTable.indexes;
  await createTable(client, TABLE, [byDay, byCategory]);
  for (const id of ids) await client.send(new PutItemCommand({ TableName: TABLE, Item: listing(id) }));
}

async function sortedItems(client: DynamoDBClient) {
  const { Items = [] } = await client.send(new ScanCommand({ TableName: TABLE }));
  return Items.sort((a, b) => String(a.pk?.S).localeCompare(String(b.pk?.S)));
}

describe('openPapersTable', () => {
  it('rebuilds a table that lacks an index of the definition, keeping every item', async () => {
    // Prepare
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'papers-table-'));
    const client = await dynamoIn(dataDir);
    await oldTableWith(client, ['2606.00001', '2606.00002', 'hep-th/9901001']);
    expect(await missingIndexes(client, TABLE)).toEqual(['byDayId', 'byDayRanking']);
    const before = await sortedItems(client);

    // Act
    await openPapersTable(client, TABLE, path.join(dataDir, 'table-rebuild.json'));

    // Assess
    expect(await missingIndexes(client, TABLE)).toEqual([]);
    expect(await sortedItems(client)).toEqual(before);
    expect(existsSync(path.join(dataDir, 'table-rebuild.json'))).toBe(false);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('finishes a rebuild a killed process left half done, from the saved items', async () => {
    // Prepare: the items were saved, the table recreated, and the process died before writing them back.
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'papers-table-'));
    const client = await dynamoIn(dataDir);
    await createTable(client, TABLE);
    const saved = path.join(dataDir, 'table-rebuild.json');
    await writeFile(saved, JSON.stringify([listing('2606.00001'), listing('2606.00002')]));

    // Act
    await openPapersTable(client, TABLE, saved);

    // Assess
    expect((await sortedItems(client)).map((item) => item.pk?.S)).toEqual([
      'PAPER#2606.00001',
      'PAPER#2606.00002',
    ]);
    expect(existsSync(saved)).toBe(false);
    await rm(dataDir, { recursive: true, force: true });
  });

  it('leaves a table with every index alone', async () => {
    const dataDir = await mkdtemp(path.join(os.tmpdir(), 'papers-table-'));
    const client = await dynamoIn(dataDir);
    await createTable(client, TABLE);
    await client.send(new PutItemCommand({ TableName: TABLE, Item: listing('2606.00001') }));

    await openPapersTable(client, TABLE, path.join(dataDir, 'table-rebuild.json'));

    expect(await sortedItems(client)).toHaveLength(1);
    await rm(dataDir, { recursive: true, force: true });
  });
});
