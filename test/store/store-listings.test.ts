import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, openLocalStack } from '../../local/stack';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import type { Paper } from '../../shared/paper';
import { isPermanentError } from '../../shared/pipeline/sqs-batch';
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { ListingTableItemSchema } from '../../shared/store/items';
import { UPVOTES_SK_PREFIX, upvoteSnapshotSk } from '../../shared/store/keys';
import { planListingWrite } from '../../shared/store/listing-writes';
import { StoreThrottledError, UnreadableListingError } from '../../shared/store/paper-store';
import { readPostings } from '../../shared/store/search-index';
import { modelClassification } from '../support/classifications';

let stack: LocalStack;
let store: DynamoPaperStore;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'papers-store-listings-'));
  stack = await openLocalStack({ dataDir });
  store = new DynamoPaperStore(
    makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB),
    stack.env.TABLE_NAME ?? '',
  );
});

afterAll(async () => {
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

/** A paper's partition straight from the table, by sort key. */
async function partitionOf(id: string): Promise<Map<string, Record<string, unknown>>> {
  const answer = await makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB).send(
    new QueryCommand({
      TableName: stack.env.TABLE_NAME,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `PAPER#${id}` },
    }),
  );
  return new Map((answer.Items ?? []).map((item) => [String(item.sk), item]));
}

const snapshotsOf = async (id: string) =>
  [...(await partitionOf(id))].filter(([sk]) => sk.startsWith(UPVOTES_SK_PREFIX)).map(([, item]) => item);

const paper = (id: string, figures: { upvotes?: number; comments?: number }, listedOn: string): Paper => ({
  id,
  title: `Paper ${id}`,
  abstract: 'An abstract.',
  ...figures,
  listedOn,
  links: { arxiv: `https://arxiv.org/abs/${id}` },
  source: 'hf-api',
});

const origin = (listedOn: string, fetchedAt: string) => ({
  listedOn,
  fetchedAt,
  archiveKey: `listings/${listedOn.replaceAll('-', '/')}/${fetchedAt}.json`,
});

const classification = modelClassification;

describe('upvote snapshots', () => {
  it('writes one per capture that changed the figures, the first included, and none for an unchanged one', async () => {
    // Prepare: one paper, fetched three times on its first day and once on the next.
    const id = '2606.30001';
    const write = (day: string, fetchedAt: string, figures: { upvotes?: number; comments?: number }) =>
      store.storeListings([
        {
          paper: paper(id, figures, day),
          origin: origin(day, fetchedAt),
          classification: classification('cs.CL'),
        },
      ]);

    // Act
    const first = await write('2026-06-12', '2026-06-12T08:00:00.000Z', { upvotes: 3, comments: 1 });
    const unchanged = await write('2026-06-12', '2026-06-12T12:00:00.000Z', { upvotes: 3, comments: 1 });
    const changed = await write('2026-06-12', '2026-06-12T18:00:00.000Z', { upvotes: 7 });
    const nextDay = await write('2026-06-13', '2026-06-13T08:00:00.000Z', { upvotes: 2, comments: 0 });

    // Assess
    expect([first, unchanged, changed, nextDay].map(([result]) => result?.outcome)).toEqual([
      'created',
      'unchanged',
      'updated',
      'created',
    ]);
    expect(await snapshotsOf(id)).toEqual([
      {
        pk: `PAPER#${id}`,
        sk: upvoteSnapshotSk('2026-06-12', '2026-06-12T08:00:00.000Z'),
        listedOn: '2026-06-12',
        fetchedAt: '2026-06-12T08:00:00.000Z',
        upvotes: 3,
        comments: 1,
      },
      {
        pk: `PAPER#${id}`,
        sk: upvoteSnapshotSk('2026-06-12', '2026-06-12T18:00:00.000Z'),
        listedOn: '2026-06-12',
        fetchedAt: '2026-06-12T18:00:00.000Z',
        upvotes: 7,
      },
      {
        pk: `PAPER#${id}`,
        sk: upvoteSnapshotSk('2026-06-13', '2026-06-13T08:00:00.000Z'),
        listedOn: '2026-06-13',
        fetchedAt: '2026-06-13T08:00:00.000Z',
        upvotes: 2,
        comments: 0,
      },
    ]);
    // The unchanged capture still moved the listing's fetch forward: an older capture is refused after it.
    const listing = (await partitionOf(id)).get('LISTED#2026-06-12');
    expect(listing).toMatchObject({ fetchedAt: '2026-06-12T18:00:00.000Z', upvotes: 7, comments: 1 });
    const late = await write('2026-06-12', '2026-06-12T10:00:00.000Z', { upvotes: 1 });
    expect(late[0]?.outcome).toBe('stale');
    expect((await partitionOf(id)).get('LISTED#2026-06-12')).toMatchObject({ upvotes: 7 });
    expect(await snapshotsOf(id)).toHaveLength(3);
  });

  it('writes none for a redelivery, and none for a capture without figures', async () => {
    const id = '2606.30002';
    const write = (fetchedAt: string, figures: { upvotes?: number }) =>
      store.storeListings([
        { paper: paper(id, figures, '2026-06-12'), origin: origin('2026-06-12', fetchedAt) },
      ]);

    await write('2026-06-12T08:00:00.000Z', {});
    expect(await snapshotsOf(id)).toEqual([]);
    await write('2026-06-12T09:00:00.000Z', { upvotes: 4 });
    const redelivered = await write('2026-06-12T09:00:00.000Z', { upvotes: 4 });

    expect(redelivered[0]?.outcome).toBe('unchanged');
    expect((await snapshotsOf(id)).map((item) => item.upvotes)).toEqual([4]);
  });
});

