import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type QueryApiServer, serveQueryApi } from '../../local/commands/serve';
import { loadQueryHandler } from '../../local/handlers';
import type { FunctionUrlHandler } from '../../local/http-adapter';
import { functionUrlEvent, localLambdaContext } from '../../local/http-adapter';
import { openTestStack, type SeedPaper, seed } from './support';

/**
 * The query API end to end: the real Function URL handler (`functions/query.ts`)
 * against a real local table seeded through the store's write side.
 */

const JUNE_11 = '2026-06-11';
const JUNE_12 = '2026-06-12';
const JUNE_15 = '2026-06-15';

const PAPERS: SeedPaper[] = [
  { id: '2606.00001', listedOn: JUNE_11, upvotes: 50, categories: ['cs.CV'] },
  { id: '2606.00002', listedOn: JUNE_11, upvotes: 30, categories: ['cs.CL'] },
  { id: '2606.00003', listedOn: JUNE_11, upvotes: 20, categories: ['cs.CV', 'cs.LG'] },
  { id: '2606.00004', listedOn: JUNE_11, upvotes: 10, categories: ['quant-ph'] },
  { id: '2606.00005', listedOn: JUNE_11, upvotes: 5, categories: ['cs.CV'] },
  { id: '2606.00006', listedOn: JUNE_12, upvotes: 40, categories: ['cs.CL'] },
  // Listed again the next day, with more upvotes.
  { id: '2606.00003', listedOn: JUNE_12, upvotes: 25, categories: ['cs.CV', 'cs.LG'] },
  { id: '2606.00007', listedOn: JUNE_12, upvotes: 1, categories: ['math.OC'] },
  { id: 'hep-th/9901001', listedOn: JUNE_12, upvotes: 3, categories: ['hep-th'] },
  { id: '2606.00008', listedOn: JUNE_15, upvotes: 7, categories: ['cs.CV'] },
];

let stack: Awaited<ReturnType<typeof openTestStack>>;
let handler: FunctionUrlHandler;

beforeAll(async () => {
  stack = await openTestStack();
  await seed(stack.store, PAPERS);
  process.env.POWERTOOLS_LOG_LEVEL = 'WARN';
  handler = await loadQueryHandler(stack.env);
});

afterAll(async () => {
  await stack?.close();
});

/** GET `url` through the handler as a Function URL would; the body parsed. */
async function get(url: string, method = 'GET') {
  const result = await handler(functionUrlEvent({ method, url }), localLambdaContext('query'));
  if (typeof result !== 'object' || result.statusCode === undefined) throw new Error('unstructured result');
  return {
    status: result.statusCode,
    headers: result.headers ?? {},
    body: JSON.parse(result.body ?? 'null'),
  };
}

/** Every page of a list query, following cursors; the ids of each page. */
async function allPages(url: string): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const { status, body } = await get(cursor ? `${url}&cursor=${cursor}` : url);
    expect(status).toBe(200);
    pages.push(body.items.map((item: { id?: string; day?: string }) => item.id ?? item.day));
    cursor = body.cursor;
  } while (cursor);
  return pages;
}

describe('GET /papers?date=D', () => {
  it('pages through a day two at a time, most upvoted first, each paper once', async () => {
    // Act
    const pages = await allPages(`/papers?date=${JUNE_11}&limit=2`);

    // Assess
    expect(pages).toEqual([['2606.00001', '2606.00002'], ['2606.00003', '2606.00004'], ['2606.00005']]);
  });

  it("returns each paper with that day's upvotes and its categories", async () => {
    const { status, headers, body } = await get(`/papers?date=${JUNE_12}`);

    expect(status).toBe(200);
    expect(headers['content-type']).toMatch(/^application\/json/);
    expect(body.cursor).toBeUndefined();
    expect(body.items.map((item: { id: string; upvotes: number }) => [item.id, item.upvotes])).toEqual([
      ['2606.00006', 40],
      ['2606.00003', 25],
      ['hep-th/9901001', 3],
      ['2606.00007', 1],
    ]);
    expect(body.items[1]).toMatchObject({
      listedOn: JUNE_12,
      primaryCategory: 'cs.CV',
      classifierVersion: 'test-1',
      title: 'Paper 2606.00003',
    });
  });

  it('answers an empty list for a day with no papers, saying it was never fetched', async () => {
    const { status, body } = await get('/papers?date=2026-06-13');

    expect(status).toBe(200);
    expect(body).toEqual({ items: [], day: { date: '2026-06-13', status: 'not-fetched' } });
  });
});

