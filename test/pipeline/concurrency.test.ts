import { randomUUID } from 'node:crypto';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LocalHandlers } from '../../local/handlers';
import { localLambdaContext } from '../../local/http-adapter';
import { drainPipeline, runIngest } from '../../local/ingest';
import type { LocalStack } from '../../local/stack';
import { makeDocumentClient } from '../../shared/aws/dynamodb';
import { canonicalCategory } from '../../shared/classify/taxonomy';
import type { ParseMessage } from '../../shared/messages';
import type { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { type FixtureServer, readListing, startFixtureServer } from '../support/fixture-server';
import { openPipelineTestStack, type PipelineTestStack } from '../support/pipeline-stack';

/**
 * Work that overlaps with itself, as at-least-once delivery and a re-run make it: the
 * real handlers against the stand-ins, then the table read back item by item.
 */

const PAGE_SIZE = 12;
let pipeline: PipelineTestStack;
let stack: LocalStack;
let handlers: LocalHandlers;
let store: DynamoPaperStore;
let upstream: FixtureServer;
let hfItems: { paper: { id: string; submittedOnDailyAt: string; upvotes: number } }[];
/** Responses served so far, per listing page: each serve of a page gives its papers more upvotes. */
const serves = new Map<string, number>();

beforeAll(async () => {
  hfItems = JSON.parse((await readListing('hf-daily-papers-2026-06-12.json')).toString());
  upstream = await startFixtureServer((url) => {
    const date = url.searchParams.get('date') ?? '';
    const page = Number(url.searchParams.get('p') ?? 0);
    const served = (serves.get(`${date}#${page}`) ?? 0) + 1;
    serves.set(`${date}#${page}`, served);
    const items = structuredClone(hfItems).slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE);
    for (const item of items) {
      item.paper.submittedOnDailyAt = `${date}T00:00:00.000Z`;
      item.paper.upvotes += 1000 * served;
    }
    return { body: JSON.stringify(items) };
  });
  pipeline = await openPipelineTestStack(upstream, { name: 'concurrency', pageSize: PAGE_SIZE });
  ({ stack, handlers, store } = pipeline);
});

afterAll(async () => {
  await pipeline?.close();
  await upstream?.close();
});

/** Every item of a paper's partition, straight from the table. */
async function partition(id: string): Promise<Record<string, unknown>[]> {
  const result = await makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB).send(
    new QueryCommand({
      TableName: stack.env.TABLE_NAME,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': `PAPER#${id}` },
      ConsistentRead: true,
    }),
  );
  return result.Items ?? [];
}

/** One listing item on `day`, and exactly the category entries on `day` its stored classification assigns. */
async function expectOneListingWithItsEntries(id: string, day: string): Promise<Record<string, unknown>> {
  const items = (await partition(id)).filter((item) => String(item.sk).endsWith(`#${day}`));
  const listings = items.filter((item) => String(item.sk).startsWith('LISTED#'));
  expect(listings.map((item) => item.sk)).toEqual([`LISTED#${day}`]);
  const listing = listings[0] as Record<string, unknown> & {
    classification?: { categories: { code: string; assigned: boolean }[] };
  };
  const assigned = new Set(
    (listing.classification?.categories ?? [])
      .filter((category) => category.assigned)
      .map((category) => canonicalCategory(category.code)),
  );
  expect(assigned.size, `${id} is classified`).toBeGreaterThan(0);
  const entries = items.filter((item) => String(item.sk).startsWith('CATEGORY#')).map((item) => item.sk);
  expect(entries.sort()).toEqual([...assigned].map((code) => `CATEGORY#${code}#${day}`).sort());
  return listing;
}

async function deadLetterDepth(): Promise<number> {
  let depth = 0;
  for (const queueUrl of [stack.queueUrls.parseDeadLetter, stack.queueUrls.classifyDeadLetter]) {
    const { Attributes } = await stack.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    depth += Number(Attributes?.ApproximateNumberOfMessages ?? 0);
  }
  return depth;
}