describe('DynamoPaperStore.storeListings', () => {
  it('stores a batch, its category entries and its snapshots in one read and one transaction', async () => {
    const ids = ['2606.30101', '2606.30102', '2606.30103'];
    const before = stack.requestCounts().dynamodb;

    const results = await store.storeListings(
      ids.map((id, i) => ({
        paper: paper(id, { upvotes: i }, '2026-06-12'),
        origin: origin('2026-06-12', '2026-06-12T08:00:00.000Z'),
        classification: classification('cs.CL', 'cs.LG'),
      })),
    );

    const after = stack.requestCounts().dynamodb;
    expect(results.map((result) => result.outcome)).toEqual(['created', 'created', 'created']);
    expect((after.BatchGetItem ?? 0) - (before.BatchGetItem ?? 0)).toBe(1);
    expect((after.TransactWriteItems ?? 0) - (before.TransactWriteItems ?? 0)).toBe(1);
    for (const id of ids) {
      expect([...(await partitionOf(id)).keys()].sort()).toEqual([
        'CATEGORY#cs.CL#2026-06-12',
        'CATEGORY#cs.LG#2026-06-12',
        'LISTED#2026-06-12',
        upvoteSnapshotSk('2026-06-12', '2026-06-12T08:00:00.000Z'),
      ]);
    }
  });

  it('loses no update between concurrent writers of one listing: the newest fetch and its entries win', async () => {
    const id = '2606.30201';
    const day = '2026-06-12';
    // Many writers at once, each from its own fetch and classification; each plans from what it read.
    const writers = Array.from({ length: 8 }, (_, i) => ({
      paper: paper(id, { upvotes: i }, day),
      origin: origin(day, `2026-06-12T1${i}:00:00.000Z`),
      classification: classification(i % 2 ? 'cs.LG' : 'cs.CL', ...(i % 3 ? ['cs.AI'] : [])),
    }));

    const results = await Promise.all(writers.map((write) => store.storeListings([write])));

    expect(results.every(([result]) => result && !result.error)).toBe(true);
    const partition = await partitionOf(id);
    const newest = writers.at(-1) as (typeof writers)[number];
    expect(partition.get(`LISTED#${day}`)).toMatchObject({ upvotes: 7, fetchedAt: newest.origin.fetchedAt });
    // Exactly the newest classification's entries: none left by an older one.
    expect([...partition.keys()].filter((sk) => sk.startsWith('CATEGORY#')).sort()).toEqual([
      `CATEGORY#cs.AI#${day}`,
      `CATEGORY#cs.LG#${day}`,
    ]);
  });

  it('stores a listing named twice in one batch once, from its newer fetch', async () => {
    const id = '2606.30301';
    const day = '2026-06-12';
    const older = { paper: paper(id, { upvotes: 1 }, day), origin: origin(day, '2026-06-12T08:00:00.000Z') };
    const newer = { paper: paper(id, { upvotes: 5 }, day), origin: origin(day, '2026-06-12T09:00:00.000Z') };

    const results = await store.storeListings([newer, older]);

    expect(results.map((result) => result.outcome)).toEqual(['created', 'stale']);
    expect((await partitionOf(id)).get(`LISTED#${day}`)).toMatchObject({ upvotes: 5 });
  });
});

