import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalHandlers, loadHandlers } from '../../local/handlers';
import { functionUrlEvent, localLambdaContext } from '../../local/http-adapter';
import { runIngest } from '../../local/ingest';
import { type LocalStack, openLocalStack } from '../../local/stack';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { termBucket } from '../../shared/store/keys';
import { readPostings } from '../../shared/store/search-index';

/**
 * Keyword search, ranked ranges and category counts end to end: real listings ingested through
 * the four handlers (classify-paper's transaction writes the postings with each listing), then
 * asked for through the Function URL handler, on the stand-ins.
 */

const FIXTURES = path.resolve('test/fixtures/listings');
const JUNE_12 = '2026-06-12';
const JULY_10 = '2026-07-10';
const JULY_13 = '2026-07-13';

let dataDir: string;
let stack: LocalStack;
let handlers: LocalHandlers;
let client: ReturnType<typeof makeDocumentClient>;
let tableName: string;

beforeAll(async () => {
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'papers-search-'));
  stack = await openLocalStack({ dataDir });
  handlers = await loadHandlers(stack);
  client = makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB);
  tableName = stack.env.TABLE_NAME ?? '';
  for (const file of ['hf-daily-papers-2026-06-12.json', 'hf-daily-papers-2026-07-10+13.json']) {
    const summary = await runIngest(
      stack,
      handlers,
      { source: path.join(FIXTURES, file), fetchedAt: '2026-07-14T08:00:00.000Z' },
      { retryDelaySeconds: 0 },
    );
    expect(summary.deadLettered).toEqual({ parse: 0, classify: 0 });
  }
}, 120_000);