describe('GET /papers?category=C', () => {
  it('lists a category over a date range, both bounds included, by day then id', async () => {
    const pages = await allPages(`/papers?category=cs.CV&from=${JUNE_11}&to=${JUNE_12}&limit=3`);

    expect(pages.flat()).toEqual(['2606.00001', '2606.00003', '2606.00005', '2606.00003']);
    expect(pages[0]).toHaveLength(3);
  });

  it.each([
    [JUNE_12, JUNE_15, ['2606.00003', '2606.00008']],
    [JUNE_15, JUNE_15, ['2606.00008']],
    ['2026-06-13', '2026-06-14', []],
  ])('from %s to %s holds exactly the listings on those days', async (from, to, ids) => {
    const { body } = await get(`/papers?category=cs.CV&from=${from}&to=${to}`);

    expect(body.items.map((item: { id: string }) => item.id)).toEqual(ids);
  });

  it('lists a paper under each of its assigned categories', async () => {
    const { body } = await get(`/papers?category=cs.LG&from=${JUNE_11}&to=${JUNE_15}`);

    expect(body.items.map((item: { id: string; listedOn: string }) => [item.id, item.listedOn])).toEqual([
      ['2606.00003', JUNE_11],
      ['2606.00003', JUNE_12],
    ]);
  });
});

describe('GET /papers/{id}', () => {
  it('answers one record for a paper listed on two days, with its upvotes on each', async () => {
    const { status, body } = await get('/papers/2606.00003');

    expect(status).toBe(200);
    expect(body).toMatchObject({ id: '2606.00003', title: 'Paper 2606.00003', primaryCategory: 'cs.CV' });
    expect(
      body.listings.map((listing: { listedOn: string; upvotes: number }) => [
        listing.listedOn,
        listing.upvotes,
      ]),
    ).toEqual([
      [JUNE_11, 20],
      [JUNE_12, 25],
    ]);
    expect(body.upvotes).toBeUndefined();
  });

  it('finds an old-style arXiv id, slash and all', async () => {
    const { status, body } = await get('/papers/hep-th/9901001');

    expect(status).toBe(200);
    expect(body.id).toBe('hep-th/9901001');
  });

  it('answers 404 for an id it does not hold', async () => {
    const { status, body } = await get('/papers/2606.99999');

    expect(status).toBe(404);
    expect(body).toEqual({ error: 'NotFound', message: 'no paper with id 2606.99999' });
  });
});

describe('GET /days', () => {
  it('lists the ingested days newest first with their paper counts', async () => {
    const { status, body } = await get('/days');

    expect(status).toBe(200);
    expect(body.items.map((day: { day: string; papers: number }) => [day.day, day.papers])).toEqual([
      [JUNE_15, 1],
      [JUNE_12, 4],
      [JUNE_11, 5],
    ]);
  });

  it('pages through the days', async () => {
    const pages = await allPages('/days?limit=2');

    expect(pages.flat()).toEqual([JUNE_15, JUNE_12, JUNE_11]);
    expect(pages[0]).toEqual([JUNE_15, JUNE_12]);
  });
});