describe('keyword postings, written with the listing', () => {
  const day = '2026-06-13';
  const texted = (id: string, title: string, upvotes: number): Paper => ({
    ...paper(id, { upvotes }, day),
    title,
  });
  const client = () => makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB);
  /** The ids whose postings hold `term` on `day`, as a search reads them. */
  const holding = async (term: string) => {
    const { postingsByTerm } = await readPostings(
      makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB),
      stack.env.TABLE_NAME ?? '',
      [term],
      { from: day, to: day },
    );
    return (postingsByTerm[0] ?? []).map((posting) => posting.id);
  };

  it('plans no posting for a refresh of the upvotes, and none for a redelivery', async () => {
    // Prepare: a listing stored, read back as the next write will read it.
    const id = '2606.30401';
    const first = {
      paper: texted(id, 'Walrus Detection', 1),
      origin: origin(day, '2026-06-13T08:00:00.000Z'),
    };
    await store.storeListings([first]);
    const stored = ListingTableItemSchema.parse((await partitionOf(id)).get(`LISTED#${day}`));
    const refresh = {
      paper: texted(id, 'Walrus Detection', 9),
      origin: origin(day, '2026-06-13T20:00:00.000Z'),
    };

    // Act
    const refreshed = planListingWrite(refresh, stored, new Date(), stack.env.TABLE_NAME ?? '');
    const redelivered = planListingWrite(first, stored, new Date(), stack.env.TABLE_NAME ?? '');

    // Assess: the refresh updates the listing and writes a snapshot, and touches no posting.
    expect(refreshed.actions.length).toBeGreaterThan(0);
    const keys = refreshed.actions.map((action) => String((action.Put?.Item ?? action.Update?.Key)?.pk));
    expect(keys.every((pk) => pk === `PAPER#${id}`)).toBe(true);
    expect(redelivered.actions).toEqual([]);
    expect(await holding('walru')).toEqual([id]);
  });

  it('indexes a listing stored before postings lived in its transaction at its next write, even a redelivery', async () => {
    // Prepare: a listing as an older version left it: no searchIndexed, no bucketed postings.
    const id = '2606.30601';
    const write = {
      paper: texted(id, 'Narwhal Tracking', 2),
      origin: origin(day, '2026-06-13T08:00:00.000Z'),
    };
    await new DynamoPaperStore(
      client(),
      stack.env.TABLE_NAME ?? '',
      () => new Date(),
      { warn() {} },
      0,
    ).storeListings([write]);
    expect(await holding('narwhal')).toEqual([]);

    // Act: the same write again (a replay of the same capture).
    const [result] = await store.storeListings([write]);

    // Assess
    expect(result?.outcome).toBe('unchanged');
    expect(await holding('narwhal')).toEqual([id]);
    expect((await partitionOf(id)).get(`LISTED#${day}`)?.searchIndexed).toEqual(expect.any(String));
  });

  it('leaves the postings of the newest text only, whatever order concurrent writers land in', async () => {
    const id = '2606.30501';
    const words = ['amber', 'birch', 'cedar', 'dune', 'ember', 'fjord'];
    const writers = words.map((word, i) => ({
      paper: texted(id, `Sensing the ${word}`, i),
      origin: origin(day, `2026-06-13T1${i}:00:00.000Z`),
    }));

    const results = await Promise.all(writers.map((write) => store.storeListings([write])));

    expect(results.every(([result]) => result && !result.error)).toBe(true);
    expect(await holding('fjord')).toEqual([id]);
    for (const word of words.slice(0, -1)) expect(await holding(word), word).toEqual([]);
    expect(await holding('sens')).toEqual([id]);
  });
});

