/**
 * `runBackfill` against the local stack, the upstream served on 127.0.0.1: five days (a Friday
 * with papers, an empty weekend, a Monday with papers and a day that always fails), through
 * the real fetch-listing handler (invoked as the schedule invokes it) and the queues.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type BackfillProgress,
  type BackfillReport,
  backfillSucceeded,
  type DayOutcome,
  runBackfill,
} from '../../local/backfill';
import { invokedAsynchronously, type LocalHandlers } from '../../local/handlers';
import { queueDepth } from '../../local/queue-depth';
import { daysBetween } from '../../shared/history/day-range';
import { type FixtureServer, readListing, startFixtureServer } from '../support/fixture-server';
import { openPipelineTestStack, type PipelineTestStack } from '../support/pipeline-stack';

interface HfItem {
  paper: { submittedOnDailyAt: string };
}

let upstream: FixtureServer;
let pipeline: PipelineTestStack;
let handlers: LocalHandlers;
/** When each request for a day was answered, and with what status. */
const answers: { day: string; status: number; at: number }[] = [];

beforeAll(async () => {
  const both: HfItem[] = JSON.parse((await readListing('hf-daily-papers-2026-07-10+13.json')).toString());
  const ofDay = (day: string) => both.filter((item) => item.paper.submittedOnDailyAt.startsWith(day));
  const seen = new Map<string, number>();
  upstream = await startFixtureServer((url) => {
    const day = url.searchParams.get('date') ?? '';
    const call = (seen.get(day) ?? 0) + 1;
    seen.set(day, call);
    const answer = (status: number, body: string, headers?: Record<string, string>) => {
      answers.push({ day, status, at: Date.now() });
      return { status, body, headers };
    };
    switch (day) {
      case '2026-07-10':
        return answer(200, JSON.stringify(ofDay('2026-07-10')));
      case '2026-07-11': // a Saturday: an empty listing, as HF answers weekends
        return answer(200, '[]');
      case '2026-07-12':
        return call === 1 ? answer(429, 'Too Many Requests', { 'retry-after': '1' }) : answer(200, '[]');
      case '2026-07-13':
        return call === 1
          ? answer(500, 'Internal Server Error')
          : answer(200, JSON.stringify(ofDay('2026-07-13')));
      default:
        return answer(503, 'Service Unavailable');
    }
  });
  process.env.FETCH_MAX_REQUESTS_PER_5_MIN = '30000';
  pipeline = await openPipelineTestStack(upstream, { name: 'backfill', pageSize: 100, fetchMaxAttempts: 2 });
  handlers = invokedAsynchronously(pipeline.handlers, {
    sqs: pipeline.stack.sqs,
    deadLetterQueueUrl: pipeline.stack.queueUrls.fetchDeadLetter,
    retryDelayMs: 10,
  });
}, 60_000);

afterAll(async () => {
  await pipeline?.close();
  await upstream?.close();
});

function recordingProgress() {
  const events: { started?: { toFetch: number; skipped: string[] }; done: DayOutcome[] } = { done: [] };
  const progress: BackfillProgress = {
    started: (toFetch, skipped) => {
      events.started = { toFetch, skipped: skipped.map((day) => day.day) };
    },
    dayDone: (outcome) => {
      events.done.push(outcome);
    },
  };
  return { events, progress };
}

const backfill = (progress: BackfillProgress, options: { refetch?: boolean } = {}) =>
  runBackfill(
    pipeline.stack,
    handlers,
    {
      days: daysBetween('2026-07-10', '2026-07-14'),
      concurrency: 2,
      refetch: options.refetch ?? false,
      retryDelaySeconds: 0,
    },
    progress,
  );

const requestsFor = (day: string) =>
  upstream.requests.filter((request) => request.url.searchParams.get('date') === day);

