import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { loadQueryHandler } from '../../local/handlers';
import { type FunctionUrlHandler, functionUrlEvent, localLambdaContext } from '../../local/http-adapter';
import { handleQuery } from '../../shared/query/handle-query';
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { openTestStack, type SeedPaper, seed } from './support';

/**
 * What a client may send in a cursor, and what the table may hold, must never turn into a 500:
 * a forged cursor is a 400 naming `cursor`; an item that fails its schema is skipped and logged
 * with its key; a cursor stays valid for its own query, even when that query's default range
 * moves at UTC midnight.
 */

const JUNE_11 = '2026-06-11';
const JUNE_12 = '2026-06-12';

const PAPERS: SeedPaper[] = [
  { id: '2606.10001', listedOn: JUNE_11, upvotes: 50, categories: ['cs.CV'] },
  { id: '2606.10002', listedOn: JUNE_11, upvotes: 30, categories: ['cs.CV'] },
  { id: '2606.10003', listedOn: JUNE_11, upvotes: 20, categories: ['cs.CV'] },
  { id: '2606.10004', listedOn: JUNE_12, upvotes: 10, categories: ['cs.CV'] },
  { id: '2606.10005', listedOn: JUNE_12, upvotes: 5, categories: ['cs.CV'] },
];

let stack: Awaited<ReturnType<typeof openTestStack>>;
let handler: FunctionUrlHandler;

beforeAll(async () => {
  stack = await openTestStack();
  await seed(stack.store, PAPERS);
  process.env.PAPERS_LOG_LEVEL = 'WARN'; // the handler's level: its warnings are asserted below
  handler = await loadQueryHandler(stack.env);
});

afterAll(async () => {
  await stack?.close();
});

async function get(url: string) {
  const result = await handler(functionUrlEvent({ method: 'GET', url }), localLambdaContext('query'));
  if (typeof result !== 'object' || result.statusCode === undefined) throw new Error('unstructured result');
  return { status: result.statusCode, body: JSON.parse(result.body ?? 'null') };
}

/** A cursor as the store encodes one, with whatever JSON text the forger chose. */
const forge = (json: string) => Buffer.from(json).toString('base64url');

const dayKey = (upvotes: string) =>
  `{"q":"day:${JUNE_11}","k":{"pk":"PAPER#2606.10002","sk":"LISTED#${JUNE_11}","dayPk":"DAY#${JUNE_11}","upvotes":${upvotes}}}`;