/**
 * A document client that lets a test act at two points of a write: after a BatchGetItem has
 * answered (the store has read what it will plan from) and before each TransactWriteItems.
 */
function interceptingClient(hooks: {
  afterRead?: () => Promise<void>;
  beforeTransaction?: () => Promise<void>;
}): DynamoDBDocumentClient {
  const client = makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB);
  const send = client.send.bind(client) as (command: unknown) => Promise<unknown>;
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'send') return Reflect.get(target, property, receiver);
      return async (command: unknown) => {
        if (command instanceof TransactWriteCommand) await hooks.beforeTransaction?.();
        const answer = await send(command);
        if (command instanceof BatchGetCommand) {
          const hook = hooks.afterRead;
          hooks.afterRead = undefined; // once: the write's own first read
          await hook?.();
        }
        return answer;
      };
    },
  });
}

const arxivAnswer = (day: string, categories: string[]) => ({
  categories,
  atomArchiveKey: `arxiv/${day.replaceAll('-', '/')}/answer.xml`,
  enrichedAt: `${day}T09:30:00.000Z`,
});

describe('DynamoPaperStore.storeListings, against what else is in the table', () => {
  const day = '2026-06-14';
  const fetchedAt = '2026-06-14T08:00:00.000Z';
  const listingKey = (id: string) => ({ pk: `PAPER#${id}`, sk: `LISTED#${day}` });
  /** The model's write of a capture, arXiv not answering (yet). */
  const modelWrite = (id: string, version = 'test-1') => ({
    paper: paper(id, { upvotes: 2 }, day),
    origin: origin(day, fetchedAt),
    classification: { ...classification('cs.AI', 'cs.CL'), classifierVersion: version },
    enrichment: 'pending' as const,
  });
  /** The same capture's write once arXiv answered (cs.CL, which the model had assigned too). */
  const arxivWrite = (id: string) => ({
    paper: paper(id, { upvotes: 2 }, day),
    origin: origin(day, fetchedAt),
    classification: { ...classification('cs.CL'), categorySource: 'arxiv' as const },
    enrichment: 'enriched' as const,
    arxiv: arxivAnswer(day, ['cs.CL']),
  });

  it('fails only the listing whose stored item is unreadable, permanently, and stores the others', async () => {
    // Prepare: a listing item as a hand or an older version left it (no storedAt, no paper).
    const client = makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB);
    await client.send(
      new PutCommand({
        TableName: stack.env.TABLE_NAME,
        Item: { ...listingKey('2606.31001'), listedOn: day, fetchedAt, upvotes: 1 },
      }),
    );
    const ids = ['2606.31001', '2606.31002', '2606.31003'];

    // Act
    const results = await store.storeListings(ids.map((id) => modelWrite(id)));

    // Assess: the two readable ones stored, the unreadable one refused with its reason, for good.
    expect(results.slice(1).map((result) => result.outcome)).toEqual(['created', 'created']);
    const error = results[0]?.error;
    expect(error).toBeInstanceOf(UnreadableListingError);
    expect(error?.message).toMatch(/PAPER#2606\.31001.*LISTED#2026-06-14.*storedAt/);
    expect(isPermanentError(error as Error)).toBe(true);
    expect((await partitionOf('2606.31001')).get(`LISTED#${day}`)).not.toHaveProperty('paper');
  });

  it('loses no update of the same capture written at once by a reclassify and by arXiv enrichment', async () => {
    // Prepare: the capture as the model stored it, arXiv pending.
    const id = '2606.31101';
    await store.storeListings([modelWrite(id)]);
    // The reclassify reads the listing, then arXiv's answer is stored before it writes.
    const reclassifying = new DynamoPaperStore(
      interceptingClient({
        afterRead: async () => {
          const [enriched] = await store.storeListings([arxivWrite(id)]);
          expect(enriched?.outcome).toBe('updated');
        },
      }),
      stack.env.TABLE_NAME ?? '',
    );

    // Act
    const [result] = await reclassifying.storeListings([modelWrite(id, 'next-model')]);

    // Assess: arXiv's categories stay (a pending write never replaces them), whatever the order.
    expect(result?.error).toBeUndefined();
    const listing = ListingTableItemSchema.parse((await partitionOf(id)).get(`LISTED#${day}`));
    expect(listing.enrichment).toBe('enriched');
    expect(listing.classification?.categorySource).toBe('arxiv');
    expect(listing.arxiv?.categories).toEqual(['cs.CL']);
  });

  it.each([
    ['arXiv first', true],
    ['the model first', false],
  ])('applies two different writes of one capture in one batch, both (%s)', async (_, arxivFirst) => {
    // The model's write also brings its ranked categories, which arXiv's does not: kept either way.
    const id = arxivFirst ? '2606.31201' : '2606.31202';
    const predicted = classification('cs.LG').categories;
    const model = { ...modelWrite(id), predictedCategories: predicted };
    const writes = arxivFirst ? [arxivWrite(id), model] : [model, arxivWrite(id)];

    const results = await store.storeListings(writes);

    expect(results.map((result) => result.error)).toEqual([undefined, undefined]);
    expect(results.map((result) => result.outcome)).toEqual(['created', 'updated']);
    const listing = ListingTableItemSchema.parse((await partitionOf(id)).get(`LISTED#${day}`));
    expect(listing.enrichment).toBe('enriched');
    expect(listing.classification?.categorySource).toBe('arxiv');
    expect(listing.predictedCategories).toEqual(predicted);
    expect(listing.revision).toBe(2);
  });

  it('writes identical writes of one capture once, and an older capture in the batch is stale', async () => {
    const id = '2606.31203';
    const older = { ...modelWrite(id), origin: origin(day, '2026-06-14T07:00:00.000Z') };

    const results = await store.storeListings([modelWrite(id), older, modelWrite(id)]);

    expect(results.map((result) => result.outcome)).toEqual(['created', 'stale', 'created']);
    expect(ListingTableItemSchema.parse((await partitionOf(id)).get(`LISTED#${day}`)).revision).toBe(1);
  });

  it.each([
    ['adds a category code', 'ADD indexedCategories :change', (n: number) => new Set([`x.CODE${n}`])],
    ['only moves its revision', 'ADD revision :change', () => 1],
  ])(
    'stores the rest of a batch when another writer changes one listing every time (it %s)',
    async (_, update, change) => {
      // Prepare: before every transaction, another writer changes one listing of the batch.
      const ids = update.includes('revision')
        ? ['2606.31311', '2606.31312', '2606.31313']
        : ['2606.31301', '2606.31302', '2606.31303'];
      await store.storeListings([modelWrite(ids[0] as string)]);
      const client = makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB);
      let interfered = 0;
      const contended = new DynamoPaperStore(
        interceptingClient({
          beforeTransaction: async () => {
            interfered += 1;
            await client.send(
              new UpdateCommand({
                TableName: stack.env.TABLE_NAME,
                Key: listingKey(ids[0] as string),
                UpdateExpression: update,
                ExpressionAttributeValues: { ':change': change(interfered) },
              }),
            );
          },
        }),
        stack.env.TABLE_NAME ?? '',
      );

      // Act
      const results = await contended.storeListings([
        { ...modelWrite(ids[0] as string), paper: paper(ids[0] as string, { upvotes: 9 }, day) },
        modelWrite(ids[1] as string),
        modelWrite(ids[2] as string),
      ]);

      // Assess: the contended one is left to its queue's retry; its batch-mates are stored.
      expect(results[0]?.error).toBeInstanceOf(StoreThrottledError);
      expect(results.slice(1).map((result) => result.outcome)).toEqual(['created', 'created']);
    },
  );
});
