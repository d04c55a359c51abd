import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type QueryApiServer, serveQueryApi } from '../../local/commands/serve';
import { shippedValidationFigures } from '../../shared/quality/validation-figures';
import { QualityReportSchema } from '../../shared/query/response-schemas';
import { openTestStack } from '../query/support';
import { JUNE_11, JUNE_12, seedQualityListings } from './support';

/**
 * Live quality against the local table: the figures of days seeded with the enrichment's fields,
 * worked out by hand, read by the store (one byDayId Query per day) and served by `GET /quality`
 * over real HTTP on 127.0.0.1.
 */

let stack: Awaited<ReturnType<typeof openTestStack>>;
let api: QueryApiServer;

beforeAll(async () => {
  stack = await openTestStack();
  await seedQualityListings(stack, [...JUNE_11, ...JUNE_12]);
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  api = await serveQueryApi({ env: stack.env, port: 0 });
});

afterAll(async () => {
  await api?.close();
  await stack?.close();
});

describe('PaperStore.qualityListingsOn', () => {
  it("reads each listing of the day with its enrichment, arXiv's categories and the model's first three", async () => {
    const listings = await stack.store.qualityListingsOn('2026-06-11');
    expect(listings).toHaveLength(6);
    expect(listings.find((listing) => listing.id === '2606.10003')).toEqual({
      id: '2606.10003',
      enrichment: 'enriched',
      arxivCategories: ['cs.LG'],
      predictedCodes: ['stat.ML', 'cs.AI', 'cs.CV'],
    });
    expect(listings.find((listing) => listing.id === '2606.10005')).toEqual({
      id: '2606.10005',
      enrichment: 'pending',
      predictedCodes: ['cs.CV'],
    });
  });

  it('gives a day without listings as empty', async () => {
    expect(await stack.store.qualityListingsOn('2026-06-13')).toEqual([]);
  });
});

describe('GET /quality', () => {
  it('gives the figures of each day and of the range, worked out by hand, and the validation figures', async () => {
    const response = await fetch(`${api.url}/quality?from=2026-06-11&to=2026-06-13`);
    expect(response.status).toBe(200);
    const report = QualityReportSchema.parse(await response.json());
    expect(report.items).toEqual([
      {
        day: '2026-06-11',
        listings: 6,
        enriched: 4,
        counts: { top1IsPrimary: 2, top1InCategories: 3, primaryInTop3: 3 },
        percent: { top1IsPrimary: 50, top1InCategories: 75, primaryInTop3: 75 },
      },
      {
        day: '2026-06-12',
        listings: 3,
        enriched: 2,
        counts: { top1IsPrimary: 1, top1InCategories: 2, primaryInTop3: 2 },
        percent: { top1IsPrimary: 50, top1InCategories: 100, primaryInTop3: 100 },
      },
      {
        day: '2026-06-13',
        listings: 0,
        enriched: 0,
        counts: { top1IsPrimary: 0, top1InCategories: 0, primaryInTop3: 0 },
      },
    ]);
    expect(report.total).toEqual({
      listings: 9,
      enriched: 6,
      counts: { top1IsPrimary: 3, top1InCategories: 5, primaryInTop3: 5 },
      percent: { top1IsPrimary: 50, top1InCategories: 83.33, primaryInTop3: 83.33 },
    });
    expect(report.validation).toEqual(shippedValidationFigures());
  });

  it('covers the 7 days ending at to when from is not given', async () => {
    const response = await fetch(`${api.url}/quality?to=2026-06-12`);
    const report = QualityReportSchema.parse(await response.json());
    expect([report.from, report.to, report.items.length]).toEqual(['2026-06-06', '2026-06-12', 7]);
    expect(report.total.enriched).toBe(6);
  });

  it.each([
    ['from=2026-06-13&to=2026-06-11', 'to', 'must not be before from'],
    ['from=2025-01-01&to=2026-06-11', 'to', 'at most 366 days'],
    ['from=2026-02-30', 'from', ''],
    ['day=2026-06-11', 'day', 'is not a parameter of GET /quality'],
  ])('answers %s with a 400 naming %s', async (query, parameter, message) => {
    const response = await fetch(`${api.url}/quality?${query}`);
    expect(response.status).toBe(400);
    const body = await response.json();
    expect(body).toMatchObject({ error: 'BadRequest', parameter });
    expect(body.message).toContain(message);
  });

  it('gives the days as CSV rows on format=csv', async () => {
    const response = await fetch(`${api.url}/quality?from=2026-06-11&to=2026-06-12&format=csv`);
    expect(response.status).toBe(200);
    const [header, first] = (await response.text()).split('\r\n');
    expect(header).toBe('day,listings,enriched,counts,percent');
    expect(first).toMatch(/^2026-06-11,6,4,/);
  });
});
