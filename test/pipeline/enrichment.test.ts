/**
 * Enrichment from the arXiv export API, end to end: the real handlers on the local stack, HF
 * listings from one server on 127.0.0.1 and arXiv's answers from another (`arxiv-server.ts`,
 * entries from the real export-API fixture), and the end state read back from the table and the
 * archive. arXiv's spacing is 300 ms here (3 s by default) so the test can measure it.
 */
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runEnrich, runReplay } from '../../local/history';
import { drainPipeline, runIngest } from '../../local/ingest';
import { archivedArxivEnrichment } from '../../shared/arxiv/enrich';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import type { ListedPaper } from '../../shared/store/items';
import { type ArxivServer, startArxivServer } from '../support/arxiv-server';
import { type FixtureServer, readListing, startFixtureServer } from '../support/fixture-server';
import { openPipelineTestStack, type PipelineTestStack } from '../support/pipeline-stack';

const SPACING_MS = 300;

interface HfItem {
  paper: { id: string; submittedOnDailyAt: string; upvotes: number };
}

let hfItems: HfItem[];
/** Upvotes added to every paper of a day on its next fetch (a changed listing). */
const bumps = new Map<string, number>();

/** `count` papers listed on `day`: the 2026-06-12 fixture's, under ids of that day. */
function listingOf(day: string, count: number): HfItem[] {
  const [, month = '01', dd = '01'] = day.split('-');
  return Array.from({ length: count }, (_, i) => {
    const item = structuredClone(hfItems[i % hfItems.length] as HfItem);
    item.paper.id = `26${month}.${dd}${String(i).padStart(3, '0')}`;
    item.paper.submittedOnDailyAt = `${day}T00:00:00.000Z`;
    item.paper.upvotes += bumps.get(day) ?? 0;
    return item;
  });
}

const DAYS: Record<string, number> = {
  '2026-09-01': 30, // all on arXiv
  '2026-09-02': 150, // more than 100 ids in one listing: two requests
  '2026-09-03': 30, // some ids unknown to arXiv
  '2026-09-04': 30, // arXiv answers 503, then recovers
  '2026-09-05': 30, // arXiv hangs
  '2026-09-07': 20, // two runs at once
  '2026-09-08': 20,
  '2026-09-10': 10, // categories change on re-enrichment
  '2026-09-11': 10, // pending, then the daily run's revisit enriches it
};

let hf: FixtureServer;
let arxiv: ArxivServer;
let closed = false;
let pipeline: PipelineTestStack;

beforeAll(async () => {
  hfItems = JSON.parse((await readListing('hf-daily-papers-2026-06-12.json')).toString());
  hf = await startFixtureServer((url) => {
    const day = url.searchParams.get('date') ?? '';
    const count = DAYS[day];
    if (count === undefined) return { status: 400, body: '{"error":"bad date"}' };
    return { body: JSON.stringify(listingOf(day, count)) };
  });
  arxiv = await startArxivServer();
  process.env.ARXIV_API_URL = arxiv.url;
  process.env.ARXIV_REQUEST_SPACING_MS = String(SPACING_MS);
  process.env.ARXIV_TIMEOUT_MS = '800';
  process.env.ARXIV_MAX_ATTEMPTS = '2';
  pipeline = await openPipelineTestStack(hf, { name: 'enrich', pageSize: 200 });
});

afterAll(async () => {
  await pipeline?.close();
  await hf?.close();
  if (!closed) await arxiv?.close();
});

const ingest = (date: string) =>
  runIngest(pipeline.stack, pipeline.handlers, { date }, { retryDelaySeconds: 0 });

/** Every paper of the day, page by page (a page ends at DynamoDB's 1 MB of items read, whatever the limit). */
async function listedOn(day: string): Promise<ListedPaper[]> {
  const papers: ListedPaper[] = [];
  let cursor: string | undefined;
  do {
    const page = await pipeline.store.papersListedOn(day, { limit: 200, cursor }, 'id');
    papers.push(...page.items);
    cursor = page.cursor;
  } while (cursor !== undefined);
  return papers;
}

function requestsFor(day: string) {
  const [, month = '', dd = ''] = day.split('-');
  return arxiv.requests.filter((request) => request.ids.some((id) => id.startsWith(`26${month}.${dd}`)));
}

