import { mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { LocalHandlers } from '../../local/handlers';
import { runIngest } from '../../local/ingest';
import { queueDepth } from '../../local/queue-depth';
import type { LocalStack } from '../../local/stack';
import { PaperParseError } from '../../shared/listing';
import { parseListedPaper } from '../../shared/pipeline/parse-stage';
import { sendMessages } from '../../shared/queue';
import type { DynamoPaperStore } from '../../shared/store/dynamo-paper-store';
import { type FixtureServer, readListing, startFixtureServer } from '../support/fixture-server';
import { openPipelineTestStack, type PipelineTestStack } from '../support/pipeline-stack';

/**
 * fetch-listing under the ways a day can be lost or filed wrong: the real handlers against the
 * local stand-ins, listings over real HTTP from 127.0.0.1, and the end state read back from the
 * table, the queues and the archive.
 */

let pipeline: PipelineTestStack;
let stack: LocalStack;
let handlers: LocalHandlers;
let upstream: FixtureServer;
let store: DynamoPaperStore;
let filesDir: string;
const refetches = new Map<string, number>();

type HfItem = {
  paper: { id: string; submittedOnDailyAt: string; upvotes: number; authors: unknown[]; summary: string };
  summary: string;
};

async function itemsOf(fixture: string, day?: string): Promise<HfItem[]> {
  const items = JSON.parse((await readListing(fixture)).toString()) as HfItem[];
  if (day) for (const item of items) item.paper.submittedOnDailyAt = `${day}T00:00:00.000Z`;
  return items;
}

/** A collaboration paper as the HF API gives it: 3,500 authors and a long abstract, over SQS's 256 KiB. */
function collaborationPaper(day: string): HfItem {
  const summary = `We report a measurement. ${'The detector recorded collisions at high luminosity. '.repeat(600)}`;
  return {
    paper: {
      id: '2608.99999',
      title: 'A measurement by a very large collaboration',
      summary,
      authors: Array.from({ length: 3_500 }, (_, i) => ({
        _id: `6a6b035d4463a8a84b${String(i).padStart(6, '0')}`,
        name: `Author Number${i} Collaborator`,
        hidden: false,
      })),
      publishedAt: `${day}T00:00:00.000Z`,
      submittedOnDailyAt: `${day}T00:00:00.000Z`,
      upvotes: 7,
    },
    title: 'A measurement by a very large collaboration',
    summary,
    publishedAt: `${day}T00:00:00.000Z`,
    numComments: 1,
  } as unknown as HfItem;
}

async function hfApi(url: URL) {
  const date = url.searchParams.get('date') ?? '';
  switch (date) {
    case '2026-08-05':
      return {
        body: JSON.stringify([
          ...(await itemsOf('hf-daily-papers-2026-08-03.json', date)),
          collaborationPaper(date),
        ]),
      };
    case '2026-08-06':
      return {
        body: '<!DOCTYPE html><html><head><title>503 Service Unavailable</title></head><body>CDN error</body></html>',
        contentType: 'text/html',
      };
    case '2026-08-07':
      return { body: '' };
    case '2026-08-08':
      return { body: (await readListing('hf-daily-papers-2026-08-03.json')).subarray(0, 3000) };
    case '2026-07-13':
      return { body: await readListing('hf-daily-papers-2026-07-10+13.json') };
    case '2026-08-10': {
      // The day's listing, then an empty answer for the same day (an upstream hiccup).
      const seen = refetches.get(date) ?? 0;
      refetches.set(date, seen + 1);
      return {
        body: seen === 0 ? JSON.stringify(await itemsOf('hf-daily-papers-2026-08-03.json', date)) : '[]',
      };
    }
    default:
      return { status: 400, body: JSON.stringify({ error: `bad date ${date}` }) };
  }
}

beforeAll(async () => {
  upstream = await startFixtureServer(hfApi);
  pipeline = await openPipelineTestStack(upstream, { name: 'fetch', pageSize: 100, fetchMaxAttempts: 2 });
  ({ stack, handlers, store } = pipeline);
  filesDir = await mkdtemp(path.join(os.tmpdir(), 'papers-fetch-files-'));
});

afterAll(async () => {
  await pipeline?.close();
  await upstream?.close();
  if (filesDir) await rm(filesDir, { recursive: true, force: true });
});

const ingest = (request: Parameters<typeof runIngest>[2]) =>
  runIngest(stack, handlers, request, { retryDelaySeconds: 0 });

/** Runs `act` with stderr caught (fetch-listing logs a quarantined listing as an ERROR): returns what it logged. */
async function stderrOf(act: () => Promise<unknown>): Promise<string> {
  let logged = '';
  const stderr = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
    logged += String(chunk);
    return true;
  });
  try {
    await act();
  } finally {
    stderr.mockRestore();
  }
  return logged;
}

