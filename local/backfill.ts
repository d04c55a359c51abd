import { makeDocumentClient } from '../shared/aws/dynamodb';
import { listingUrlFor } from '../shared/history/day-range';
import type { IsoDate } from '../shared/paper';
import { DynamoPaperStore } from '../shared/store/dynamo-paper-store';
import type { ConsumerReport } from './event-source';
import { FetchDeadLetteredError, type LocalHandlers } from './handlers';
import { allDays, deadLetterCounts, drainPipeline } from './ingest';
import type { LocalStack } from './stack';

/**
 * A local backfill: every day of a range through the real fetch-listing handler (invoked as the
 * schedule invokes it: retried, then dead-lettered) and the parse and classify queues, a few days
 * at a time. Every request to the upstream goes through fetch-listing's one request limiter
 * (`FETCH_MAX_REQUESTS_PER_5_MIN`), however many days run at once.
 *
 * Resumable: a day the table records as fetched (`DAYS`, `lastFetchedAt`) is skipped unless
 * `refetch`. A day's parse messages are in the (durable) queue before the day is recorded, and the
 * run drains the queues first, so a backfill killed at any point and started again lands every
 * paper once and fetches again only the days that had not been recorded.
 */

export interface BackfillRequest {
  days: readonly IsoDate[];
  /** A listing URL template with `{date}`; default: fetch-listing's own (`LISTING_URL_TEMPLATE`). */
  urlTemplate?: string;
  /** Days fetched at once. */
  concurrency: number;
  /** Fetch days already recorded as fetched too. */
  refetch: boolean;
  /** How long a failed consumer record waits before it is received again (default 1 s). */
  retryDelaySeconds?: number;
}

export type DayOutcome =
  | { day: IsoDate; status: 'skipped'; lastFetchedAt: string }
  | { day: IsoDate; status: 'landed'; papers: number; listings: number }
  | { day: IsoDate; status: 'failed'; reason: string };

export interface BackfillReport {
  days: DayOutcome[];
  papers: number;
  /** Messages this run added to the parse and classify dead-letter queues. */
  deadLettered: { parse: number; classify: number };
  consumers: ConsumerReport[];
}

/** Told as the backfill goes (a progress bar, or one line per day). */
export interface BackfillProgress {
  /** Before the first fetch: how many days will be fetched, and the ones skipped. */
  started(toFetch: number, skipped: readonly DayOutcome[]): void;
  /** A day landed (fetched, and its papers through the queues) or failed for good. */
  dayDone(outcome: DayOutcome, totals: { done: number; papers: number }): void;
}

/**
 * Runs the backfill; resolves when every day landed or failed for good. A day that fails does
 * not stop the others: it is reported with its reason (its event is in the fetch DLQ).
 */
export async function runBackfill(
  stack: LocalStack,
  handlers: LocalHandlers,
  request: BackfillRequest,
  progress: BackfillProgress,
): Promise<BackfillReport> {
  const store = new DynamoPaperStore(
    makeDocumentClient(stack.env.AWS_ENDPOINT_URL_DYNAMODB),
    stack.env.TABLE_NAME ?? '',
  );
  const dlqBefore = await deadLetterCounts(stack);
  const consumers: ConsumerReport[] = [];
  const drain = serialDrain(async () => {
    consumers.push(
      ...(await drainPipeline(stack, handlers, { retryDelaySeconds: request.retryDelaySeconds })),
    );
    await stack.persistArchive();
  });
  // Papers an interrupted run had sent but not yet stored land first.
  await drain();

  const fetched = new Map<IsoDate, string>();
  for (const day of await allDays(store)) if (day.lastFetchedAt) fetched.set(day.day, day.lastFetchedAt);
  const outcomes = new Map<IsoDate, DayOutcome>();
  const pending: IsoDate[] = [];
  for (const day of request.days) {
    const lastFetchedAt = fetched.get(day);
    if (lastFetchedAt !== undefined && !request.refetch)
      outcomes.set(day, { day, status: 'skipped', lastFetchedAt });
    else pending.push(day);
  }
  progress.started(pending.length, [...outcomes.values()]);

  const totals = { done: 0, papers: 0 };
  const fetchDay = async (day: IsoDate): Promise<DayOutcome> => {
    try {
      const report = await handlers.fetchListing({
        scheduledTime: `${day}T00:00:00Z`,
        date: day,
        ...(request.urlTemplate ? { url: listingUrlFor(request.urlTemplate, day) } : {}),
      });
      await drain();
      return { day, status: 'landed', papers: report.papers, listings: report.listings.length };
    } catch (error) {
      if (!(error instanceof FetchDeadLetteredError)) throw error;
      return { day, status: 'failed', reason: describeCause(error) };
    }
  };
  let next = 0;
  const worker = async () => {
    while (next < pending.length) {
      const day = pending[next++] as IsoDate;
      const outcome = await fetchDay(day);
      outcomes.set(day, outcome);
      totals.done++;
      if (outcome.status === 'landed') totals.papers += outcome.papers;
      progress.dayDone(outcome, { ...totals });
    }
  };
  const workers = Math.max(1, Math.min(request.concurrency, pending.length));
  await Promise.all(Array.from({ length: workers }, worker));

  const dlqAfter = await deadLetterCounts(stack);
  return {
    days: request.days.map((day) => outcomes.get(day) as DayOutcome),
    papers: totals.papers,
    deadLettered: {
      parse: dlqAfter.parse - dlqBefore.parse,
      classify: dlqAfter.classify - dlqBefore.classify,
    },
    consumers,
  };
}

/**
 * `drain` run one at a time. A caller joins the drain queued behind the running one if there is
 * one (it starts after the caller's messages were sent, so it takes them), else queues its own.
 */
function serialDrain(drain: () => Promise<void>): () => Promise<void> {
  let tail: Promise<void> = Promise.resolve();
  let queued: Promise<void> | undefined;
  return () => {
    if (queued) return queued;
    const run = tail.then(async () => {
      queued = undefined;
      await drain();
    });
    queued = run;
    tail = run.catch(() => {});
    return run;
  };
}

/** The last attempt's error, which says why the day failed (the wrapper's message says what was done). */
function describeCause(error: FetchDeadLetteredError): string {
  const cause = error.cause;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return `${reason} (failed on every run; its event is in the fetch dead-letter queue)`;
}

/** Whether every day of the report landed (or had landed before), with nothing dead-lettered. */
export function backfillSucceeded(report: BackfillReport): boolean {
  return (
    report.days.every((day) => day.status !== 'failed') &&
    report.deadLettered.parse + report.deadLettered.classify === 0
  );
}