/** Every two requests start at least the spacing apart, and none starts before the one before it ended. */
function expectSpaced(requests: readonly { startedAt: number; endedAt?: number }[]) {
  const sorted = [...requests].sort((a, b) => a.startedAt - b.startedAt);
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1] as (typeof sorted)[number];
    const current = sorted[i] as (typeof sorted)[number];
    // 5 ms of slack for the two clocks (the gate's and the server's) being read at different moments.
    expect(current.startedAt - previous.startedAt).toBeGreaterThanOrEqual(SPACING_MS - 5);
    expect(current.startedAt).toBeGreaterThanOrEqual((previous.endedAt ?? Number.POSITIVE_INFINITY) - 5);
  }
}

describe('a listing whose papers are all on arXiv', () => {
  it('stores arXiv’s categories, primary first, with the model’s prediction beside them', async () => {
    // Act
    const summary = await ingest('2026-09-01');

    // Assess: one request for 30 ids, every paper enriched from it
    expect(summary.deadLettered).toEqual({ parse: 0, classify: 0 });
    const [request] = requestsFor('2026-09-01');
    expect(requestsFor('2026-09-01')).toHaveLength(1);
    expect(request?.ids).toHaveLength(30);
    expect(request?.maxResults).toBe(30);
    expect(request?.userAgent).toMatch(/daily-papers-pipeline\/\S+ \(\+https:\/\//);
    const papers = await listedOn('2026-09-01');
    expect(papers).toHaveLength(30);
    for (const paper of papers) {
      const expected = arxiv.categoriesOf(paper.id);
      expect(paper.categorySource).toBe('arxiv');
      expect(paper.enrichment).toBe('enriched');
      expect(paper.categories?.map((category) => category.code)).toEqual(expected);
      expect(paper.primaryCategory).toBe(expected[0]);
      expect(paper.categories?.every((category) => category.score === 1 && category.assigned)).toBe(true);
      expect(paper.arxiv?.categories).toEqual(expected);
      expect(paper.arxiv?.version).toBe(2);
      expect(paper.arxiv?.atomArchiveKey).toMatch(/^arxiv\/2026\/09\/01\/[0-9a-f]{64}\.xml$/);
      expect(paper.predictedCategories?.length).toBeGreaterThan(0);
      expect(paper.classifierVersion).toBeTruthy();
    }
    // The fixture's entries carry a comment and the DOI of some: they come through.
    expect(papers.some((paper) => paper.arxiv?.comment)).toBe(true);
    // The category entries follow arXiv's categories.
    const [first] = papers;
    const primary = first?.primaryCategory ?? '';
    const inPrimary = await pipeline.store.papersInCategory(primary, '2026-09-01', '2026-09-01', {
      limit: 100,
    });
    expect(inPrimary.items.map((paper) => paper.id)).toContain(first?.id);
    expect(inPrimary.items.every((paper) => paper.categorySource === 'arxiv')).toBe(true);
  });

  it('asks once per 100 ids: a listing of 150 arXiv papers costs two requests', async () => {
    await ingest('2026-09-02');

    const requests = requestsFor('2026-09-02');
    expect(requests.map((request) => request.ids.length)).toEqual([100, 50]);
    expectSpaced(requests);
    const papers = await listedOn('2026-09-02');
    expect(papers).toHaveLength(150);
    expect(papers.every((paper) => paper.enrichment === 'enriched')).toBe(true);
  });

  it('holds the spacing and one request at a time under two fetch-listing runs at once', async () => {
    // Act: two days fetched at once, as a backfill's Map or a revisit overlapping the daily run
    // does, with arXiv failing the first request (whichever run makes it; that run retries).
    arxiv.failNext.push(503);
    await Promise.all([
      pipeline.handlers.fetchListing({ date: '2026-09-07' }),
      pipeline.handlers.fetchListing({ date: '2026-09-08' }),
    ]);
    await drainPipeline(pipeline.stack, pipeline.handlers, { retryDelaySeconds: 0 });

    // Assess
    const requests = [...requestsFor('2026-09-07'), ...requestsFor('2026-09-08')];
    // One 503 and one answer per listing, one at a time.
    expect(requests.map((request) => request.ids.length)).toEqual([20, 20, 20]);
    expectSpaced(requests);
    for (const day of ['2026-09-07', '2026-09-08']) {
      expect((await listedOn(day)).every((paper) => paper.enrichment === 'enriched')).toBe(true);
    }
  });
});

describe('arXiv answering without some ids', () => {
  it('stores those with the model’s categories, marked missing; the rest enriched', async () => {
    const unknown = ['2609.03001', '2609.03017', '2609.03029'];
    for (const id of unknown) arxiv.unknown.add(id);

    const summary = await ingest('2026-09-03');

    expect(summary.deadLettered).toEqual({ parse: 0, classify: 0 });
    const papers = await listedOn('2026-09-03');
    expect(papers).toHaveLength(30);
    for (const paper of papers) {
      if (unknown.includes(paper.id)) {
        expect(paper).toMatchObject({ enrichment: 'missing', categorySource: 'model' });
        expect(paper.arxiv).toBeUndefined();
        expect(paper.categories).toEqual(paper.predictedCategories);
      } else expect(paper).toMatchObject({ enrichment: 'enriched', categorySource: 'arxiv' });
    }
  });
});

describe('arXiv answering 503, then recovering', () => {
  it('retries and enriches every paper', async () => {
    arxiv.failNext.push(503);
    const before = arxiv.requests.length;

    await ingest('2026-09-04');

    expect(arxiv.requests.length - before).toBe(2);
    expect((await listedOn('2026-09-04')).every((paper) => paper.enrichment === 'enriched')).toBe(true);
  });
});

describe('arXiv hanging', () => {
  it('never stalls the pipeline: the papers are stored pending, and papers enrich fills them later', async () => {
    // Act 1: arXiv takes the request and never answers
    arxiv.hang = true;
    const summary = await ingest('2026-09-05');
    arxiv.hang = false;

    // Assess 1: every paper stored, with the model's categories, pending
    expect(summary).toMatchObject({ listed: 30, deadLettered: { parse: 0, classify: 0 } });
    const pending = await listedOn('2026-09-05');
    expect(pending).toHaveLength(30);
    expect(pending.every((paper) => paper.enrichment === 'pending' && paper.categorySource === 'model')).toBe(
      true,
    );

    // Act 2: arXiv is back
    const report = await runEnrich(pipeline.stack, pipeline.handlers, ['2026-09-04', '2026-09-05'], {
      retryDelaySeconds: 0,
    });

    // Assess 2: only the pending papers were asked about, in one request, and stored enriched
    expect(report).toMatchObject({ pending: 30, enriched: 30, missing: 0, stillPending: 0, deadLettered: 0 });
    expect(arxiv.requests.at(-1)?.ids).toHaveLength(30);
    const enriched = await listedOn('2026-09-05');
    for (const paper of enriched) {
      expect(paper).toMatchObject({ enrichment: 'enriched', categorySource: 'arxiv' });
      expect(paper.categories?.map((category) => category.code)).toEqual(arxiv.categoriesOf(paper.id));
    }
    // The model's categories' entries are gone where arXiv's differ.
    for (const paper of enriched) {
      for (const predicted of paper.predictedCategories ?? []) {
        if (!predicted.assigned || arxiv.categoriesOf(paper.id).includes(predicted.code)) continue;
        const entries = await pipeline.store.papersInCategory(predicted.code, '2026-09-05', '2026-09-05', {
          limit: 100,
        });
        expect(entries.items.map((entry) => entry.id)).not.toContain(paper.id);
      }
    }
  });
});

describe('the daily run’s revisit of a past day', () => {
  it('asks arXiv again about the day’s pending papers when the listing did not change', async () => {
    // Prepare: the day stored while arXiv hung
    arxiv.hang = true;
    await ingest('2026-09-11');
    arxiv.hang = false;
    expect((await listedOn('2026-09-11')).every((paper) => paper.enrichment === 'pending')).toBe(true);
    const before = arxiv.requests.length;

    // Act: the revisit schedule's event the next day (same bytes: nothing fanned out)
    const report = await pipeline.handlers.fetchListing({
      scheduledTime: '2026-09-12T23:50:00Z',
      daysAgo: 1,
    });
    await drainPipeline(pipeline.stack, pipeline.handlers, { retryDelaySeconds: 0 });

    // Assess
    expect(report.listings.every((listing) => !listing.fannedOut)).toBe(true);
    expect(report.pendingEnriched).toEqual({ pending: 10, enriched: 10, missing: 0, stillPending: 0 });
    expect(arxiv.requests.length - before).toBe(1);
    expect((await listedOn('2026-09-11')).every((paper) => paper.enrichment === 'enriched')).toBe(true);
  });
});

describe('a paper whose categories change on re-enrichment', () => {
  it('drops the entries of the categories it lost and writes those it gained', async () => {
    await ingest('2026-09-10');
    const id = '2609.10000';
    const before = (await listedOn('2026-09-10')).find((paper) => paper.id === id);
    const lost = before?.primaryCategory ?? '';
    expect(before?.categorySource).toBe('arxiv');
    expect(
      (await pipeline.store.papersInCategory(lost, '2026-09-10', '2026-09-10', { limit: 100 })).items.map(
        (paper) => paper.id,
      ),
    ).toContain(id);

    // Act: arXiv now lists it elsewhere, and a changed listing (new upvotes) is fetched again.
    const gained = lost === 'q-bio.NC' ? 'astro-ph.CO' : 'q-bio.NC';
    arxiv.setCategories(id, [gained, 'stat.ML']);
    bumps.set('2026-09-10', 5);
    await ingest('2026-09-10');

    // Assess
    const after = (await listedOn('2026-09-10')).find((paper) => paper.id === id);
    expect(after?.categories?.map((category) => category.code)).toEqual([gained, 'stat.ML']);
    const inLost = await pipeline.store.papersInCategory(lost, '2026-09-10', '2026-09-10', { limit: 100 });
    expect(inLost.items.map((paper) => paper.id)).not.toContain(id);
    const inGained = await pipeline.store.papersInCategory(gained, '2026-09-10', '2026-09-10', {
      limit: 100,
    });
    expect(inGained.items.map((paper) => paper.id)).toEqual([id]);
  });
});

describe('replay', () => {
  it('reproduces the enrichment from the archived Atom with arXiv stopped', async () => {
    // Prepare: what the live run stored, then the day's listings removed; arXiv gone.
    const day = '2026-09-01';
    const stored = await listedOn(day);
    const client = makeDocumentClient(pipeline.stack.env.AWS_ENDPOINT_URL_DYNAMODB);
    for (const paper of stored) {
      await client.send(
        new DeleteCommand({
          TableName: pipeline.stack.env.TABLE_NAME,
          Key: { pk: `PAPER#${paper.id}`, sk: `LISTED#${day}` },
        }),
      );
    }
    expect(await listedOn(day)).toHaveLength(0);
    await arxiv.close();
    closed = true;
    const requestsBefore = arxiv.requests.length;

    // Act
    const report = await runReplay(pipeline.stack, pipeline.handlers, [day], { retryDelaySeconds: 0 });

    // Assess: the same categories and arXiv fields, from the same archived answer, no request
    expect(report.deadLettered).toEqual({ parse: 0, classify: 0 });
    expect(arxiv.requests.length).toBe(requestsBefore);
    const replayed = await listedOn(day);
    const view = (papers: ListedPaper[]) =>
      papers.map(({ id, categories, categorySource, arxiv: record, enrichment }) => ({
        id,
        categories,
        categorySource,
        arxiv: record,
        enrichment,
      }));
    expect(view(replayed)).toEqual(view(stored));
    // And the archive holds the day's answer under its own prefix.
    const listed = await pipeline.stack.s3.send(
      new ListObjectsV2Command({ Bucket: pipeline.stack.env.ARCHIVE_BUCKET, Prefix: 'arxiv/2026/09/01/' }),
    );
    expect(listed.Contents).toHaveLength(1);
    const fromArchive = await archivedArxivEnrichment({
      s3: pipeline.stack.s3,
      bucket: pipeline.stack.env.ARCHIVE_BUCKET ?? '',
    })(
      stored.map((paper) => paper.id),
      day,
    );
    expect([...fromArchive.values()].every((enrichment) => enrichment.state === 'enriched')).toBe(true);
  });
});