async function listedOn(day: string) {
  return (await store.papersListedOn(day, { limit: 100 })).items;
}

async function dayRecord(day: string) {
  return (await store.ingestedDays({ limit: 100 })).items.find((item) => item.day === day);
}

async function archivedUnder(prefix: string) {
  const listed = await stack.s3.send(
    new ListObjectsV2Command({ Bucket: stack.env.ARCHIVE_BUCKET, Prefix: prefix }),
  );
  return listed.Contents ?? [];
}

async function metadataOf(key: string | undefined) {
  const head = await stack.s3.send(new HeadObjectCommand({ Bucket: stack.env.ARCHIVE_BUCKET, Key: key }));
  return head.Metadata ?? {};
}

const visible = (queueUrl: string) => queueDepth(stack.sqs, queueUrl);

async function saved(name: string, items: unknown[]): Promise<string> {
  const file = path.join(filesDir, name);
  await writeFile(file, JSON.stringify(items));
  return file;
}

describe('an item over the SQS message limit', () => {
  it('goes as a reference to the archive, and every paper of the day is stored', async () => {
    // Prepare: the raw item alone is over 256 KiB.
    expect(Buffer.byteLength(JSON.stringify(collaborationPaper('2026-08-05')))).toBeGreaterThan(256 * 1024);

    // Act
    const summary = await ingest({ date: '2026-08-05' });

    // Assess: all four papers stored, the big one whole, nothing dead-lettered.
    expect(summary).toMatchObject({ listed: 4, new: 4, deadLettered: { parse: 0, classify: 0 } });
    const papers = await listedOn('2026-08-05');
    expect(papers.map((paper) => paper.id).sort()).toContain('2608.99999');
    expect(papers).toHaveLength(4);
    const big = await store.paperById('2608.99999');
    expect(big?.authorCount).toBe(3_500);
    expect(big?.abstract.length).toBeGreaterThan(30_000);
    expect(big?.classifierVersion, 'the big paper is classified too').toBeDefined();
    expect(await visible(stack.queueUrls.parseDeadLetter)).toBe(0);
  });
});

