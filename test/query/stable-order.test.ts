import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadQueryHandler } from '../../local/handlers';
import { type FunctionUrlHandler, functionUrlEvent, localLambdaContext } from '../../local/http-adapter';
import { openTestStack, paperOf, type SeedPaper, seed } from './support';

/**
 * `GET /papers?date=D` pages by upvotes, a number that changes while a client pages. `sort=id`
 * pages by paper id, which never changes: every paper stored before paging began comes exactly once.
 */

const DAY = '2026-06-20';
const IDS = Array.from({ length: 8 }, (_, i) => `2606.2000${i + 1}`);
/** Upvotes falling with the id: 2606.20001 leads with 80. */
const PAPERS: SeedPaper[] = IDS.map((id, i) => ({
  id,
  listedOn: DAY,
  upvotes: 80 - i * 10,
  categories: ['cs.CV'],
}));

let stack: Awaited<ReturnType<typeof openTestStack>>;
let handler: FunctionUrlHandler;
let fetchCount = 0;

beforeAll(async () => {
  stack = await openTestStack();
  await seed(stack.store, PAPERS);
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

/** A later fetch of the day that gives `id` new upvotes, as parse-paper would store it. */
async function revote(id: string, upvotes: number): Promise<void> {
  fetchCount += 1;
  const seedPaper = PAPERS.find((paper) => paper.id === id);
  if (!seedPaper) throw new Error(`no paper ${id}`);
  const outcome = await stack.store.putListing(paperOf({ ...seedPaper, upvotes }), {
    listedOn: DAY,
    fetchedAt: `${DAY}T${String(9 + fetchCount).padStart(2, '0')}:00:00.000Z`,
    archiveKey: 'listings/later.json',
  });
  expect(outcome).toBe('updated');
}

/** Pages through `url` two at a time; between pages, `between(pageNumber)` changes the table. */
async function pageThrough(url: string, between: (page: number) => Promise<void>): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let page = 0;
  do {
    const { status, body } = await get(cursor ? `${url}&cursor=${cursor}` : url);
    expect(status, JSON.stringify(body)).toBe(200);
    ids.push(...body.items.map((item: { id: string }) => item.id));
    cursor = body.cursor;
    await between(++page);
  } while (cursor);
  return ids;
}

describe('GET /papers?date=D&sort=id', () => {
  it('pages by paper id', async () => {
    const ids = await pageThrough(`/papers?date=${DAY}&sort=id&limit=3`, async () => {});

    expect(ids).toEqual(IDS);
  });

  it('gives every paper exactly once while upvotes change between pages', async () => {
    // Act: after each page, the paper at the back jumps to the front and the leader drops to the back.
    const ids = await pageThrough(`/papers?date=${DAY}&sort=id&limit=2`, async (page) => {
      await revote(IDS[IDS.length - page] ?? IDS[0] ?? '', 1000 + page);
      await revote(IDS[page - 1] ?? IDS[0] ?? '', 0);
    });

    // Assess
    expect(ids).toEqual(IDS);
  });

  it('is not fooled by a cursor of the upvotes order, nor the other way round', async () => {
    const byUpvotes = await get(`/papers?date=${DAY}&limit=1`);
    const byId = await get(`/papers?date=${DAY}&sort=id&limit=1`);

    const crossed = [
      await get(`/papers?date=${DAY}&sort=id&cursor=${byUpvotes.body.cursor}`),
      await get(`/papers?date=${DAY}&cursor=${byId.body.cursor}`),
      await get(`/papers?date=${DAY}&sort=upvotes&cursor=${byId.body.cursor}`),
    ];

    for (const { status, body } of crossed) {
      expect(status).toBe(400);
      expect(body.parameter).toBe('cursor');
    }
  });
});

describe('GET /papers?date=D (sort=upvotes, the default)', () => {
  it('is a live ranking: paging while upvotes change can repeat and skip papers', async () => {
    // The behaviour the README documents, and the reason sort=id exists.
    const seen = await pageThrough(`/papers?date=${DAY}&sort=upvotes&limit=2`, async (page) => {
      if (page !== 1) return;
      const [first, second] = await get(`/papers?date=${DAY}&limit=2`).then(({ body }) =>
        body.items.map((item: { id: string }) => item.id),
      );
      // The two just read fall to the bottom; the rest keep their order.
      await revote(first, 0);
      await revote(second, 0);
    });

    expect(new Set(seen).size).toBeLessThan(seen.length);
  });

  it('answers sort=votes with a 400 naming sort', async () => {
    const { status, body } = await get(`/papers?date=${DAY}&sort=votes`);

    expect(status).toBe(400);
    expect(body).toEqual({
      error: 'BadRequest',
      message: 'sort: must be upvotes (most upvoted first, the default) or id (stable while upvotes change)',
      parameter: 'sort',
    });
  });
});