describe('cursors', () => {
  it.each([
    ['a day', `/papers?date=${JUNE_12}&limit=4`, 4],
    ['a category', `/papers?category=cs.CL&from=${JUNE_11}&to=${JUNE_12}&limit=2`, 2],
    ['the days', '/days?limit=3', 3],
  ])('gives none when a page holds exactly the rest of %s (no empty last page)', async (_case, url, size) => {
    const { status, body } = await get(url);

    expect(status).toBe(200);
    expect(body.items).toHaveLength(size);
    expect(body).not.toHaveProperty('cursor');
  });

  it('gives one when more follow, and the next page holds exactly the rest', async () => {
    const pages = await allPages(`/papers?category=cs.CL&from=${JUNE_11}&to=${JUNE_12}&limit=1`);

    expect(pages).toEqual([['2606.00002'], ['2606.00006']]);
  });

  async function firstCursor(url: string): Promise<string> {
    const { body } = await get(url);
    expect(body.cursor).toEqual(expect.any(String));
    return body.cursor;
  }

  it.each([
    [
      'a day query',
      `/papers?date=${JUNE_11}&limit=1`,
      `/papers?category=cs.CV&from=${JUNE_11}&to=${JUNE_12}`,
    ],
    ['one day', `/papers?date=${JUNE_11}&limit=1`, `/papers?date=${JUNE_12}`],
    [
      'one category',
      `/papers?category=cs.CV&from=${JUNE_11}&to=${JUNE_12}&limit=1`,
      `/papers?category=cs.CL&from=${JUNE_11}&to=${JUNE_12}`,
    ],
    [
      'one date range',
      `/papers?category=cs.CV&from=${JUNE_11}&to=${JUNE_12}&limit=1`,
      `/papers?category=cs.CV&from=${JUNE_11}&to=${JUNE_15}`,
    ],
    ['the days', '/days?limit=1', `/papers?date=${JUNE_11}`],
  ])('refuses a cursor from %s in another query with a 400 naming cursor', async (_case, issuer, other) => {
    // Prepare
    const cursor = await firstCursor(issuer);

    // Act
    const { status, body } = await get(`${other}&cursor=${cursor}`);

    // Assess
    expect(status).toBe(400);
    expect(body).toMatchObject({ error: 'BadRequest', parameter: 'cursor' });
  });

  it.each([
    ['not JSON', Buffer.from('hello').toString('base64url')],
    [
      'a forged key',
      Buffer.from(JSON.stringify({ q: `day:${JUNE_11}`, k: { foo: 'x' } })).toString('base64url'),
    ],
    [
      'a key from another partition',
      Buffer.from(
        JSON.stringify({
          q: `day:${JUNE_11}`,
          k: { pk: 'PAPER#2606.00006', sk: `LISTED#${JUNE_12}`, dayPk: `DAY#${JUNE_12}`, upvotes: 40 },
        }),
      ).toString('base64url'),
    ],
  ])('answers a cursor that is %s with a 400, never a 500', async (_case, cursor) => {
    const { status, body } = await get(`/papers?date=${JUNE_11}&cursor=${cursor}`);

    expect(status).toBe(400);
    expect(body.parameter).toBe('cursor');
  });
});

describe('the Function URL handler', () => {
  it('answers a bad parameter with a 400 JSON body that names it', async () => {
    const { status, body } = await get('/papers?date=2026-02-30');

    expect(status).toBe(400);
    expect(body).toEqual({
      error: 'BadRequest',
      message: 'date: must be a real date YYYY-MM-DD',
      parameter: 'date',
    });
  });

  it('answers another method with a 405 and allow: GET, HEAD, OPTIONS', async () => {
    const { status, headers } = await get(`/papers?date=${JUNE_11}`, 'POST');

    expect(status).toBe(405);
    expect(headers.allow).toBe('GET, HEAD, OPTIONS');
  });
});

/** A response's JSON body, loosely typed for assertions. */
// biome-ignore lint/suspicious/noExplicitAny: assertions below check the shape
async function json(response: Response): Promise<any> {
  return response.json();
}

describe('papers serve', () => {
  let api: QueryApiServer;

  beforeAll(async () => {
    api = await serveQueryApi({ env: stack.env, port: 0 });
  });

  afterAll(async () => {
    await api?.close();
  });

  it('listens on 127.0.0.1 and serves the API over real HTTP', async () => {
    // Act
    const response = await fetch(`${api.url}/papers?date=${JUNE_11}&limit=2`);

    // Assess
    expect(api.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    const body = await json(response);
    expect(body.items.map((item: { id: string }) => item.id)).toEqual(['2606.00001', '2606.00002']);
    expect(body.cursor).toEqual(expect.any(String));
  });

  it('passes status, headers and body through for errors', async () => {
    const bad = await fetch(`${api.url}/papers?date=${JUNE_11}&limit=500`);
    const wrongMethod = await fetch(`${api.url}/days`, { method: 'DELETE' });
    const unknown = await fetch(`${api.url}/nowhere`);

    expect(bad.status).toBe(400);
    expect(await json(bad)).toMatchObject({ parameter: 'limit' });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get('allow')).toBe('GET, HEAD, OPTIONS');
    expect(unknown.status).toBe(404);
  });

  it('serves a paper whose id holds a slash, sent percent-encoded', async () => {
    const response = await fetch(`${api.url}/papers/hep-th%2F9901001`);

    expect(response.status).toBe(200);
    expect((await json(response)).id).toBe('hep-th/9901001');
  });
});