describe('a 200 that is not a listing', () => {
  it.each([
    ['an HTML error page', '2026-08-06', /hf-html: no element with data-target="DailyPapers"/],
    ['an empty body', '2026-08-07', /empty/],
    ['truncated JSON', '2026-08-08', /hf-api/],
  ])('%s is quarantined with its reason, and the run fails so it is retried', async (_kind, day, reason) => {
    const [year, month, date] = day.split('-');

    const run = handlers.fetchListing({ date: day });
    const logged = await stderrOf(() => run.catch(() => {}));

    await expect(run).rejects.toMatchObject({ name: 'MalformedListingError' });
    await expect(run).rejects.toThrow(reason);
    expect(logged).toMatch(/"level":"ERROR".*"message":"listing is not a listing; quarantined/);
    // Kept, apart from the real listings, with why.
    const quarantined = await archivedUnder(`quarantine/${year}/${month}/${date}/`);
    expect(quarantined).toHaveLength(1);
    const metadata = await metadataOf(quarantined[0]?.Key);
    expect(metadata['parse-status']).toBe('malformed');
    expect(metadata['quarantine-reason']).toMatch(reason);
    expect(await archivedUnder(`listings/${year}/${month}/${date}/`)).toHaveLength(0);
    // Nothing sent, and the day is not recorded as fetched.
    expect(await visible(stack.queueUrls.parse)).toBe(0);
    expect(await dayRecord(day)).toBeUndefined();
  });

  it.each([
    ['/bin/ls', 'bin'],
    [path.resolve('package.json'), 'json'],
  ])('a junk source %s goes to the quarantine too', async (source) => {
    const before = (await archivedUnder('quarantine/')).length;

    const run = ingest({ date: '2026-08-09', source });
    await stderrOf(() => run.catch(() => {}));

    await expect(run).rejects.toMatchObject({ name: 'MalformedListingError' });

    const quarantined = await archivedUnder('quarantine/2026/08/09/');
    expect((await archivedUnder('quarantine/')).length).toBe(before + 1);
    const sources = await Promise.all(
      quarantined.map(async (object) => (await metadataOf(object.Key))['source-url']),
    );
    expect(sources).toContain(pathToFileURL(source).toString());
    expect(await archivedUnder('listings/2026/08/09/')).toHaveLength(0);
  });
});

describe('the capture time of a saved listing', () => {
  it('is --fetched-at, then the first capture of the same bytes; only a newer capture overwrites', async () => {
    const items = await itemsOf('hf-daily-papers-2026-08-03.json');
    const first = await saved('capture-1.json', items);
    const firstCapture = '2026-08-03T20:00:00.000Z';

    // Act 1: the saved listing, captured at 20:00.
    const one = await ingest({ source: first, fetchedAt: firstCapture });
    expect(one.listings[0]?.fetchedAt).toBe(firstCapture);
    expect(await metadataOf(one.listings[0]?.archiveKey)).toMatchObject({ 'fetched-at': firstCapture });
    expect((await listedOn('2026-08-03')).every((paper) => paper.fetchedAt === firstCapture)).toBe(true);

    // Act 2: the same bytes again, said to be captured later: the archive's first capture stands.
    const again = await ingest({ source: first, fetchedAt: '2026-08-05T09:00:00.000Z' });
    expect(again.listings[0]).toMatchObject({ archived: false, fetchedAt: firstCapture });

    // Act 3: a newer capture with more upvotes overwrites.
    const newer = items.map((item) => ({
      ...item,
      paper: { ...item.paper, upvotes: item.paper.upvotes + 100 },
    }));
    await ingest({ source: await saved('capture-3.json', newer), fetchedAt: '2026-08-03T23:00:00.000Z' });
    const expected = newer.map((item) => item.paper.upvotes).sort();
    expect((await listedOn('2026-08-03')).map((paper) => paper.upvotes).sort()).toEqual(expected);

    // Act 4: an older capture (fewer upvotes) replayed late rolls nothing back.
    const older = items.map((item) => ({ ...item, paper: { ...item.paper, upvotes: 1 } }));
    const late = await ingest({
      source: await saved('capture-4.json', older),
      fetchedAt: '2026-08-03T21:00:00.000Z',
    });
    expect(late.stale).toBe(3);
    expect((await listedOn('2026-08-03')).map((paper) => paper.upvotes).sort()).toEqual(expected);
  });

  it('is the file modification time without --fetched-at', async () => {
    const items = (await itemsOf('hf-daily-papers-2026-08-03.json', '2026-08-11')).map((item) => ({
      ...item,
      paper: { ...item.paper, upvotes: item.paper.upvotes + 5 },
    }));
    const file = await saved('mtime.json', items);
    const modified = new Date('2026-08-11T23:15:00.000Z');
    await utimes(file, modified, modified);

    const summary = await ingest({ source: file });

    expect(summary.listings[0]?.fetchedAt).toBe(modified.toISOString());
    expect((await listedOn('2026-08-11')).every((paper) => paper.fetchedAt === modified.toISOString())).toBe(
      true,
    );
  });

  it('reads --source file:///absolute/path as that file', async () => {
    const file = await saved('file-url.json', await itemsOf('hf-daily-papers-2026-08-03.json', '2026-08-13'));

    const summary = await ingest({ source: pathToFileURL(file).toString() });

    expect(summary).toMatchObject({ day: '2026-08-13', listed: 3 });
    expect(summary.listings[0]?.url).toBe(pathToFileURL(file).toString());
  });
});

describe('the days a run records', () => {
  it('counts under a day only the papers of that day, not those a response carries over', async () => {
    await ingest({ date: '2026-07-13' });

    expect(await dayRecord('2026-07-13')).toMatchObject({ papers: 14, listed: 14 });
    expect(await listedOn('2026-07-10')).toHaveLength(11);
  });

  it('files one item with an unreadable day alone, never the run under today', async () => {
    const items: unknown[] = await itemsOf('hf-daily-papers-2026-08-03.json', '2026-08-12');
    const broken = structuredClone(items[0]) as HfItem;
    broken.paper.id = '2608.00001';
    broken.paper.submittedOnDailyAt = 'last Tuesday';
    const file = await saved('unreadable-day.json', [...items, broken]);
    const today = new Date().toISOString().slice(0, 10);
    const dlqBefore = await visible(stack.queueUrls.parseDeadLetter);

    const summary = await ingest({ source: file });

    expect(summary.day).toBe('2026-08-12');
    expect(await listedOn('2026-08-12')).toHaveLength(3);
    expect(await dayRecord('2026-08-12')).toMatchObject({ papers: 3, listed: 4 });
    expect(await dayRecord(today)).toBeUndefined();
    expect((await visible(stack.queueUrls.parseDeadLetter)) - dlqBefore).toBe(1);
  });

  it('keeps a day’s count when a re-fetch comes back empty', async () => {
    await ingest({ date: '2026-08-10' });
    expect(await dayRecord('2026-08-10')).toMatchObject({ papers: 3, listed: 3 });

    const empty = await ingest({ date: '2026-08-10' });

    expect(empty.listed).toBe(0);
    const record = await dayRecord('2026-08-10');
    expect(record).toMatchObject({ papers: 3, listed: 3 });
    expect(record?.lastFetchedAt).toBe(empty.listings[0]?.fetchedAt);
  });

  it.each([
    ['2099-01-01', /after tomorrow/],
    ['0001-01-01', /before .* first day/],
    ['2023-04-30', /before 2023-05-01/],
  ])('refuses the day %s, with why, before fetching anything', async (date, why) => {
    const requests = upstream.requests.length;

    await expect(handlers.fetchListing({ date })).rejects.toThrow(why);

    expect(upstream.requests.length).toBe(requests);
    expect(await dayRecord(date)).toBeUndefined();
  });
});

describe('sendMessages', () => {
  it('sends every body that fits before naming the one over the SQS limit', async () => {
    const bodies = ['{"n":1}', 'x'.repeat(300 * 1024), '{"n":3}'];
    const before = await visible(stack.queueUrls.classifyDeadLetter);

    await expect(sendMessages(stack.sqs, stack.queueUrls.classifyDeadLetter, bodies)).rejects.toThrow(
      /1 message\(s\) not sent .* message 1 is 307200 bytes/,
    );

    expect((await visible(stack.queueUrls.classifyDeadLetter)) - before).toBe(2);
  });
});

describe('parseListedPaper with a reference message', () => {
  const reference = (index: number, archiveKey: string) =>
    JSON.stringify({
      v: 2,
      listing: { archiveKey, fetchedAt: '2026-08-05T23:30:00.000Z', listedOn: '2026-08-05' },
      ref: { format: 'hf-api', index },
    });
  const readArchive = async (key: string) => {
    const object = await stack.s3.send(new GetObjectCommand({ Bucket: stack.env.ARCHIVE_BUCKET, Key: key }));
    return (await object.Body?.transformToByteArray()) ?? new Uint8Array();
  };

  it('cuts its item out of the archived listing', async () => {
    const [archived] = await archivedUnder('listings/2026/08/05/');

    const parsed = await parseListedPaper(reference(3, archived?.Key ?? ''), store, readArchive);

    expect(parsed.paper).toMatchObject({ id: '2608.99999', listedOn: '2026-08-05', authorCount: 3_500 });
  });

  it('rejects a reference to an item the archived listing does not have, as a bad message', async () => {
    const [archived] = await archivedUnder('listings/2026/08/05/');

    await expect(parseListedPaper(reference(99, archived?.Key ?? ''), store, readArchive)).rejects.toThrow(
      PaperParseError,
    );
  });
});
