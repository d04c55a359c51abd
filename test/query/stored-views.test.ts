import { DeleteCommand, GetCommand, PutCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Paper } from '../../shared/paper';
import { answerHttpRequest } from '../../shared/query/http-api';
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { LISTED_PAPER_VIEW, MAX_VIEW_BYTES } from '../../shared/store/items';
import { listingSk, paperPk } from '../../shared/store/keys';
import { ITEMS_JSON, type ListingWrite } from '../../shared/store/paper-store';
import { classificationOf, openTestStack } from './support';

/**
 * List pages read from the API views stored beside listings and category entries: the same bytes
 * (and so the same ETags) as reading the whole items, for JSON and CSV, page by page; an item
 * without a view, or with one that is not readable, is read in full; a write that changes what
 * the API shows writes the view again, and one that cannot (`putClassification`) removes it.
 */

const DAY = '2026-06-10';
const NEXT_DAY = '2026-06-11';
const TODAY = '2026-07-30';

let stack: Awaited<ReturnType<typeof openTestStack>>;

function paper(id: string, listedOn: string, extra: Partial<Paper> = {}): Paper {
  return {
    id,
    title: `Paper ${id}: "quoted", with commas, and ünïcödé ✓`,
    abstract: `Abstract of ${id}.\nSecond line.`,
    authors: ['Ada Lovelace', 'Alan Turing'],
    authorCount: 2,
    listedOn,
    publishedOn: listedOn,
    links: { arxiv: `https://arxiv.org/abs/${id}`, huggingface: `https://huggingface.co/papers/${id}` },
    source: 'hf-api',
    ...extra,
  };
}

function write(
  p: Paper,
  codes: string[] | undefined,
  fetchedAt = `${p.listedOn}T08:00:00.000Z`,
): ListingWrite {
  const listedOn = p.listedOn ?? DAY;
  return {
    paper: p,
    origin: { listedOn, fetchedAt, archiveKey: `listings/${listedOn}/test.json` },
    ...(codes ? { classification: classificationOf(codes) } : {}),
  };
}

const WRITES: ListingWrite[] = [
  write(paper('2606.00001', DAY, { upvotes: 40, comments: 3 }), ['cs.CV', 'cs.LG']),
  write(paper('2606.00002', DAY, { upvotes: 25 }), ['cs.CL']),
  // No figures from this fetch: the day's index holds it at 0 upvotes.
  write(paper('2606.00003', DAY), ['cs.CV']),
  // Not classified yet.
  write(paper('2606.00004', DAY, { upvotes: 7, comments: 0 }), undefined),
  write(paper('2606.00005', NEXT_DAY, { upvotes: 12 }), ['cs.CV', 'eess.IV']),
];

const URLS = [
  `/papers?date=${DAY}`,
  `/papers?date=${DAY}&sort=id`,
  `/papers?date=${DAY}&limit=2`,
  `/papers?date=${DAY}&format=csv`,
  `/papers?category=cs.CV&from=${DAY}&to=${NEXT_DAY}`,
  `/papers?category=cs.CV&from=${DAY}&to=${NEXT_DAY}&limit=1`,
  `/papers?category=cs.CV&from=${DAY}&to=${NEXT_DAY}&format=csv`,
];

/** Every page of `url` (following `Link: rel=next`), as status, ETag and body. */
async function pages(url: string): Promise<{ status: number; etag?: string; body: string }[]> {
  const out: { status: number; etag?: string; body: string }[] = [];
  let next: string | undefined = url;
  while (next !== undefined) {
    const [path = '', rawQueryString = ''] = next.split('?');
    const response = await answerHttpRequest(
      { method: 'GET', path, rawQueryString, headers: {} },
      stack.store,
      { allowedOrigins: '*', today: () => TODAY },
    );
    out.push({ status: response.statusCode, etag: response.headers.etag, body: response.body });
    next = /^<([^>]+)>; rel="next"$/.exec(response.headers.link ?? '')?.[1];
  }
  return out;
}

async function everyPage(): Promise<Record<string, Awaited<ReturnType<typeof pages>>>> {
  const answers: Record<string, Awaited<ReturnType<typeof pages>>> = {};
  for (const url of URLS) answers[url] = await pages(url);
  return answers;
}

/** Every item of the table that holds a view. */
async function itemsWithViews(): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await stack.client.send(new ScanCommand({ TableName: stack.tableName }));
  return Items.filter((item) => item[LISTED_PAPER_VIEW] !== undefined);
}

