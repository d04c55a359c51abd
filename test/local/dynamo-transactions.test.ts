import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import dynalite from 'dynalite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DynamoFront, startDynamoFront } from '../../local/dynamo-transactions';
import { openPapersTable } from '../../local/papers-table';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { localOptions } from '../../shared/aws/local-options';
import type { Paper } from '../../shared/paper';
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import type { ListingWrite } from '../../shared/store/paper-store';
import { modelClassification } from '../support/classifications';

/**
 * The local TransactWriteItems front carries a transaction out as several writes of dynalite, so a
 * process killed part-way leaves part of it written. These tests cut a classify batch's transaction
 * after each of its writes in turn — a proxy between the front and dynalite passes the first k
 * writes and then answers nothing more, as a process dead after its k-th write — and run the batch
 * again through a fresh front (the restarted process, the redelivered message). Whatever was cut,
 * every listing must then hold exactly the category entries its classification assigns.
 */

const TABLE = 'papers-transactions-test';
const WRITES = new Set(['PutItem', 'UpdateItem', 'DeleteItem', 'BatchWriteItem']);

let dynamo: Server;
let dynamoUrl: string;
let dataDir: string;

const urlOf = (server: Server) => `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'papers-transactions-'));
  dynamo = dynalite({ createTableMs: 0, deleteTableMs: 0 });
  await new Promise<void>((resolve) => dynamo.listen(0, '127.0.0.1', () => resolve()));
  dynamoUrl = urlOf(dynamo);
  const client = new DynamoDBClient(localOptions(dynamoUrl));
  await openPapersTable(client, TABLE, path.join(dataDir, 'table-rebuild.json'));
  client.destroy();
});

afterAll(async () => {
  await new Promise<void>((resolve) => dynamo?.close(() => resolve()));
  await rm(dataDir, { recursive: true, force: true });
});

/**
 * A proxy before dynalite that forwards the first `writes` write requests and then, as a dead
 * process would, nothing at all: every later request (reads, writes, the front's put-back) has its
 * connection dropped without reaching dynalite. `writesSeen` counts every write that arrived.
 */
async function dyingAfter(
  writes: number,
): Promise<{ url: string; writesSeen(): number; close(): Promise<void> }> {
  let seen = 0;
  let forwarded = 0;
  const server = createServer((incoming, outgoing) => {
    const target = String(incoming.headers['x-amz-target'] ?? '');
    const operation = target.slice(target.indexOf('.') + 1);
    const isWrite = WRITES.has(operation);
    if (isWrite) seen++;
    if (forwarded >= writes) {
      incoming.socket.destroy();
      return;
    }
    if (isWrite) forwarded++;
    const upstream = request(
      `${dynamoUrl}${incoming.url ?? '/'}`,
      { method: incoming.method, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 500, answer.headers);
        answer.pipe(outgoing);
      },
    );
    upstream.on('error', () => incoming.socket.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: urlOf(server),
    writesSeen: () => seen,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const classification = modelClassification;

/** A classify batch of three new listings, each assigning two categories, under ids of its own. */
function classifyBatch(prefix: string): ListingWrite[] {
  const day = '2026-06-12';
  return [
    ['cs.CL', 'cs.LG'],
    ['cs.LG', 'cs.AI'],
    ['cs.CL', 'cs.AI'],
  ].map((assigned, i): ListingWrite => {
    const id = `${prefix}.${String(10000 + i)}`;
    const paper: Paper = {
      id,
      title: `Paper ${id}`,
      abstract: 'An abstract.',
      upvotes: 10 + i,
      listedOn: day,
      links: { arxiv: `https://arxiv.org/abs/${id}` },
      source: 'hf-api',
    };
    return {
      paper,
      origin: { listedOn: day, fetchedAt: `${day}T08:00:00.000Z`, archiveKey: `listings/${day}/a.json` },
      classification: classification(...assigned),
    };
  });
}

/** The category codes a paper's stored entries name, from its partition in dynalite itself. */
async function storedCategoryEntries(id: string): Promise<string[]> {
  const client = makeDocumentClient(dynamoUrl);
  try {
    const { Items = [] } = await client.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :category)',
        ExpressionAttributeValues: { ':pk': `PAPER#${id}`, ':category': 'CATEGORY#' },
      }),
    );
    return Items.map((item) => String(item.sk).split('#')[1] ?? '').sort();
  } finally {
    client.destroy();
  }
}

/** Stores `writes` through a front on `endpoint`, the way classify-paper does; the front is closed after. */
async function storeThroughFront(endpoint: string, writes: ListingWrite[]) {
  const front: DynamoFront = await startDynamoFront(endpoint);
  const client = makeDocumentClient(urlOf(front.server));
  try {
    return await new DynamoPaperStore(client, TABLE).storeListings(writes);
  } finally {
    client.destroy();
    await front.close();
  }
}

describe('a TransactWriteItems cut short by the process dying', () => {
  it('takes several writes of dynalite for one classify batch (so there are places to cut it)', async () => {
    // Prepare: a proxy that never dies, to count the writes of an uncut transaction.
    const proxy = await dyingAfter(Number.POSITIVE_INFINITY);
    // Act
    const results = await storeThroughFront(proxy.url, classifyBatch('2601'));
    await proxy.close();
    // Assess: the entries and snapshots in one batch, and one conditional write per listing.
    expect(results.map((result) => result.outcome)).toEqual(['created', 'created', 'created']);
    expect(proxy.writesSeen()).toBe(4);
  });

  it.each([1, 2, 3])(
    'leaves every listing with exactly its category entries once the batch runs again, when killed after write %i',
    async (cutAfter) => {
      // Prepare: the batch's first run dies after `cutAfter` writes have reached dynalite.
      const writes = classifyBatch(`260${1 + cutAfter}`);
      const dying = await dyingAfter(cutAfter);
      const interrupted = await storeThroughFront(dying.url, writes);
      await dying.close();
      expect(interrupted.every((result) => result.error !== undefined)).toBe(true);

      // Act: the restarted process gets the redelivered batch.
      const rerun = await storeThroughFront(dynamoUrl, writes);

      // Assess
      expect(rerun.map((result) => result.error)).toEqual([undefined, undefined, undefined]);
      for (const { paper, classification } of writes) {
        const assigned = (classification?.categories ?? [])
          .filter((category) => category.assigned)
          .map((category) => category.code)
          .sort();
        expect({ id: paper.id, entries: await storedCategoryEntries(paper.id) }).toEqual({
          id: paper.id,
          entries: assigned,
        });
      }
    },
  );
});