describe('runBackfill', () => {
  let first: BackfillReport;
  const firstRun = recordingProgress();

  it('lands every day that can land and reports the one that keeps failing, with its reason', async () => {
    // Act
    first = await backfill(firstRun.progress);

    // Assess: what the run says
    expect(first.days.map((day) => [day.day, day.status])).toEqual([
      ['2026-07-10', 'landed'],
      ['2026-07-11', 'landed'],
      ['2026-07-12', 'landed'],
      ['2026-07-13', 'landed'],
      ['2026-07-14', 'failed'],
    ]);
    expect(first.days[4]).toMatchObject({ reason: expect.stringMatching(/HTTP 503 Service Unavailable/) });
    expect(first.papers).toBe(25);
    expect(backfillSucceeded(first)).toBe(false);
    expect(firstRun.events.started).toEqual({ toFetch: 5, skipped: [] });
    expect(firstRun.events.done).toHaveLength(5);

    // Assess: what landed in the table
    const listed = async (day: string) =>
      (await pipeline.store.papersListedOn(day, { limit: 100 }, 'id')).items;
    expect(await listed('2026-07-10')).toHaveLength(11);
    expect(await listed('2026-07-13')).toHaveLength(14);
    const classified = (await listed('2026-07-13')).filter((paper) => paper.classifierVersion !== undefined);
    expect(classified).toHaveLength(14);
    const days = (await pipeline.store.ingestedDays({ limit: 100 })).items;
    const fetchedDays = days.filter((day) => day.lastFetchedAt !== undefined).map((day) => day.day);
    expect(fetchedDays.sort()).toEqual(['2026-07-10', '2026-07-11', '2026-07-12', '2026-07-13']);
    expect(days.find((day) => day.day === '2026-07-11')).toMatchObject({ papers: 0, listed: 0 });

    // Assess: the failed day's event is in the fetch DLQ, as the schedule's would be
    expect(await queueDepth(pipeline.stack.sqs, pipeline.stack.queueUrls.fetchDeadLetter)).toBe(1);
  }, 120_000);

  it('retries a 500 and waits out a 429 Retry-After before asking again', () => {
    expect(requestsFor('2026-07-13')).toHaveLength(2);
    const sunday = answers.filter((answer) => answer.day === '2026-07-12');
    expect(sunday.map((answer) => answer.status)).toEqual([429, 200]);
    // Retry-After: 1 (second); timers may fire a millisecond early.
    expect((sunday[1]?.at ?? 0) - (sunday[0]?.at ?? 0)).toBeGreaterThanOrEqual(990);
    // Two attempts a run, three runs (the first and Lambda's two retries).
    expect(requestsFor('2026-07-14')).toHaveLength(6);
  });

  it('run again, skips the days that landed and fetches only the one that failed', async () => {
    // Prepare
    const before = upstream.requests.length;
    const again = recordingProgress();

    // Act
    const second = await backfill(again.progress);

    // Assess
    expect(second.days.map((day) => day.status)).toEqual([
      'skipped',
      'skipped',
      'skipped',
      'skipped',
      'failed',
    ]);
    expect(again.events.started).toEqual({
      toFetch: 1,
      skipped: ['2026-07-10', '2026-07-11', '2026-07-12', '2026-07-13'],
    });
    const asked = upstream.requests.slice(before).map((request) => request.url.searchParams.get('date'));
    expect(new Set(asked)).toEqual(new Set(['2026-07-14']));
  }, 120_000);

  it('with refetch, fetches the days that landed again and stores each paper once', async () => {
    const before = requestsFor('2026-07-10').length;

    const third = await backfill(recordingProgress().progress, { refetch: true });

    expect(third.days.filter((day) => day.status === 'landed')).toHaveLength(4);
    expect(requestsFor('2026-07-10')).toHaveLength(before + 1);
    const ids = (await pipeline.store.papersListedOn('2026-07-10', { limit: 100 }, 'id')).items.map(
      (p) => p.id,
    );
    expect(new Set(ids).size).toBe(11);
    expect(ids).toHaveLength(11);
  }, 120_000);
});