describe('a forged cursor', () => {
  it.each([
    ['a number too large for the marshaller', dayKey('1e400')],
    ['a number beyond 2^53', dayKey('9007199254740993')],
    ['a negative number', dayKey('-1')],
    ['a fraction', dayKey('2.5')],
    ['a string where the index holds a number', dayKey('"30"')],
    ['an object where the index holds a number', dayKey('{"N":"30"}')],
    [
      'a key of another day',
      `{"q":"day:${JUNE_11}","k":{"pk":"PAPER#2606.10004","sk":"LISTED#${JUNE_12}","dayPk":"DAY#${JUNE_12}","upvotes":10}}`,
    ],
    [
      'an attribute too many',
      `{"q":"day:${JUNE_11}","k":{"pk":"PAPER#2606.10002","sk":"LISTED#${JUNE_11}","dayPk":"DAY#${JUNE_11}","upvotes":30,"x":"y"}}`,
    ],
    ['an attribute too few', `{"q":"day:${JUNE_11}","k":{"pk":"PAPER#2606.10002","dayPk":"DAY#${JUNE_11}"}}`],
    [
      'an empty key string',
      `{"q":"day:${JUNE_11}","k":{"pk":"","sk":"LISTED#${JUNE_11}","dayPk":"DAY#${JUNE_11}","upvotes":30}}`,
    ],
    [
      'a lone surrogate',
      `{"q":"day:${JUNE_11}","k":{"pk":"PAPER#\\ud800","sk":"LISTED#${JUNE_11}","dayPk":"DAY#${JUNE_11}","upvotes":30}}`,
    ],
    ['an array for the key', `{"q":"day:${JUNE_11}","k":[1,2]}`],
    ['JSON that is not an object', '12345'],
    ['bytes that are not UTF-8 JSON', '\u00ff\u00fe{'],
  ])('holding %s gets a 400 naming cursor, never a 500', async (_case, json) => {
    const { status, body } = await get(`/papers?date=${JUNE_11}&cursor=${forge(json)}`);

    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'BadRequest', parameter: 'cursor' });
  });

  it.each([
    ['a huge number in the days key', '{"q":"days","k":{"pk":"DAYS","sk":9007199254740993}}'],
    ['another partition in the days key', '{"q":"days","k":{"pk":"PAPER#x","sk":"2026-06-11"}}'],
    [
      'a huge number in a category key',
      `{"q":"category:cs.CV:${JUNE_11}..${JUNE_12}","k":{"pk":"PAPER#2606.10002","sk":"CATEGORY#cs.CV#${JUNE_11}","categoryPk":"CATEGORY#cs.CV","categorySk":9007199254740993}}`,
    ],
  ])('holding %s gets a 400 on its own route too', async (_case, json) => {
    const route = json.includes('category')
      ? `/papers?category=cs.CV&from=${JUNE_11}&to=${JUNE_12}`
      : '/days?';

    const { status, body } = await get(`${route}&cursor=${forge(json)}`);

    expect(status).toBe(400);
    expect(body.parameter).toBe('cursor');
  });
});

describe('a category query whose range was defaulted', () => {
  it('keeps its cursor valid across UTC midnight, and the next page continues the first range', async () => {
    // Prepare: the first page asked on June 12 (the window ends that day), the next after midnight.
    let today = JUNE_12;
    const ask = (query: string) =>
      handleQuery({ method: 'GET', path: '/papers', rawQueryString: query }, stack.store, {
        today: () => today,
      });
    const first = await ask('category=cs.CV&limit=3');
    expect(first.statusCode).toBe(200);
    const firstPage = first.body as { items: { id: string }[]; cursor?: string };
    expect(firstPage.cursor).toEqual(expect.any(String));

    // Act
    today = '2026-06-13';
    const next = await ask(`category=cs.CV&limit=3&cursor=${firstPage.cursor}`);

    // Assess: the rest of June 12's window, in order, and nothing twice.
    expect(next.statusCode).toBe(200);
    const ids = [...firstPage.items, ...(next.body as { items: { id: string }[] }).items].map((p) => p.id);
    expect(ids).toEqual(['2606.10001', '2606.10002', '2606.10003', '2606.10004', '2606.10005']);
  });

  it('still refuses that cursor in a query that gives its bounds', async () => {
    const first = await handleQuery(
      { method: 'GET', path: '/papers', rawQueryString: 'category=cs.CV&limit=1' },
      stack.store,
      { today: () => JUNE_12 },
    );
    const { cursor } = first.body as { cursor: string };

    const { status, body } = await get(
      `/papers?category=cs.CV&from=2026-05-14&to=${JUNE_12}&limit=1&cursor=${cursor}`,
    );

    expect(status).toBe(400);
    expect(body.parameter).toBe('cursor');
  });

  it('refuses a forged range in its cursor that is not a window of the default length', async () => {
    const json = `{"q":"category:cs.CV:rolling","r":{"from":"2000-01-01","to":"2026-06-12"},"k":{"pk":"PAPER#2606.10001","sk":"CATEGORY#cs.CV#${JUNE_11}","categoryPk":"CATEGORY#cs.CV","categorySk":"${JUNE_11}#2606.10001"}}`;

    const { status, body } = await get(`/papers?category=cs.CV&cursor=${forge(json)}`);

    expect(status).toBe(400);
    expect(body.parameter).toBe('cursor');
  });
});

