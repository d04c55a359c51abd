import { stat } from 'node:fs/promises';
import { HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import {
  ChangeMessageVisibilityBatchCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalHandlers } from '../../local/handlers';
import { drainPipeline, ListingDayConflictError, runIngest } from '../../local/ingest';
import { queueDepth } from '../../local/queue-depth';
import type { LocalStack } from '../../local/stack';
import { ListingFetchError } from '../../shared/fetch/http';
import { MalformedListingError } from '../../shared/pipeline/ingest-listing';
import type { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { type FixtureServer, readListing, startFixtureServer } from '../support/fixture-server';
import { openPipelineTestStack, type PipelineTestStack } from '../support/pipeline-stack';

/**
 * The pipeline end to end: the real handlers, unchanged, against the local
 * stand-ins (dynalite, fauxqs) speaking the AWS protocols, with listings fetched
 * over real HTTP from a fixture server on 127.0.0.1.
 */

const PAGE_SIZE = 12;
let pipeline: PipelineTestStack;
let stack: LocalStack;
let handlers: LocalHandlers;
let upstream: FixtureServer;
let store: DynamoPaperStore;
const flaky = { failuresLeft: 0 };

async function hfApi(url: URL) {
  if (url.pathname === '/static/listing.json') {
    // A static file server: it ignores `p` and answers every page with the same bytes.
    return { body: await readListing('hf-daily-papers-2026-08-03.json') };
  }
  const date = url.searchParams.get('date');
  const limit = Number(url.searchParams.get('limit'));
  const page = Number(url.searchParams.get('p') ?? 0);
  const paged = (items: unknown[]) => ({
    body: JSON.stringify(items.slice(page * limit, (page + 1) * limit)),
  });
  switch (date) {
    case '2026-06-12':
      return paged(JSON.parse((await readListing('hf-daily-papers-2026-06-12.json')).toString()));
    case '2026-07-13':
      return paged(JSON.parse((await readListing('hf-daily-papers-2026-07-10+13.json')).toString()));
    case '2026-06-13':
      return { body: '[]' };
    case '2026-06-14': {
      const whole = await readListing('hf-daily-papers-2026-06-12.json');
      return { body: whole.subarray(0, 5000) };
    }
    case '2026-09-01': {
      // A fresh day no other test ingests: the 06-12 papers, relisted.
      const items = JSON.parse((await readListing('hf-daily-papers-2026-06-12.json')).toString());
      for (const item of items) item.paper.submittedOnDailyAt = '2026-09-01T00:00:00.000Z';
      return paged(items);
    }
    case '2026-08-03':
      if (flaky.failuresLeft-- > 0) return { status: 503, body: 'busy', headers: { 'retry-after': '0' } };
      return paged(JSON.parse((await readListing('hf-daily-papers-2026-08-03.json')).toString()));
    default:
      return { status: 400, body: JSON.stringify({ error: `bad date ${date}` }) };
  }
}

beforeAll(async () => {
  // Prepare: an upstream on loopback, a fresh data folder, the stack, then the handlers configured for both.
  upstream = await startFixtureServer(hfApi);
  pipeline = await openPipelineTestStack(upstream, {
    name: 'pipeline',
    pageSize: PAGE_SIZE,
    fetchMaxAttempts: 3,
  });
  ({ stack, handlers, store } = pipeline);
});

afterAll(async () => {
  await pipeline?.close();
  await upstream?.close();
});

async function listedOn(day: string) {
  const page = await store.papersListedOn(day, { limit: 100 });
  return page.items;
}

const depthOf = (queueUrl: string) => queueDepth(stack.sqs, queueUrl);

describe('the daily ingest', () => {
  it('fetches every page of a day over HTTP, archives it, and stores and classifies every paper', async () => {
    // Act
    const summary = await runIngest(stack, handlers, { date: '2026-06-12' }, { retryDelaySeconds: 0 });

    // Assess: 30 papers came in three pages of at most 12, fetched politely.
    const pages = upstream.requests.filter(
      (request) => request.url.searchParams.get('date') === '2026-06-12',
    );
    expect(pages.map((request) => request.url.searchParams.get('p') ?? '0')).toEqual(['0', '1', '2']);
    expect(pages.every((request) => request.userAgent?.startsWith('daily-papers-pipeline/'))).toBe(true);
    expect(summary).toMatchObject({
      listed: 30,
      new: 30,
      updated: 0,
      deadLettered: { parse: 0, classify: 0 },
    });
    expect(summary.listings.map((listing) => listing.papers)).toEqual([12, 12, 6]);

    const papers = await listedOn('2026-06-12');
    expect(papers).toHaveLength(30);
    const upvotes = papers.map((paper) => paper.upvotes ?? 0);
    expect(upvotes).toEqual([...upvotes].sort((a, b) => b - a));
    expect(upvotes.slice(0, 3)).toEqual([118, 103, 74]);
    expect(papers.every((paper) => paper.primaryCategory && paper.classifierVersion)).toBe(true);

    const days = await store.ingestedDays({ limit: 10 });
    expect(days.items.find((day) => day.day === '2026-06-12')).toMatchObject({ papers: 30, listed: 30 });

    // Each page's raw bytes are archived under the day, with what the fetch knew.
    const archived = await stack.s3.send(
      new ListObjectsV2Command({ Bucket: stack.env.ARCHIVE_BUCKET, Prefix: 'listings/2026/06/12/' }),
    );
    expect(archived.Contents).toHaveLength(3);
    const head = await stack.s3.send(
      new HeadObjectCommand({ Bucket: stack.env.ARCHIVE_BUCKET, Key: summary.listings[0]?.archiveKey }),
    );
    expect(head.Metadata).toMatchObject({
      format: 'hf-api',
      'parse-status': 'parsed',
      'listed-on': '2026-06-12',
    });
  });

  it('stores a response that spans two listing days under each of its days', async () => {
    const summary = await runIngest(stack, handlers, { date: '2026-07-13' }, { retryDelaySeconds: 0 });

    expect(summary.listed).toBe(25);
    expect(await listedOn('2026-07-13')).toHaveLength(14);
    expect(await listedOn('2026-07-10')).toHaveLength(11);
  });

  it('leaves the same rows when the same day is ingested twice, and archives nothing new', async () => {
    const again = await runIngest(stack, handlers, { date: '2026-06-12' }, { retryDelaySeconds: 0 });

    expect(again).toMatchObject({ listed: 30, new: 0, updated: 30 });
    expect(again.listings.every((listing) => listing.archived === false)).toBe(true);
    expect(await listedOn('2026-06-12')).toHaveLength(30);
    const days = await store.ingestedDays({ limit: 10 });
    expect(days.items.find((day) => day.day === '2026-06-12')?.papers).toBe(30);
  });

  it('treats an empty day as normal: archived, nothing sent, nothing failed', async () => {
    const summary = await runIngest(stack, handlers, { date: '2026-06-13' }, { retryDelaySeconds: 0 });

    expect(summary).toMatchObject({ listed: 0, new: 0, deadLettered: { parse: 0, classify: 0 } });
    expect(summary.listings[0]?.format).toBe('hf-api');
    const days = await store.ingestedDays({ limit: 100 });
    expect(days.items.find((day) => day.day === '2026-06-13')).toMatchObject({ papers: 0, listed: 0 });
  });

  it('quarantines a malformed listing, logs it as an error, sends nothing and fails the run so it is retried', async () => {
    // fetch-listing's ERROR line goes to stderr: caught here, it is checked instead of cluttering the run.
    let logged = '';
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      logged += String(chunk);
      return true;
    });
    const run = runIngest(stack, handlers, { date: '2026-06-14' }, { retryDelaySeconds: 0 });
    await run.catch(() => {}).finally(() => stderr.mockRestore());

    expect(logged).toMatch(/"level":"ERROR".*"message":"listing is not a listing; quarantined/);

    await expect(run).rejects.toThrow(MalformedListingError);
    const error = await run.then(
      () => expect.unreachable('the run should fail'),
      (failure: MalformedListingError) => failure,
    );
    expect(error.message).toMatch(/hf-api/);
    expect(error.listing.archiveKey).toMatch(/^quarantine\/2026\/06\/14\//);
    const head = await stack.s3.send(
      new HeadObjectCommand({ Bucket: stack.env.ARCHIVE_BUCKET, Key: error.listing.archiveKey }),
    );
    expect(head.Metadata?.['parse-status']).toBe('malformed');
    // A day whose listing could not be read is not an ingested day.
    const days = await store.ingestedDays({ limit: 100 });
    expect(days.items.map((day) => day.day)).not.toContain('2026-06-14');
    expect(head.ContentLength).toBe(5000);
    expect(await depthOf(stack.queueUrls.parse)).toBe(0);
  });

  it('retries a 503 from the upstream and then ingests the day', async () => {
    flaky.failuresLeft = 2;
    const summary = await runIngest(stack, handlers, { date: '2026-08-03' }, { retryDelaySeconds: 0 });

    const attempts = upstream.requests.filter(
      (request) => request.url.searchParams.get('date') === '2026-08-03',
    );
    expect(attempts).toHaveLength(3);
    expect(summary.listed).toBe(3);
    expect(await listedOn('2026-08-03')).toHaveLength(3);
  });

  it('stops paging when a source answers every page with the same bytes', async () => {
    const url = `${upstream.origin}/static/listing.json?limit=3`;

    const summary = await runIngest(
      stack,
      handlers,
      { date: '2026-08-03', source: url },
      { retryDelaySeconds: 0 },
    );

    expect(
      upstream.requests.filter((request) => request.url.pathname === '/static/listing.json'),
    ).toHaveLength(2);
    expect(summary.listed).toBe(3);
  });

  it('stores a saved file under the day given with --date, and archives it there', async () => {
    // The text page says only "Dec 16"; the day asked for places it.
    const summary = await runIngest(
      stack,
      handlers,
      { date: '2025-12-16', source: 'test/fixtures/listings/hf-papers-page-text.txt' },
      { retryDelaySeconds: 0 },
    );

    expect(summary.listings[0]?.archiveKey).toMatch(/^listings\/2025\/12\/16\//);
    expect(summary).toMatchObject({
      day: '2025-12-16',
      listed: 36,
      new: 36,
      deadLettered: { parse: 0, classify: 0 },
    });
    expect(await listedOn('2025-12-16')).toHaveLength(36);
  });

  it('takes a saved file through fetch-listing over HTTP, for the day the file names itself', async () => {
    // The file spans 2026-07-10 and 2026-07-13: it is the listing of the later day.
    const summary = await runIngest(
      stack,
      handlers,
      { source: 'test/fixtures/listings/hf-daily-papers-2026-07-10+13.json' },
      { retryDelaySeconds: 0 },
    );

    const [listing] = summary.listings;
    expect(summary).toMatchObject({ day: '2026-07-13', listed: 25, deadLettered: { parse: 0, classify: 0 } });
    // Fetched over loopback HTTP, recorded as the file it came from.
    expect(listing?.url).toMatch(
      /^file:\/\/\/.*\/test\/fixtures\/listings\/hf-daily-papers-2026-07-10\+13\.json$/,
    );
    expect(listing?.archiveKey).toMatch(/^listings\/2026\/07\/13\//);
    const head = await stack.s3.send(
      new HeadObjectCommand({ Bucket: stack.env.ARCHIVE_BUCKET, Key: listing?.archiveKey }),
    );
    expect(head.Metadata?.['source-url']).toBe(listing?.url);
    const days = await store.ingestedDays({ limit: 100 });
    // Its capture time is the file's modification time, older than the live fetch of 07-13 above:
    // the day keeps that newer fetch. It counts its own 14 papers; the 11 carried over are filed under 07-10.
    const { mtime } = await stat('test/fixtures/listings/hf-daily-papers-2026-07-10+13.json');
    expect(listing?.fetchedAt).toBe(mtime.toISOString());
    const day = days.items.find((item) => item.day === '2026-07-13');
    expect(day).toMatchObject({ listed: 14 });
    expect(day?.lastFetchedAt && listing && day.lastFetchedAt >= listing.fetchedAt).toBe(true);
    expect(await listedOn('2026-07-10')).toHaveLength(11);
  });

  it('refuses --date for a saved file that names another day, before archiving anything', async () => {
    const request = { date: '2026-08-04', source: 'test/fixtures/listings/hf-daily-papers-2026-08-03.json' };

    await expect(runIngest(stack, handlers, request)).rejects.toThrow(ListingDayConflictError);
    // A text page names its day without a year: the advice keeps the year of the day asked for.
    await expect(
      runIngest(stack, handlers, {
        date: '2025-12-15',
        source: 'test/fixtures/listings/hf-papers-page-text.txt',
      }),
    ).rejects.toThrow(/listing of 2025-12-16, not of --date 2025-12-15.*give --date 2025-12-16/s);
    await expect(runIngest(stack, handlers, request)).rejects.toThrow(
      /listing of 2026-08-03, not of --date 2026-08-04/,
    );

    const archived = await stack.s3.send(
      new ListObjectsV2Command({ Bucket: stack.env.ARCHIVE_BUCKET, Prefix: 'listings/2026/08/04/' }),
    );
    expect(archived.KeyCount ?? 0).toBe(0);
    const days = await store.ingestedDays({ limit: 100 });
    expect(days.items.map((day) => day.day)).not.toContain('2026-08-04');
  });

  it('fails with a ListingFetchError that names the status when the upstream refuses', async () => {
    await expect(runIngest(stack, handlers, { date: '2026-01-01' })).rejects.toThrow(ListingFetchError);
    await expect(runIngest(stack, handlers, { date: '2026-01-01' })).rejects.toThrow(/HTTP 400/);
  });
});

describe('the queue consumers', () => {
  async function parseMessagesFrom(date: string) {
    // Take real parse messages as fetch-listing wrote them, without letting the consumers run.
    await handlers.fetchListing({ date });
    const received = await stack.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: stack.queueUrls.parse, MaxNumberOfMessages: 10 }),
    );
    const messages = received.Messages ?? [];
    // Hand them back at once, so the consumers see them again (a redelivery, as after a crash).
    await stack.sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: stack.queueUrls.parse,
        Entries: messages.map((m, i) => ({
          Id: String(i),
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
    return messages;
  }

  it('stores a paper delivered twice once, and never rolls its upvotes back to an older fetch', async () => {
    // Prepare: the same parse message, then a later fetch with more upvotes, then the first again (late).
    const [message] = await parseMessagesFrom('2026-08-03');
    await drainPipeline(stack, handlers, { retryDelaySeconds: 0 });
    const body = JSON.parse(message?.Body ?? '{}');
    const later = structuredClone(body);
    later.listing.fetchedAt = '2099-01-01T00:00:00.000Z';
    later.item.raw.paper.upvotes = 999;

    // Act
    await stack.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: stack.queueUrls.parse,
        Entries: [
          { Id: 'same', MessageBody: JSON.stringify(body) },
          { Id: 'same-again', MessageBody: JSON.stringify(body) },
        ],
      }),
    );
    await drainPipeline(stack, handlers, { retryDelaySeconds: 0 });
    await stack.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: stack.queueUrls.parse,
        Entries: [{ Id: 'later', MessageBody: JSON.stringify(later) }],
      }),
    );
    await drainPipeline(stack, handlers, { retryDelaySeconds: 0 });
    await stack.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: stack.queueUrls.parse,
        Entries: [{ Id: 'late-duplicate', MessageBody: JSON.stringify(body) }],
      }),
    );
    await drainPipeline(stack, handlers, { retryDelaySeconds: 0 });

    // Assess
    const id = body.item.raw.paper.id as string;
    const record = await store.paperById(id);
    expect(record?.listings).toEqual([expect.objectContaining({ listedOn: '2026-08-03', upvotes: 999 })]);
    expect(await listedOn('2026-08-03')).toHaveLength(3);
    // One category entry per assigned category, however often the paper was classified.
    const assigned = record?.categories?.filter((category) => category.assigned) ?? [];
    expect(assigned.length).toBeGreaterThan(0);
    for (const category of assigned) {
      const entries = await store.papersInCategory(category.code, '2026-08-03', '2026-08-03', { limit: 100 });
      expect(entries.items.filter((paper) => paper.id === id)).toHaveLength(1);
    }
  });

  it('sends a poison message to the dead-letter queue while its batch-mates land', async () => {
    // Prepare: real messages for a day no other test ingests, plus a body that is not JSON and an item of the wrong type.
    const good = await parseMessagesFrom('2026-09-01');
    const entries = good.map((message, i) => ({ Id: `good-${i}`, MessageBody: message.Body ?? '' }));
    const wrongType = JSON.parse(good[0]?.Body ?? '{}');
    wrongType.item.raw = { paper: { id: 42, title: ['not', 'a', 'title'] } };
    entries.push(
      { Id: 'not-json', MessageBody: '{"v":1,' },
      { Id: 'wrong-type', MessageBody: JSON.stringify(wrongType) },
    );
    const dlqBefore = await depthOf(stack.queueUrls.parseDeadLetter);

    // Act: the received copies come back too, alongside the re-sent ones and the poison.
    await stack.sqs.send(
      new SendMessageBatchCommand({ QueueUrl: stack.queueUrls.parse, Entries: entries.slice(0, 10) }),
    );
    if (entries.length > 10) {
      await stack.sqs.send(
        new SendMessageBatchCommand({ QueueUrl: stack.queueUrls.parse, Entries: entries.slice(10) }),
      );
    }
    const reports = await drainPipeline(stack, handlers, { retryDelaySeconds: 0 });

    // Assess: exactly the two bad messages are dead-lettered, at once: nothing was retried.
    expect((await depthOf(stack.queueUrls.parseDeadLetter)) - dlqBefore).toBe(2);
    expect(reports[0]?.failedRecords).toBe(0);
    expect(await depthOf(stack.queueUrls.parse)).toBe(0);
    const papers = await listedOn('2026-09-01');
    expect(papers).toHaveLength(30);
    expect(papers.every((paper) => paper.primaryCategory)).toBe(true);
  });
});