function sqsEvent(body: string): SQSEvent {
  return {
    Records: [
      {
        messageId: randomUUID(),
        receiptHandle: randomUUID(),
        body,
        attributes: {
          ApproximateReceiveCount: '1',
          SentTimestamp: String(Date.now()),
          SenderId: 'test',
          ApproximateFirstReceiveTimestamp: String(Date.now()),
        },
        messageAttributes: {},
        md5OfBody: '',
        eventSource: 'aws:sqs',
        eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:daily-papers-parse',
        awsRegion: 'us-east-1',
      },
    ],
  };
}

describe('the same message delivered twice at once', () => {
  it('stores one listing, counts it once and indexes it once', async () => {
    // Prepare
    const day = '2026-11-02';
    const raw = structuredClone(hfItems[0]);
    if (!raw) throw new Error('no fixture item');
    raw.paper.submittedOnDailyAt = `${day}T00:00:00.000Z`;
    const message: ParseMessage = {
      v: 1,
      listing: { archiveKey: 'listings/2026/11/02/x.json', fetchedAt: `${day}T12:00:00.000Z`, listedOn: day },
      item: { format: 'hf-api', index: 0, raw },
    };
    const body = JSON.stringify(message);
    const before = await deadLetterDepth();

    // Act: two invocations of parse-paper with the same message, at once; then their two classify messages.
    const responses = await Promise.all([
      handlers.parsePaper(sqsEvent(body), localLambdaContext('parse-paper')),
      handlers.parsePaper(sqsEvent(body), localLambdaContext('parse-paper')),
    ]);
    await drainPipeline(stack, handlers, { retryDelaySeconds: 0 });

    // Assess
    expect(responses.flatMap((response) => response.batchItemFailures)).toEqual([]);
    await expectOneListingWithItsEntries(raw.paper.id, day);
    const days = await store.ingestedDays({ limit: 100 });
    expect(days.items.find((entry) => entry.day === day)?.papers).toBe(1);
    expect(await deadLetterDepth()).toBe(before);
  });
});

describe('two runs for the same day at once', () => {
  it('leave every paper once, with the figures and categories of its newest fetch', async () => {
    // Prepare
    const day = '2026-11-03';
    const before = await deadLetterDepth();

    // Act
    const runs = await Promise.all([
      runIngest(stack, handlers, { date: day }, { retryDelaySeconds: 0 }),
      runIngest(stack, handlers, { date: day }, { retryDelaySeconds: 0 }),
    ]);

    // Assess: what each run fetched, page by page, read back from the archive.
    const fetched = new Map<string, { fetchedAt: string; upvotes: number }[]>();
    for (const listing of runs.flatMap((run) => run.listings)) {
      const object = await stack.s3.send(
        new GetObjectCommand({ Bucket: stack.env.ARCHIVE_BUCKET, Key: listing.archiveKey }),
      );
      const items = JSON.parse(await (object.Body?.transformToString() ?? '[]')) as typeof hfItems;
      for (const item of items) {
        const seen = fetched.get(item.paper.id) ?? [];
        seen.push({ fetchedAt: listing.fetchedAt, upvotes: item.paper.upvotes });
        fetched.set(item.paper.id, seen);
      }
    }
    expect(fetched.size).toBe(30);
    expect([...fetched.values()].every((seen) => seen.length === 2)).toBe(true);

    const onDay = (await store.papersListedOn(day, { limit: 100 })).items;
    expect(onDay.map((paper) => paper.id).sort()).toEqual([...fetched.keys()].sort());
    for (const [id, seen] of fetched) {
      const newest = seen.reduce((a, b) => (b.fetchedAt > a.fetchedAt ? b : a));
      const listing = await expectOneListingWithItsEntries(id, day);
      expect(listing.fetchedAt, id).toBe(newest.fetchedAt);
      // Two fetches in the same millisecond are equally new: either may stand, never an older one.
      const equallyNew = seen.filter((fetch) => fetch.fetchedAt === newest.fetchedAt).map((f) => f.upvotes);
      expect(equallyNew, id).toContain(listing.upvotes);
      expect(listing.classifiedFrom, id).toBe(newest.fetchedAt);
    }
    const days = await store.ingestedDays({ limit: 100 });
    expect(days.items.find((entry) => entry.day === day)).toMatchObject({ papers: 30, listed: 30 });
    expect(await deadLetterDepth()).toBe(before);
  });
});