describe('an item that fails its schema', () => {
  const warnings: { message: string; details: unknown }[] = [];
  let store: DynamoPaperStore;

  beforeAll(async () => {
    store = new DynamoPaperStore(stack.client, stack.tableName, undefined, {
      warn: (message: string, details: unknown) => warnings.push({ message, details }),
    });
    const put = (item: Record<string, unknown>) =>
      stack.client.send(new PutCommand({ TableName: stack.tableName, Item: item }));
    // A listing on June 11 without a title, between the others by upvotes.
    await put({
      pk: 'PAPER#2606.19999',
      sk: `LISTED#${JUNE_11}`,
      dayPk: `DAY#${JUNE_11}`,
      upvotes: 25,
      listedOn: JUNE_11,
      fetchedAt: `${JUNE_11}T08:00:00.000Z`,
      archiveKey: 'listings/x.json',
      storedAt: `${JUNE_11}T08:00:00.000Z`,
      paper: { id: '2606.19999' },
    });
    // A category entry whose score is text.
    await put({
      pk: 'PAPER#2606.19999',
      sk: `CATEGORY#cs.CV#${JUNE_11}`,
      categoryPk: 'CATEGORY#cs.CV',
      categorySk: `${JUNE_11}#2606.19999`,
      code: 'cs.CV',
      score: 'high',
      listedOn: JUNE_11,
    });
    // A day whose count is negative.
    await put({ pk: 'DAYS', sk: '2026-06-10', listed: -3 });
  });

  it('is skipped in a day page, which holds the others in order, and logged with its key', async () => {
    const page = await store.papersListedOn(JUNE_11, { limit: 10 });

    expect(page.items.map((paper) => paper.id)).toEqual(['2606.10001', '2606.10002', '2606.10003']);
    expect(warnings).toContainEqual({
      message: 'unreadable item skipped',
      details: expect.objectContaining({ pk: 'PAPER#2606.19999', sk: `LISTED#${JUNE_11}` }),
    });
  });

  it('does not break paging: every readable paper comes once, across pages', async () => {
    const ids: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.papersListedOn(JUNE_11, { limit: 1, cursor });
      ids.push(...page.items.map((paper) => paper.id));
      cursor = page.cursor;
    } while (cursor);

    expect(ids).toEqual(['2606.10001', '2606.10002', '2606.10003']);
  });

  it('is skipped in a category page, a paper record and the days', async () => {
    warnings.length = 0;

    const category = await store.papersInCategory('cs.CV', JUNE_11, JUNE_11, { limit: 10 });
    const paper = await store.paperById('2606.19999');
    const days = await store.ingestedDays({ limit: 10 });

    expect(category.items.map((entry) => entry.id)).toEqual(['2606.10001', '2606.10002', '2606.10003']);
    expect(paper).toBeUndefined();
    expect(days.items.map((day) => day.day)).toEqual([JUNE_12, JUNE_11]);
    expect(warnings.map((warning) => warning.details)).toEqual([
      expect.objectContaining({ pk: 'PAPER#2606.19999', sk: `CATEGORY#cs.CV#${JUNE_11}` }),
      expect.objectContaining({ pk: 'PAPER#2606.19999', sk: `LISTED#${JUNE_11}` }),
      expect.objectContaining({ pk: 'DAYS', sk: '2026-06-10' }),
    ]);
  });

  it('gets a 200 from the real handler, with the warning in its log', async () => {
    let logged = '';
    const write = (chunk: unknown) => {
      logged += String(chunk);
      return true;
    };
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(write);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(write);

    const { status, body } = await get(`/papers?date=${JUNE_11}`).finally(() => {
      stdout.mockRestore();
      stderr.mockRestore();
    });

    expect(status).toBe(200);
    expect(body.items).toHaveLength(3);
    expect(logged).toContain('unreadable item skipped');
    expect(logged).toContain('PAPER#2606.19999');
  });
});