async function setView(item: Record<string, unknown>, view: string | undefined): Promise<void> {
  await stack.client.send(
    new UpdateCommand({
      TableName: stack.tableName,
      Key: { pk: item.pk, sk: item.sk },
      UpdateExpression: view === undefined ? 'REMOVE #view' : 'SET #view = :view',
      ExpressionAttributeNames: { '#view': LISTED_PAPER_VIEW },
      ...(view === undefined ? {} : { ExpressionAttributeValues: { ':view': view } }),
    }),
  );
}

beforeAll(async () => {
  stack = await openTestStack();
  const results = await stack.store.storeListings(WRITES);
  expect(results.every((result) => result.error === undefined)).toBe(true);
  await stack.store.recordListedDays(
    new Map([
      [DAY, ['2606.00001', '2606.00002', '2606.00003', '2606.00004']],
      [NEXT_DAY, ['2606.00005']],
    ]),
  );
});

afterAll(async () => {
  await stack?.close();
});

describe('list pages from stored views', () => {
  it('stores a view with every listing and category entry the pipeline writes', async () => {
    // Prepare: 5 listings, and an entry per assigned category (eess.IV and cs.LG included).
    const withViews = await itemsWithViews();

    // Assess
    expect(withViews.filter((item) => String(item.sk).startsWith('LISTED#'))).toHaveLength(5);
    expect(withViews.filter((item) => String(item.sk).startsWith('CATEGORY#'))).toHaveLength(6);
  });

  it('keeps on a category entry its keys and view only: the paper and classification stay on the listing', async () => {
    const entries = (await itemsWithViews()).filter((item) => String(item.sk).startsWith('CATEGORY#'));

    expect(entries.length).toBeGreaterThan(0);
    for (const entry of entries) {
      expect(Object.keys(entry).sort()).toEqual(
        ['apiView', 'categoryPk', 'categorySk', 'code', 'listedOn', 'pk', 'score', 'sk'].sort(),
      );
    }
  });

  it('skips, and still answers, a category entry without a readable view whose listing is gone', async () => {
    // Prepare: cut the view of one cs.CV entry short and move its listing out of the way.
    const entryKey = { pk: paperPk('2606.00003'), sk: `CATEGORY#cs.CV#${DAY}` };
    const listingKey = { pk: paperPk('2606.00003'), sk: listingSk(DAY) };
    const get = async (key: { pk: string; sk: string }) =>
      (await stack.client.send(new GetCommand({ TableName: stack.tableName, Key: key }))).Item;
    const entry = await get(entryKey);
    const listing = await get(listingKey);
    await setView(entryKey, '{"id": "2606.00003", "title": "cut sh');
    await stack.client.send(new DeleteCommand({ TableName: stack.tableName, Key: listingKey }));

    const warnings: { message: string; details: Record<string, unknown> }[] = [];
    const store = new DynamoPaperStore(stack.client, stack.tableName, undefined, {
      warn: (message, details) => warnings.push({ message, details }),
    });

    // Act
    const page = await store.papersInCategory('cs.CV', DAY, NEXT_DAY, { limit: 10 });
    await stack.client.send(new PutCommand({ TableName: stack.tableName, Item: listing }));
    await setView(entryKey, String(entry?.[LISTED_PAPER_VIEW]));

    // Assess: the others as ever, that one left out and logged with its key.
    expect(page.items.map((item) => item.id)).toEqual(['2606.00001', '2606.00005']);
    expect(page[ITEMS_JSON]).toEqual(page.items.map((item) => JSON.stringify(item)));
    expect(warnings).toEqual([
      { message: 'unreadable item skipped', details: expect.objectContaining(entryKey) },
    ]);
  });

  it('gives each item of a page exactly as JSON.stringify would, from the views', async () => {
    const page = await stack.store.papersListedOn(DAY, { limit: 10 });

    expect(page.items).toHaveLength(4);
    expect(page[ITEMS_JSON]).toEqual(page.items.map((item) => JSON.stringify(item)));
  });

  it('answers with the same bytes and ETags as reading the whole items, page by page, JSON and CSV', async () => {
    // Prepare: the answers from the views, then the same with every view removed.
    const fromViews = await everyPage();
    const withViews = await itemsWithViews();
    for (const item of withViews) await setView(item, undefined);
    const fromItems = await everyPage();
    for (const item of withViews) await setView(item, String(item[LISTED_PAPER_VIEW]));

    // Assess
    expect(fromItems).toEqual(fromViews);
    expect(fromViews[`/papers?date=${DAY}&limit=2`]).toHaveLength(2);
    expect(fromViews[`/papers?category=cs.CV&from=${DAY}&to=${NEXT_DAY}&limit=1`]).toHaveLength(3);
    const [day] = fromViews[`/papers?date=${DAY}`] ?? [];
    expect(JSON.parse(day?.body ?? '{}')).toMatchObject({
      items: [{ id: '2606.00001', upvotes: 40, comments: 3 }, { id: '2606.00002' }, {}, {}],
      day: { date: DAY, status: 'has-papers' },
    });
  });

  it('reads an item in full when its view is not a readable paper', async () => {
    // Prepare
    const expected = await everyPage();
    const listing = { pk: paperPk('2606.00002'), sk: listingSk(DAY) };
    const { Item: stored } = await stack.client.send(
      new GetCommand({ TableName: stack.tableName, Key: listing }),
    );
    await setView(listing, '{"id": "2606.00002", "title": "cut sh');

    // Act
    const answers = await everyPage();
    await setView(listing, String(stored?.[LISTED_PAPER_VIEW]));

    // Assess
    expect(answers).toEqual(expected);
  });

  it('writes the view again when a newer fetch changes the figures, and it matches the item', async () => {
    // Act: a later fetch with more upvotes and no comment count.
    const later = write(
      paper('2606.00001', DAY, { upvotes: 90 }),
      ['cs.CV', 'cs.LG'],
      `${DAY}T20:00:00.000Z`,
    );
    const [result] = await stack.store.storeListings([later]);
    const fromViews = await everyPage();
    const withViews = await itemsWithViews();
    for (const item of withViews) await setView(item, undefined);
    const fromItems = await everyPage();
    for (const item of withViews) await setView(item, String(item[LISTED_PAPER_VIEW]));

    // Assess: the comments of the earlier fetch stay, the upvotes and fetch time are the new ones.
    expect(result?.outcome).toBe('updated');
    expect(fromViews).toEqual(fromItems);
    const [day] = fromViews[`/papers?date=${DAY}`] ?? [];
    expect(JSON.parse(day?.body ?? '{}').items[0]).toMatchObject({
      id: '2606.00001',
      upvotes: 90,
      comments: 3,
      fetchedAt: `${DAY}T20:00:00.000Z`,
    });
  });

  it('stores no view for a paper too large to hold twice, and reads that one in full', async () => {
    // Prepare: a paper whose view alone would be past the bound; then its fetch gets smaller.
    const large = paper('2606.00009', NEXT_DAY, { upvotes: 3, abstract: 'ü'.repeat(MAX_VIEW_BYTES / 2) });
    const small = paper('2606.00009', NEXT_DAY, { upvotes: 4 });
    const key = { pk: paperPk(large.id), sk: listingSk(NEXT_DAY) };
    const stored = async () =>
      (await stack.client.send(new GetCommand({ TableName: stack.tableName, Key: key }))).Item;

    // Act
    const [first] = await stack.store.storeListings([write(small, ['cs.CV'])]);
    const smallView = (await stored())?.[LISTED_PAPER_VIEW];
    const [second] = await stack.store.storeListings([write(large, ['cs.CV'], `${NEXT_DAY}T09:00:00.000Z`)]);
    const page = await stack.store.papersListedOn(NEXT_DAY, { limit: 10 });
    const entries = await stack.store.papersInCategory('cs.CV', NEXT_DAY, NEXT_DAY, { limit: 10 });

    // Assess: the smaller fetch's view is removed, not left behind; the large one is read whole.
    expect([first?.outcome, second?.outcome]).toEqual(['created', 'updated']);
    expect(smallView).toEqual(expect.any(String));
    expect((await stored())?.[LISTED_PAPER_VIEW]).toBeUndefined();
    expect(page.items.find((item) => item.id === large.id)).toMatchObject({
      abstract: large.abstract,
      upvotes: 3,
    });
    expect(page[ITEMS_JSON]).toEqual(page.items.map((item) => JSON.stringify(item)));
    expect(entries.items.find((item) => item.id === large.id)?.abstract).toBe(large.abstract);
  });

  it('never sends a view a classification written by putClassification made stale', async () => {
    // Act: the two-step write, which cannot know the rest of the listing.
    const p = paper('2606.00002', DAY, { upvotes: 25 });
    const changes = await stack.store.putClassification({
      paper: p,
      listedOn: DAY,
      fetchedAt: `${DAY}T08:00:00.000Z`,
      classification: classificationOf(['cs.AI']),
    });
    await stack.store.applyCategoryChanges([changes]);
    const page = await stack.store.papersListedOn(DAY, { limit: 10 });

    // Assess
    const { Item: listing } = await stack.client.send(
      new GetCommand({ TableName: stack.tableName, Key: { pk: paperPk(p.id), sk: listingSk(DAY) } }),
    );
    expect(listing?.[LISTED_PAPER_VIEW]).toBeUndefined();
    expect(page.items.find((item) => item.id === p.id)?.primaryCategory).toBe('cs.AI');
    expect(page[ITEMS_JSON]).toEqual(page.items.map((item) => JSON.stringify(item)));
  });
});
