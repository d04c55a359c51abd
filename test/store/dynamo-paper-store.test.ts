import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalStack, openLocalStack } from '../../local/stack';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import type { Classification } from '../../shared/classification';
import type { Paper } from '../../shared/paper';
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { UPVOTES_SK_PREFIX } from '../../shared/store/keys';
import { InvalidCursorError, ListingNotStoredError } from '../../shared/store/paper-store';
import { modelClassification } from '../support/classifications';

let stack: LocalStack;
let store: DynamoPaperStore;
let dataDir: string;

beforeAll(async () => {
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'papers-store-'));
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

/** The sort keys of a paper's partition, read straight from the table: its listings and category entries. */
async function sortKeysOf(id: string): Promise<string[]> {
  const partition = await makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB).send(
    new QueryCommand({
      TableName: stack.env.TABLE_NAME,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `PAPER#${id}` },
    }),
  );
  return (partition.Items ?? [])
    .map((item) => String(item.sk))
    .filter((sk) => !sk.startsWith(UPVOTES_SK_PREFIX))
    .sort();
}

const paper = (id: string, upvotes: number): Paper => ({
  id,
  title: `Paper ${id}`,
  abstract: 'An abstract.',
  upvotes,
  links: { arxiv: `https://arxiv.org/abs/${id}` },
  source: 'hf-api',
});

const origin = (fetchedAt: string) => ({
  listedOn: '2026-06-12',
  fetchedAt,
  archiveKey: 'listings/2026/06/12/x.json',
});

const classification = modelClassification;

describe('DynamoPaperStore.putListing', () => {
  it('creates, leaves a redelivery unchanged, updates, and refuses an older fetch as stale', async () => {
    expect(await store.putListing(paper('2606.00001', 3), origin('2026-06-12T10:00:00.000Z'))).toBe(
      'created',
    );
    expect(await store.putListing(paper('2606.00001', 3), origin('2026-06-12T10:00:00.000Z'))).toBe(
      'unchanged',
    );
    expect(await store.putListing(paper('2606.00001', 9), origin('2026-06-13T10:00:00.000Z'))).toBe(
      'updated',
    );
    expect(await store.putListing(paper('2606.00001', 1), origin('2026-06-12T09:00:00.000Z'))).toBe('stale');

    const record = await store.paperById('2606.00001');
    expect(record?.listings).toEqual([
      { listedOn: '2026-06-12', upvotes: 9, fetchedAt: '2026-06-13T10:00:00.000Z' },
    ]);
  });
});

describe('DynamoPaperStore.putListing with figures missing', () => {
  it('keeps the stored upvotes and comments when a later fetch does not give them', async () => {
    // Prepare: a fetch that gave both figures.
    const id = '2606.00021';
    await store.putListing({ ...paper(id, 7), comments: 3 }, origin('2026-06-12T10:00:00.000Z'));

    // Act: a later fetch gives neither, then one gives upvotes alone.
    const { upvotes: _upvotes, ...withoutFigures } = paper(id, 0);
    await store.putListing(withoutFigures, origin('2026-06-12T11:00:00.000Z'));
    const afterNeither = await store.paperById(id);
    const onDayAfterNeither = await store.papersListedOn('2026-06-12', { limit: 100 });
    await store.putListing(paper(id, 9), origin('2026-06-12T12:00:00.000Z'));

    // Assess
    expect(afterNeither?.listings).toEqual([
      { listedOn: '2026-06-12', upvotes: 7, comments: 3, fetchedAt: '2026-06-12T11:00:00.000Z' },
    ]);
    expect(onDayAfterNeither.items.find((item) => item.id === id)).toMatchObject({ upvotes: 7, comments: 3 });
    expect((await store.paperById(id))?.listings).toEqual([
      { listedOn: '2026-06-12', upvotes: 9, comments: 3, fetchedAt: '2026-06-12T12:00:00.000Z' },
    ]);
    const onDay = await store.papersListedOn('2026-06-12', { limit: 100 });
    const listed = onDay.items.find((item) => item.id === id);
    expect(listed).toMatchObject({ upvotes: 9, comments: 3 });
    // The byDay index orders by the figure the reads return.
    const upvotes = onDay.items.map((item) => item.upvotes ?? 0);
    expect(upvotes).toEqual([...upvotes].sort((a, b) => b - a));
  });

  it('lists a paper whose source never gave upvotes on its day, without inventing a figure', async () => {
    const { upvotes: _upvotes, ...arxivPaper } = { ...paper('2606.00022', 0), source: 'arxiv-atom' as const };

    await store.putListing(arxivPaper, origin('2026-06-12T10:00:00.000Z'));
    await store.putListing(arxivPaper, origin('2026-06-12T11:00:00.000Z'));

    const onDay = await store.papersListedOn('2026-06-12', { limit: 100 });
    const listed = onDay.items.find((item) => item.id === '2606.00022');
    expect(listed).toBeDefined();
    expect(listed?.upvotes).toBeUndefined();
    expect(listed?.comments).toBeUndefined();
    expect((await store.paperById('2606.00022'))?.listings).toEqual([
      { listedOn: '2026-06-12', fetchedAt: '2026-06-12T11:00:00.000Z' },
    ]);
  });
});

