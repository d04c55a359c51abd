import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drainPipeline, runIngest } from '../../local/ingest';
import type { RequestCounts } from '../../local/stack';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { PaperRecordSchema } from '../../shared/query/response-schemas';
import { type FixtureServer, readListing, startFixtureServer } from '../support/fixture-server';
import { openPipelineTestStack, type PipelineTestStack } from '../support/pipeline-stack';
import { snapshotsOfLatestFetch } from '../support/upvote-snapshots';

/**
 * The daily revisit and the upvote history: a paper listed on 2026-06-12 is fetched on that day
 * and re-fetched by the revisits of the next two days with more upvotes each time; `GET
 * /papers/{id}` gives its three snapshots oldest first. A revisit that finds the same bytes sends
 * nothing and writes nothing (requests counted on the stand-ins).
 */

const DAY = '2026-06-12';
const PAPER = '2606.00467';
/** Another paper of the listing, whose figures never change. */
const OTHER_PAPER = '2606.12730';
let pipeline: PipelineTestStack;
let upstream: FixtureServer;
/** The upvotes and comments the upstream gives {@link PAPER} now. */
let figures = { upvotes: 0, comments: 2 };

beforeAll(async () => {
  const fixture = JSON.parse((await readListing('hf-daily-papers-2026-06-12.json')).toString()) as {
    paper: { id: string; upvotes: number };
    numComments: number;
  }[];
  upstream = await startFixtureServer((url) => {
    if (url.searchParams.get('date') !== DAY) return { body: '[]' }; // the days after: nothing listed yet
    const items = structuredClone(fixture);
    for (const item of items) {
      if (item.paper.id !== PAPER) continue;
      item.paper.upvotes = figures.upvotes;
      item.numComments = figures.comments;
    }
    return { body: JSON.stringify(items) };
  });
  pipeline = await openPipelineTestStack(upstream, { name: 'upvote-history', pageSize: 100 });
}, 60_000);

afterAll(async () => {
  await pipeline?.close();
  await upstream?.close();
});

function requestsSince(before: RequestCounts): Record<string, number> {
  const after = pipeline.stack.requestCounts();
  const counts: Record<string, number> = {};
  for (const service of ['dynamodb', 'sqs', 's3'] as const) {
    for (const [operation, n] of Object.entries(after[service])) {
      const delta = n - (before[service][operation] ?? 0);
      if (delta > 0) counts[`${service}.${operation}`] = delta;
    }
  }
  return counts;
}

async function getPaper(id: string) {
  const response = await pipeline.handlers.query({
    rawPath: `/papers/${id}`,
    rawQueryString: '',
    requestContext: { http: { method: 'GET' } },
  } as never);
  expect(response.statusCode).toBe(200);
  return PaperRecordSchema.parse(JSON.parse(String(response.body)));
}

const snapshots = () =>
  snapshotsOfLatestFetch(
    makeDocumentClient(pipeline.stack.env.AWS_ENDPOINT_URL_DYNAMODB),
    pipeline.stack.env.TABLE_NAME ?? '',
    pipeline.store,
    DAY,
  );

describe('the upvote history of a paper fetched on three days', () => {
  it('lists every fetch that changed its figures, oldest first, and the latest on its listing', async () => {
    // Day 1: the day's own run.
    const first = await runIngest(pipeline.stack, pipeline.handlers, { date: DAY }, { retryDelaySeconds: 0 });
    expect(first.new).toBe(30);
    expect(await snapshots()).toBe(30); // every listing's first capture

    // Days 2 and 3: their runs revisit 2026-06-12 (1, then 2 days back) and find more upvotes.
    figures = { upvotes: 12, comments: 3 };
    const second = await runIngest(
      pipeline.stack,
      pipeline.handlers,
      { date: '2026-06-13', revisitDays: 1 },
      { retryDelaySeconds: 0 },
    );
    expect(second.listings.map((listing) => [listing.listedOn, listing.archived, listing.fannedOut])).toEqual(
      [
        ['2026-06-13', true, true],
        [DAY, true, true],
      ],
    );
    expect(second.updated).toBe(30);
    expect(await snapshots()).toBe(1); // only the paper whose figures moved

    figures = { upvotes: 20, comments: 3 };
    await runIngest(
      pipeline.stack,
      pipeline.handlers,
      { date: '2026-06-14', revisitDays: 2 },
      { retryDelaySeconds: 0 },
    );
    expect(await snapshots()).toBe(1);

    const paper = await getPaper(PAPER);
    expect(
      paper.upvoteHistory.map(({ listedOn, upvotes, comments }) => ({ listedOn, upvotes, comments })),
    ).toEqual([
      { listedOn: DAY, upvotes: 0, comments: 2 },
      { listedOn: DAY, upvotes: 12, comments: 3 },
      { listedOn: DAY, upvotes: 20, comments: 3 },
    ]);
    const times = paper.upvoteHistory.map((snapshot) => Date.parse(snapshot.fetchedAt));
    expect([...times].sort((a, b) => a - b)).toEqual(times);
    expect(new Set(times).size).toBe(3);
    expect(paper.listings).toEqual([
      { listedOn: DAY, upvotes: 20, comments: 3, fetchedAt: paper.upvoteHistory[2]?.fetchedAt },
    ]);
    // A paper whose figures never moved has its first capture alone.
    expect((await getPaper(OTHER_PAPER)).upvoteHistory).toHaveLength(1);
  });

  it('sends and writes nothing when a revisit finds the bytes it archived before', async () => {
    const before = pipeline.stack.requestCounts();
    const report = await pipeline.handlers.fetchListing({
      scheduledTime: '2026-06-15T23:30:00Z',
      daysAgo: 3,
    });

    expect(
      report.listings.map((listing) => [
        listing.listedOn,
        listing.papers,
        listing.archived,
        listing.fannedOut,
      ]),
    ).toEqual([[DAY, 30, false, false]]);
    // The archive's HEAD finds the bytes; the day record's conditional update (which keeps the
    // newer fetch) is the one write. No message, no object, no listing written.
    expect(requestsSince(before)).toEqual({ 's3.HEAD': 1, 'dynamodb.UpdateItem': 1 });

    const drained = pipeline.stack.requestCounts();
    const consumers = await drainPipeline(pipeline.stack, pipeline.handlers, { retryDelaySeconds: 0 });
    expect(consumers.reduce((sum, consumer) => sum + consumer.records, 0)).toBe(0);
    expect(Object.keys(requestsSince(drained)).sort()).toEqual([
      'sqs.GetQueueAttributes',
      'sqs.ReceiveMessage',
    ]);
    expect((await getPaper(PAPER)).upvoteHistory).toHaveLength(3);
  });

  it('fans an unchanged listing out again when the run is not a revisit (a rerun must finish a fan-out)', async () => {
    const before = pipeline.stack.requestCounts();
    const report = await pipeline.handlers.fetchListing({ date: DAY });

    expect(report.listings.map((listing) => [listing.archived, listing.fannedOut])).toEqual([[false, true]]);
    expect(requestsSince(before)['sqs.SendMessageBatch']).toBe(3); // 30 papers, 10 a batch
    await drainPipeline(pipeline.stack, pipeline.handlers, { retryDelaySeconds: 0 });
  });
});