afterAll(async () => {
  client?.destroy();
  await stack?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function get(url: string) {
  const result = await handlers.query(functionUrlEvent({ method: 'GET', url }), localLambdaContext('query'));
  if (typeof result !== 'object' || result.statusCode === undefined) throw new Error('unstructured result');
  return { status: result.statusCode, body: JSON.parse(result.body ?? 'null') };
}

function ids(body: { items: { id: string }[] }): string[] {
  return body.items.map((item) => item.id);
}

/** Every page of `url`, following cursors. */
async function everyPage(url: string): Promise<string[][]> {
  const pages: string[][] = [];
  let cursor: string | undefined;
  do {
    const { status, body } = await get(cursor ? `${url}&cursor=${cursor}` : url);
    expect(status).toBe(200);
    pages.push(ids(body));
    cursor = body.cursor;
  } while (cursor);
  return pages;
}

/** The postings of one stemmed term, as a search reads them. */
async function postingsOf(term: string) {
  const {
    postingsByTerm: [postings],
  } = await readPostings(client, tableName, [term]);
  return postings ?? [];
}

/** DynamoDB requests `act` made, by operation. */
async function requestsOf(act: () => Promise<unknown>): Promise<Record<string, number>> {
  const before = stack.requestCounts().dynamodb;
  await act();
  const after = stack.requestCounts().dynamodb;
  return Object.fromEntries(
    Object.entries(after)
      .map(([op, n]) => [op.replace('DynamoDB_20120810.', ''), n - (before[op] ?? 0)] as const)
      .filter(([, n]) => n > 0),
  );
}

describe('GET /papers?q=words', () => {
  it('finds a title word whatever its case and inflection (diffusion finds Diffusion)', async () => {
    const { status, body } = await get('/papers?q=diffusion');

    expect(status).toBe(200);
    // MaskAlign has "Diffusion" in its title; the others only in their abstracts.
    expect(body.items[0]).toMatchObject({ id: '2606.08788', days: [JUNE_12], listedOn: JUNE_12 });
    expect(body.items[0].score).toBeGreaterThan(0);
    expect(body.items[0].primaryCategory).toEqual(expect.any(String));
  });

  it('finds a singular with the plural (agents finds "Agent" and "Agents")', async () => {
    const { body } = await get('/papers?q=agents&limit=100');
    const found = ids(body);

    expect(found).toEqual(expect.arrayContaining(['2606.10423', '2606.13681', '2607.08716']));
    // Titles weigh more than abstracts: every hit in the first three has the word in its title.
    for (const item of body.items.slice(0, 3)) expect(item.title.toLowerCase()).toMatch(/agent/);
  });

  it('ranks the papers holding every word of a two-word query first', async () => {
    const { body } = await get('/papers?q=panoramic%20generation');

    expect(ids(body).slice(0, 2).sort()).toEqual(['2607.08765', '2607.09661']);
  });

  it("searches authors' names", async () => {
    const { body } = await get('/papers?q=Kocielnik');

    expect(ids(body).sort()).toEqual(['2606.00467', '2606.12730']);
  });

  it('keeps to a day, or to a range, read from the postings themselves', async () => {
    const day = await get(`/papers?q=agents&date=${JULY_10}`);
    const range = await get(`/papers?q=agents&from=${JULY_10}&to=${JULY_13}&limit=100`);

    expect(day.body.items.every((item: { listedOn: string }) => item.listedOn === JULY_10)).toBe(true);
    expect(ids(day.body)).toContain('2607.08716');
    expect(ids(range.body)).not.toContain('2606.13681');
    expect(ids(range.body)).toContain('2607.08964');
  });

  it('filters by category, and pages through every hit exactly once', async () => {
    const all = (await everyPage('/papers?q=models&limit=3')).flat();
    const whole = ids((await get('/papers?q=models&limit=100')).body);
    const { body } = await get('/papers?q=models&category=cs.CV&limit=100');

    expect(all).toEqual(whole);
    expect(new Set(all).size).toBe(all.length);
    expect(body.items.length).toBeGreaterThan(0);
    for (const item of body.items) {
      expect(
        item.categories.filter((c: { assigned: boolean }) => c.assigned).map((c: { code: string }) => c.code),
      ).toContain('cs.CV');
    }
  });

  it('orders by date, newest first, when asked', async () => {
    const { body } = await get('/papers?q=agents&sort=date&limit=100');
    const days = body.items.map((item: { listedOn: string }) => item.listedOn);

    expect(days).toEqual([...days].sort().reverse());
  });

  it('finds a singular with the plural typed (transformers finds "Transformer")', async () => {
    const { body } = await get('/papers?q=transformers&limit=100');

    // Their titles and abstracts say "transformer" only, never "transformers".
    expect(ids(body)).toEqual(expect.arrayContaining(['2606.13289', '2606.09446', '2607.09424']));
  });

  it('reads at most one postings range per word of a two-word query, and never scans', async () => {
    const direct = await requestsOf(() => readPostings(client, tableName, ['panoram', 'generat']));
    const viaHandler = await requestsOf(() => get('/papers?q=panoramic%20generation'));

    expect(direct.Query ?? 0).toBeGreaterThan(0);
    expect(direct.Query).toBeLessThanOrEqual(2);
    expect(Object.keys(direct)).toEqual(['Query']);
    // Beside the postings ranges, the handler reads only the hits' listings, by key.
    expect(viaHandler.Query).toBeLessThanOrEqual(2);
    expect(Object.keys(viaHandler).sort()).toEqual(['BatchGetItem', 'Query']);
  });

  it('reads one range for two words that share a bucket', async () => {
    // Nine terms in eight buckets: two of them share one.
    const terms = ['diffus', 'agent', 'model', 'languag', 'generat', 'panoram', 'transform', 'train', 'imag'];
    const pairs = terms.flatMap((a, i) => terms.slice(i + 1).map((b) => [a, b] as const));
    const [a, b] = pairs.find(([x, y]) => termBucket(x) === termBucket(y)) ?? [];
    if (!a || !b) throw new Error('no two terms share a bucket');

    let read: Awaited<ReturnType<typeof readPostings>> | undefined;
    const requests = await requestsOf(async () => {
      read = await readPostings(client, tableName, [a, b]);
    });

    expect(requests).toEqual({ Query: 1 });
    expect(read?.postingsByTerm.map((postings) => postings.length > 0)).toEqual([true, true]);
    expect(read?.postingsByTerm[0]).toEqual((await readPostings(client, tableName, [a])).postingsByTerm[0]);
  });

  it('answers an empty list for a word no paper holds', async () => {
    const { status, body } = await get('/papers?q=zyzzyva');

    expect(status).toBe(200);
    expect(body).toEqual({ items: [] });
  });

  it('gives each listing one posting per term, and the same again after a re-ingest of the same text', async () => {
    const before = await postingsOf('diffus');

    await runIngest(
      stack,
      handlers,
      {
        source: path.join(FIXTURES, 'hf-daily-papers-2026-06-12.json'),
        fetchedAt: '2026-07-15T08:00:00.000Z',
      },
      { retryDelaySeconds: 0 },
    );

    const after = await postingsOf('diffus');
    expect(after).toEqual(before);
    const keys = after.map((posting) => `${posting.day}#${posting.id}`);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toContain(`${JUNE_12}#2606.08788`);
  });

  it('reads no posting left by an older layout (exact-term items, search markers)', async () => {
    // Prepare: what a table indexed by an earlier version holds for a word no listing has now.
    await client.send(
      new PutCommand({
        TableName: tableName,
        Item: { pk: 'TERM#quokka', sk: `${JUNE_12}#2606.08788`, tf: 3, dl: 100, h: 'old' },
      }),
    );
    await client.send(
      new PutCommand({
        TableName: tableName,
        Item: { pk: 'PAPER#2606.08788', sk: `SEARCH#${JUNE_12}`, h: 'old', terms: new Set(['quokka']) },
      }),
    );

    // Act
    const { status, body } = await get('/papers?q=quokka');
    const paper = await get('/papers/2606.08788');

    // Assess
    expect(status).toBe(200);
    expect(body).toEqual({ items: [] });
    expect(paper.status).toBe(200);
  });
});

describe('re-indexing a listing whose text changed', () => {
  it('drops the postings of the words it lost and adds the new ones, in the listing write itself', async () => {
    // Prepare: a new fetch of MaskAlign with another title.
    const store = new DynamoPaperStore(client, tableName);
    const before = (await postingsOf('train')).find((posting) => posting.id === '2606.08788');
    const paper = await store.listedPaper('2606.08788', JUNE_12);
    if (!paper) throw new Error('MaskAlign is not stored');
    const changed = {
      ...paper,
      title: 'MaskAlign: Token-Subset Representation Alignment for Efficient Zeppelin Training',
      abstract: paper.abstract.replace(/diffusion/gi, 'flow'),
    };
    const fetch = {
      listedOn: JUNE_12,
      fetchedAt: '2026-07-20T08:00:00.000Z',
      archiveKey: 'listings/test.json',
    };

    // Act
    const requests = await requestsOf(() => store.putListing(changed, fetch));

    // Assess: one read and one transaction, no write of its own for the postings.
    expect(requests).toEqual({ BatchGetItem: 1, TransactWriteItems: 1 });
    expect(ids((await get('/papers?q=zeppelin')).body)).toEqual(['2606.08788']);
    // "Diffusion" is gone from title and abstract: no posting of it is left; "Training" stays, rehashed.
    expect(before).toBeDefined();
    expect((await postingsOf('diffus')).map((posting) => posting.id)).not.toContain('2606.08788');
    const training = (await postingsOf('train')).find((posting) => posting.id === '2606.08788');
    expect(training?.hash).not.toBe(before?.hash);
    expect(ids((await get('/papers?q=diffusion&limit=100')).body)).not.toContain('2606.08788');
  });

  it('writes nothing for a redelivery of the write', async () => {
    const store = new DynamoPaperStore(client, tableName);
    const paper = await store.listedPaper('2606.08788', JUNE_12);
    if (!paper) throw new Error('MaskAlign is not stored');
    const fetch = {
      listedOn: JUNE_12,
      fetchedAt: '2026-07-20T08:00:00.000Z',
      archiveKey: 'listings/test.json',
    };

    const requests = await requestsOf(async () =>
      expect(await store.putListing(paper, fetch)).toBe('unchanged'),
    );

    expect(requests).toEqual({ BatchGetItem: 1 });
    expect(ids((await get('/papers?q=zeppelin')).body)).toEqual(['2606.08788']);
  });
});

describe('ranked ranges: each paper once, with its days', () => {
  it('ranks a range without a category by upvotes, with the upvotes column filled', async () => {
    const { body } = await get(`/papers?from=${JUNE_12}&to=${JULY_13}&limit=3`);

    expect(ids(body)).toEqual(['2606.13681', '2606.13392', '2606.08063']);
    expect(body.items.map((item: { upvotes: number }) => item.upvotes)).toEqual([118, 103, 74]);
    expect(body.items[0].days).toEqual([JUNE_12]);
  });

  it('ranks one category by date, latest first, when asked', async () => {
    const { body } = await get(`/papers?category=cs.CV&from=${JUNE_12}&to=${JULY_13}&sort=date&limit=100`);
    const days = body.items.map((item: { listedOn: string }) => item.listedOn);

    expect(body.items.length).toBeGreaterThan(0);
    expect(days).toEqual([...days].sort().reverse());
  });

  it('takes several categories, and primary=true keeps those whose primary category is named', async () => {
    const any = (await get(`/papers?category=cs.CV,cs.CL&from=${JUNE_12}&to=${JULY_13}&limit=100`)).body;
    const primary = (
      await get(`/papers?category=cs.CV,cs.CL&primary=true&from=${JUNE_12}&to=${JULY_13}&limit=100`)
    ).body;

    expect(primary.items.length).toBeGreaterThan(0);
    expect(primary.items.length).toBeLessThanOrEqual(any.items.length);
    for (const item of primary.items) expect(['cs.CV', 'cs.CL']).toContain(item.primaryCategory);
    expect(ids(any)).toEqual(expect.arrayContaining(ids(primary)));
  });

  it('pages a ranked range without repeating or losing a paper', async () => {
    const pages = await everyPage(`/papers?from=${JUNE_12}&to=${JULY_13}&limit=7`);
    const all = pages.flat();

    expect(all).toHaveLength(55);
    expect(new Set(all).size).toBe(55);
  });

  it('ranks listings written before the figures moved out of the paper by the upvotes they hold there', async () => {
    // Prepare: copies of a stored listing, re-identified onto a day of their own, laid out as
    // earlier versions wrote them: upvotes inside the paper, no upvotesFetchedAt, the index's 0.
    const { Item: stored } = await client.send(
      new GetCommand({ TableName: tableName, Key: { pk: 'PAPER#2606.13681', sk: `LISTED#${JUNE_12}` } }),
    );
    if (!stored) throw new Error('no stored listing to copy');
    const { upvotesFetchedAt: _fetchedAt, apiView: _view, ...layout } = stored;
    const day = '2026-05-04';
    for (const [id, upvotes] of [
      ['2605.00001', 7],
      ['2605.00002', 999],
    ] as const) {
      await client.send(
        new PutCommand({
          TableName: tableName,
          Item: {
            ...layout,
            pk: `PAPER#${id}`,
            sk: `LISTED#${day}`,
            dayPk: `DAY#${day}`,
            listedOn: day,
            upvotes: 0,
            paper: { ...layout.paper, id, upvotes },
          },
        }),
      );
    }

    // Act
    const { status, body } = await get(`/papers?from=${day}&to=${day}&sort=upvotes`);

    // Assess
    expect(status).toBe(200);
    expect(ids(body)).toEqual(['2605.00002', '2605.00001']);
    expect(body.items.map((item: { upvotes: number }) => item.upvotes)).toEqual([999, 7]);
  });

  it('reads a range ending on the last day an ISO date can hold', async () => {
    const { status, body } = await get('/papers?from=9999-12-30&to=9999-12-31');

    expect(status).toBe(200);
    expect(body).toEqual({ items: [] });
  });

  it('refuses a cursor of another query', async () => {
    const first = await get(`/papers?from=${JUNE_12}&to=${JULY_13}&limit=2`);
    const { status, body } = await get(
      `/papers?from=${JUNE_12}&to=${JULY_10}&limit=2&cursor=${first.body.cursor}`,
    );

    expect(status).toBe(400);
    expect(body.parameter).toBe('cursor');
  });
});

describe('GET /papers?date=D: the day status', () => {
  it('tells a day fetched empty (a weekend) from one never fetched', async () => {
    // Prepare: fetch-listing records an empty fetch of 2026-06-14.
    const store = new DynamoPaperStore(client, tableName);
    await store.recordFetchedDay('2026-06-14', { fetchedAt: '2026-06-14T23:30:00.000Z', listed: 0 });

    // Act
    const empty = await get('/papers?date=2026-06-14');
    const never = await get('/papers?date=2026-06-15');
    const listed = await get(`/papers?date=${JUNE_12}&limit=1`);

    // Assess
    expect(empty.body).toEqual({ items: [], day: { date: '2026-06-14', status: 'fetched-empty' } });
    expect(never.body).toEqual({ items: [], day: { date: '2026-06-15', status: 'not-fetched' } });
    expect(listed.body.day).toEqual({ date: JUNE_12, status: 'has-papers' });
  });
});

describe('GET /categories?from=&to=', () => {
  it('counts the papers per category in the range, most first, each paper once', async () => {
    const { status, body } = await get(`/categories?from=${JUNE_12}&to=${JULY_13}`);

    expect(status).toBe(200);
    expect(body).toMatchObject({ from: JUNE_12, to: JULY_13 });
    const counts = body.items.map((item: { papers: number }) => item.papers);
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    const primaries = body.items.reduce((sum: number, item: { primary: number }) => sum + item.primary, 0);
    expect(primaries).toBe(55);
    expect(body.items[0]).toEqual({
      code: expect.any(String),
      name: expect.any(String),
      group: expect.any(String),
      papers: expect.any(Number),
      primary: expect.any(Number),
    });
  });

  it('counts nothing for a range with no papers', async () => {
    const { body } = await get('/categories?from=2026-01-01&to=2026-01-31');

    expect(body.items).toEqual([]);
  });
});