describe('DynamoPaperStore.recordListedDays', () => {
  it('counts a paper once however often its day is recorded', async () => {
    await store.recordListedDays(new Map([['2026-06-20', ['a', 'b']]]));
    await store.recordListedDays(new Map([['2026-06-20', ['b', 'c']]]));

    const days = await store.ingestedDays({ limit: 10 });
    expect(days.items.find((day) => day.day === '2026-06-20')?.papers).toBe(3);
  });
});

describe('DynamoPaperStore.putClassification', () => {
  it('refuses a classification for a listing that is not stored', async () => {
    await expect(
      store.putClassification({
        paper: paper('2606.99999', 0),
        listedOn: '2026-06-12',
        fetchedAt: '2026-06-12T10:00:00.000Z',
        classification: classification('cs.CL'),
      }),
    ).rejects.toBeInstanceOf(ListingNotStoredError);
  });

  it('indexes the assigned categories and drops the ones a reclassification no longer assigns', async () => {
    const p = paper('2606.00002', 5);
    await store.putListing(p, origin('2026-06-12T10:00:00.000Z'));

    await store.applyCategoryChanges([
      await store.putClassification({
        paper: p,
        listedOn: '2026-06-12',
        fetchedAt: '2026-06-12T10:00:00.000Z',
        classification: classification('cs.CL', 'cs.LG'),
      }),
    ]);
    const inLg = await store.papersInCategory('cs.LG', '2026-06-01', '2026-06-30', { limit: 10 });
    expect(inLg.items.map((item) => item.id)).toEqual(['2606.00002']);

    await store.applyCategoryChanges([
      await store.putClassification({
        paper: p,
        listedOn: '2026-06-12',
        fetchedAt: '2026-06-12T10:00:00.000Z',
        classification: classification('cs.CL'),
      }),
    ]);
    expect((await store.papersInCategory('cs.LG', '2026-06-01', '2026-06-30', { limit: 10 })).items).toEqual(
      [],
    );
    expect(
      (await store.papersInCategory('cs.CL', '2026-06-01', '2026-06-30', { limit: 10 })).items,
    ).toHaveLength(1);

    expect(await sortKeysOf('2606.00002')).toEqual(['CATEGORY#cs.CL#2026-06-12', 'LISTED#2026-06-12']);
  });

  it('files both names of an arXiv alias pair under one entry that either name finds', async () => {
    // Prepare: a source that lists cs.SY and its canonical twin eess.SY, as arXiv feeds do.
    const p = paper('2606.00009', 1);
    await store.putListing(p, origin('2026-06-12T10:00:00.000Z'));
    const given: Classification = {
      categories: ['cs.SY', 'eess.SY', 'math.OC'].map((code) => ({
        code,
        name: code,
        group: 'Other',
        score: 1,
        assigned: true,
        terms: [],
      })),
      primaryCategory: 'cs.SY',
      classifierVersion: 'source',
      categorySource: 'source',
    };

    // Act
    await store.applyCategoryChanges([
      await store.putClassification({
        paper: p,
        listedOn: '2026-06-12',
        fetchedAt: '2026-06-12T10:00:00.000Z',
        classification: given,
      }),
    ]);

    // Assess
    for (const code of ['cs.SY', 'eess.SY']) {
      const page = await store.papersInCategory(code, '2026-06-01', '2026-06-30', { limit: 10 });
      expect(page.items.map((item) => item.id)).toEqual(['2606.00009']);
    }
    expect(await sortKeysOf('2606.00009')).toEqual([
      'CATEGORY#eess.SY#2026-06-12',
      'CATEGORY#math.OC#2026-06-12',
      'LISTED#2026-06-12',
    ]);
  });

  it('replaces an entry an older version wrote under an alias code with the canonical one', async () => {
    // Prepare: the listing and an entry as written before codes were canonicalised.
    const p = paper('2606.00010', 1);
    await store.putListing(p, origin('2026-06-12T10:00:00.000Z'));
    const client = makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB);
    await client.send(
      new PutCommand({
        TableName: stack.env.TABLE_NAME,
        Item: {
          pk: 'PAPER#2606.00010',
          sk: 'CATEGORY#cs.SY#2026-06-12',
          categoryPk: 'CATEGORY#cs.SY',
          categorySk: '2026-06-12#2606.00010',
          code: 'cs.SY',
        },
      }),
    );
    await client.send(
      new UpdateCommand({
        TableName: stack.env.TABLE_NAME,
        Key: { pk: 'PAPER#2606.00010', sk: 'LISTED#2026-06-12' },
        UpdateExpression: 'ADD indexedCategories :codes',
        ExpressionAttributeValues: { ':codes': new Set(['cs.SY']) },
      }),
    );
    const given: Classification = {
      categories: [{ code: 'cs.SY', name: 'cs.SY', group: 'Other', score: 1, assigned: true, terms: [] }],
      primaryCategory: 'cs.SY',
      classifierVersion: 'source',
      categorySource: 'source',
    };

    // Act: the paper is classified again (a redelivery, a new model).
    await store.applyCategoryChanges([
      await store.putClassification({
        paper: p,
        listedOn: '2026-06-12',
        fetchedAt: '2026-06-12T10:00:00.000Z',
        classification: given,
      }),
    ]);

    // Assess
    expect(await sortKeysOf('2606.00010')).toEqual(['CATEGORY#eess.SY#2026-06-12', 'LISTED#2026-06-12']);
    const page = await store.papersInCategory('cs.SY', '2026-06-01', '2026-06-30', { limit: 10 });
    expect(page.items.map((item) => item.id)).toContain('2606.00010');
  });

  it('still removes a stale entry when the batch write failed after the classification was stored', async () => {
    // Prepare: classified under cs.CL and cs.LG, entries written.
    const p = paper('2606.00003', 5);
    await store.putListing(p, origin('2026-06-12T10:00:00.000Z'));
    await store.applyCategoryChanges([
      await store.putClassification({
        paper: p,
        listedOn: '2026-06-12',
        fetchedAt: '2026-06-12T10:00:00.000Z',
        classification: classification('cs.CL', 'cs.LG'),
      }),
    ]);

    // Act: a reclassification stores cs.CL only, its batch write is lost, and the message is delivered again.
    await store.putClassification({
      paper: p,
      listedOn: '2026-06-12',
      fetchedAt: '2026-06-12T10:00:00.000Z',
      classification: classification('cs.CL'),
    });
    await store.applyCategoryChanges([
      await store.putClassification({
        paper: p,
        listedOn: '2026-06-12',
        fetchedAt: '2026-06-12T10:00:00.000Z',
        classification: classification('cs.CL'),
      }),
    ]);

    // Assess
    const inLg = await store.papersInCategory('cs.LG', '2026-06-12', '2026-06-12', { limit: 10 });
    expect(inLg.items.map((item) => item.id)).not.toContain('2606.00003');
  });

  it('keeps upvotes off category entries, so a late classification cannot roll them back', async () => {
    const p = paper('2606.00004', 5);
    await store.putListing({ ...p, upvotes: 9 }, origin('2026-06-13T10:00:00.000Z'));

    // A classification whose message still carries other upvotes than the listing lands last.
    await store.applyCategoryChanges([
      await store.putClassification({
        paper: p,
        listedOn: '2026-06-12',
        fetchedAt: '2026-06-13T10:00:00.000Z',
        classification: classification('cs.AI'),
      }),
    ]);

    const inAi = await store.papersInCategory('cs.AI', '2026-06-12', '2026-06-12', { limit: 10 });
    const entry = inAi.items.find((item) => item.id === '2606.00004');
    expect(entry).toBeDefined();
    expect(entry?.upvotes).toBeUndefined();
    const onDay = await store.papersListedOn('2026-06-12', { limit: 100 });
    expect(onDay.items.find((item) => item.id === '2606.00004')?.upvotes).toBe(9);
  });

  it('refuses a classification computed from an older fetch than the stored listing, and leaves no stale entry', async () => {
    // Prepare: the listing fetched twice; the newer fetch's classification is stored first.
    const p = paper('2606.00011', 1);
    await store.putListing(p, origin('2026-06-12T10:00:00.000Z'));
    await store.putListing(p, origin('2026-06-12T11:00:00.000Z'));
    const write = (fetchedAt: string, ...codes: string[]) => ({
      paper: p,
      listedOn: '2026-06-12',
      fetchedAt,
      classification: { ...classification(...codes), classifierVersion: `from-${fetchedAt}` },
    });
    await store.applyCategoryChanges([
      await store.putClassification(write('2026-06-12T11:00:00.000Z', 'cs.CL')),
    ]);

    // Act: the older fetch's message arrives late.
    const late = await store.putClassification(write('2026-06-12T10:00:00.000Z', 'cs.LG', 'cs.AI'));
    const failures = await store.applyCategoryChanges([late]);

    // Assess
    expect(failures.size).toBe(0);
    const record = await store.paperById('2606.00011');
    expect(record?.classifierVersion).toBe('from-2026-06-12T11:00:00.000Z');
    expect(await sortKeysOf('2606.00011')).toEqual(['CATEGORY#cs.CL#2026-06-12', 'LISTED#2026-06-12']);
  });

  it("restores the current entries when an older classification's entries are written after a newer one's", async () => {
    // Prepare: classified from the first fetch, its entries not yet written; then a newer fetch is classified.
    const p = paper('2606.00012', 1);
    await store.putListing(p, origin('2026-06-12T10:00:00.000Z'));
    const older = await store.putClassification({
      paper: p,
      listedOn: '2026-06-12',
      fetchedAt: '2026-06-12T10:00:00.000Z',
      classification: classification('cs.LG'),
    });
    await store.putListing(p, origin('2026-06-12T11:00:00.000Z'));
    await store.applyCategoryChanges([
      await store.putClassification({
        paper: p,
        listedOn: '2026-06-12',
        fetchedAt: '2026-06-12T11:00:00.000Z',
        classification: classification('cs.CL'),
      }),
    ]);

    // Act: the older batch's write lands last.
    await store.applyCategoryChanges([older]);

    // Assess
    expect(await sortKeysOf('2606.00012')).toEqual(['CATEGORY#cs.CL#2026-06-12', 'LISTED#2026-06-12']);
  });

  it('writes one entry when the same paper is classified twice in one batch', async () => {
    const p = paper('2606.00005', 1);
    await store.putListing(p, origin('2026-06-12T10:00:00.000Z'));
    const write = {
      paper: p,
      listedOn: '2026-06-12',
      fetchedAt: '2026-06-12T10:00:00.000Z',
      classification: classification('cs.CL'),
    };

    await store.applyCategoryChanges([
      await store.putClassification(write),
      await store.putClassification(write),
    ]);

    const inCl = await store.papersInCategory('cs.CL', '2026-06-12', '2026-06-12', { limit: 100 });
    expect(inCl.items.filter((item) => item.id === '2606.00005')).toHaveLength(1);
  });
});

