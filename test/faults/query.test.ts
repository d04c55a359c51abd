import { DeleteCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { functionUrlEvent, localLambdaContext } from '../../local/http-adapter';
import { runIngest } from '../../local/ingest';
import { localResourceNames } from '../../shared/resources';
import {
  checkInvariants,
  expectListing,
  expectNoViolations,
  type FaultStack,
  generateListing,
  type HfItem,
  openFaultStack,
} from './harness';

/**
 * The query API under changing data, forged input and bad items, through the
 * real query handler (a Function URL event in, its result out).
 */

let faults: FaultStack;

beforeAll(async () => {
  faults = await openFaultStack();
});

afterAll(async () => {
  await faults?.close();
});

afterEach(() => {
  vi.useRealTimers();
});

interface Answer {
  status: number;
  body: { items?: { id: string; listedOn: string }[]; cursor?: string; [key: string]: unknown };
}

async function get(url: string): Promise<Answer> {
  const result = await faults.handlers.query(
    functionUrlEvent({ method: 'GET', url }),
    localLambdaContext('query'),
  );
  const structured = result as { statusCode?: number; body?: string };
  return { status: structured.statusCode ?? 200, body: JSON.parse(structured.body ?? '{}') };
}

async function ingest(day: string, listing: HfItem[]) {
  faults.upstream.script(day, [{ listing }]);
  await faults.fetchDay(day);
  await faults.drain();
}

async function invariant(day: string, items: readonly HfItem[]) {
  return checkInvariants(faults.stack, faults.client, {
    papers: expectListing(day, items),
    rawBodies: faults.upstream.served(day).values(),
  });
}

describe('query faults', () => {
  it('#8 paging a day with sort=id while upvotes change returns every paper exactly once', async () => {
    const day = '2026-05-04';
    let listing = generateListing(day, 30, { upvotes: (index) => index });
    await ingest(day, listing);

    const seen: string[] = [];
    let cursor: string | undefined;
    let round = 0;
    do {
      const answer = await get(
        `/papers?date=${day}&sort=id&limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      seen.push(...(answer.body.items ?? []).map((paper) => paper.id));
      cursor = answer.body.cursor;
      // Between pages the listing is fetched again with the order of upvotes turned around.
      round++;
      listing = generateListing(day, 30, {
        upvotes: (index) => (round % 2 ? 100 - index : index) + round * 100,
      });
      await ingest(day, listing);
    } while (cursor);

    expect(seen).toHaveLength(30);
    expect(new Set(seen).size).toBe(30);
    expect(seen).toEqual([...seen].sort());
    expectNoViolations(await invariant(day, listing));
  });

  it('#9 /days counts what was stored per day, and an item with an unreadable day invents no day', async () => {
    const earlier = '2026-05-07';
    const day = '2026-05-08';
    // A response for 05-08 that carries three papers over from 05-07.
    const listing = [...generateListing(day, 5), ...generateListing(earlier, 3)];
    await ingest(day, listing);
    const days = await get('/days?limit=100');
    const record = (one: string) =>
      (days.body.items as unknown as { day: string; papers: number; listed?: number }[]).find(
        (item) => item.day === one,
      );
    expect(record(day)).toMatchObject({ papers: 5, listed: 5 });
    expect(record(earlier)).toMatchObject({ papers: 3 });

    // A saved listing with one item whose day cannot be read.
    const other = '2026-05-11';
    const saved = generateListing(other, 4);
    const unreadable = saved[2] as HfItem;
    unreadable.paper.submittedOnDailyAt = 'sometime last week';
    const file = `${faults.stack.dataDir}/listing-${other}.json`;
    await import('node:fs/promises').then((fs) => fs.writeFile(file, JSON.stringify(saved)));
    await runIngest(faults.stack, faults.handlers, { source: file }, { retryDelaySeconds: 0 }).catch(
      () => undefined,
    );
    const today = new Date().toISOString().slice(0, 10);
    const after = await get('/days?limit=100');
    const listedDays = (after.body.items as unknown as { day: string }[]).map((item) => item.day);
    expect(listedDays, 'nothing is filed under today').not.toContain(today);

    expectNoViolations(await invariant(day, listing));
  });

  it('#10 a category cursor with defaulted bounds stays valid across UTC midnight', async () => {
    const day = '2026-07-20';
    const listing = generateListing(day, 30);
    await ingest(day, listing);
    // The category most papers of the day were assigned.
    const counts = new Map<string, number>();
    for (const item of listing) {
      const record = await faults.store.paperById(item.paper.id);
      for (const category of record?.categories?.filter((one) => one.assigned) ?? []) {
        counts.set(category.code, (counts.get(category.code) ?? 0) + 1);
      }
    }
    const [code, total] = [...counts].sort((a, b) => b[1] - a[1])[0] ?? ['cs.LG', 0];
    expect(total).toBeGreaterThanOrEqual(3);

    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(`${day}T23:59:59.000Z`));
    const first = await get(`/papers?category=${code}&limit=2`);
    expect(first.status).toBe(200);
    expect(first.body.cursor).toBeTruthy();
    vi.setSystemTime(new Date('2026-07-21T00:00:01.000Z'));
    const ids = (first.body.items ?? []).map((paper) => paper.id);
    let cursor = first.body.cursor;
    while (cursor) {
      const next = await get(`/papers?category=${code}&limit=2&cursor=${encodeURIComponent(cursor)}`);
      expect(next.status, JSON.stringify(next.body)).toBe(200);
      ids.push(...(next.body.items ?? []).map((paper) => paper.id));
      cursor = next.body.cursor;
    }
    vi.useRealTimers();

    expect(ids).toHaveLength(total);
    expect(new Set(ids).size).toBe(total);
    expectNoViolations(await invariant(day, listing));
  });

  it('#11 no forged cursor and no unreadable item in the table produces a 500', async () => {
    const day = '2026-05-22';
    const listing = generateListing(day, 6);
    await ingest(day, listing);
    const forge = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const forged = [
      forge({
        q: `day:${day}`,
        k: { pk: 'PAPER#x', sk: `LISTED#${day}`, dayPk: `DAY#${day}`, upvotes: 1e300 },
      }),
      forge({
        q: `day:${day}`,
        k: { pk: 'PAPER#x', sk: `LISTED#${day}`, dayPk: `DAY#${day}`, upvotes: -1e-300 },
      }),
      forge({ q: 'days', k: { pk: 'DAYS', sk: 2 ** 70 } }),
      forge({ q: `paper:x`, k: { pk: 'PAPER#x', sk: 1e308 } }),
      'not-a-cursor',
      forge([]),
    ];
    const routes = [`/papers?date=${day}`, '/days?', `/papers?category=cs.LG&from=${day}&to=${day}`];
    for (const route of routes) {
      for (const cursor of forged) {
        const answer = await get(`${route}&cursor=${encodeURIComponent(cursor)}`);
        expect(answer.status, `${route} with a forged cursor`).toBeLessThan(500);
      }
    }

    // One item that fails its schema (written by hand, or by an older version) under the day.
    const bad = {
      pk: 'PAPER#2605.22999',
      sk: `LISTED#${day}`,
      dayPk: `DAY#${day}`,
      upvotes: 3,
      paper: { title: 1 },
    };
    await faults.client.send(new PutCommand({ TableName: localResourceNames.table, Item: bad }));
    try {
      const page = await get(`/papers?date=${day}&limit=100`);
      expect(page.status, 'the page with an unreadable item').toBe(200);
      expect(page.body.items?.map((paper) => paper.id).sort()).toEqual(
        listing.map((item) => item.paper.id).sort(),
      );
    } finally {
      await faults.client.send(
        new DeleteCommand({ TableName: localResourceNames.table, Key: { pk: bad.pk, sk: bad.sk } }),
      );
    }
    expectNoViolations(await invariant(day, listing));
  });
});