describe('DynamoPaperStore.papersInCategory newest first', () => {
  it('reads the range from its newest day back, each page continuing the last, its cursors its own', async () => {
    // Prepare: two papers on each of three days of July, in cs.LG (no other test writes July).
    const days = ['2026-07-01', '2026-07-02', '2026-07-03'];
    const writes = days.flatMap((day, d) =>
      [1, 2].map((n) => ({
        paper: { ...paper(`2607.0${d}00${n}`, n), listedOn: day },
        origin: { listedOn: day, fetchedAt: `${day}T10:00:00.000Z`, archiveKey: 'listings/x.json' },
        classification: classification('cs.LG'),
      })),
    );
    expect((await store.storeListings(writes)).filter((result) => result.error)).toEqual([]);
    const read = (page: { limit: number; cursor?: string }, newestFirst?: boolean) =>
      store.papersInCategory('cs.LG', '2026-07-01', '2026-07-31', page, { newestFirst });

    // Act
    const first = await read({ limit: 4 }, true);
    const rest = await read({ limit: 4, cursor: first.cursor }, true);
    const oldestFirst = await read({ limit: 4 });

    // Assert: newest day first (ids descending within a day, the index's order reversed).
    expect([...first.items, ...rest.items].map((item) => `${item.listedOn} ${item.id}`)).toEqual([
      '2026-07-03 2607.02002',
      '2026-07-03 2607.02001',
      '2026-07-02 2607.01002',
      '2026-07-02 2607.01001',
      '2026-07-01 2607.00002',
      '2026-07-01 2607.00001',
    ]);
    expect(rest.cursor).toBeUndefined();
    expect(oldestFirst.items[0]?.listedOn).toBe('2026-07-01');
    // A cursor of one order does not continue the other.
    await expect(read({ limit: 4, cursor: oldestFirst.cursor }, true)).rejects.toBeInstanceOf(
      InvalidCursorError,
    );
  });
});
