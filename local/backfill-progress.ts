import { MultiBar, type SingleBar } from 'cli-progress';
import type { BackfillProgress, DayOutcome } from './backfill';

/**
 * How `papers backfill` shows its progress on stderr: on a terminal a progress bar (days
 * done/total, papers, rate, ETA) that a failed day's line scrolls above; otherwise (a log, a
 * pipe, CI) one plain line per day, so the output reads the same in a file.
 */
export function backfillProgress(
  stream: NodeJS.WriteStream = process.stderr,
): BackfillProgress & { stop(): void } {
  return stream.isTTY ? progressBar(stream) : plainLines(stream);
}

export function describeDay(outcome: DayOutcome): string {
  switch (outcome.status) {
    case 'landed':
      return `${outcome.day}: landed, ${outcome.papers} paper(s) from ${outcome.listings} page(s)`;
    case 'skipped':
      return `${outcome.day}: skipped, already fetched at ${outcome.lastFetchedAt}`;
    case 'failed':
      return `${outcome.day}: FAILED: ${outcome.reason}`;
  }
}

function plainLines(stream: NodeJS.WritableStream): BackfillProgress & { stop(): void } {
  let total = 0;
  return {
    started(toFetch, skipped) {
      total = toFetch;
      stream.write(`backfill: ${toFetch} day(s) to fetch, ${skipped.length} already fetched (skipped)\n`);
    },
    dayDone(outcome, { done }) {
      stream.write(`backfill ${describeDay(outcome)} [${done}/${total}]\n`);
    },
    stop() {},
  };
}

function progressBar(stream: NodeJS.WriteStream): BackfillProgress & { stop(): void } {
  const bars = new MultiBar({
    stream,
    format: 'backfill [{bar}] {value}/{total} days | {papers} papers | {rate} days/min | ETA {eta_formatted}',
    hideCursor: true,
    clearOnComplete: false,
    etaBuffer: 20,
  });
  let bar: SingleBar | undefined;
  let startedAt = Date.now();
  return {
    started(toFetch) {
      startedAt = Date.now();
      bar = bars.create(toFetch, 0, { papers: 0, rate: '0.0' });
    },
    dayDone(outcome, { done, papers }) {
      const minutes = (Date.now() - startedAt) / 60_000;
      // A failed day stays on the screen: its line goes above the bar.
      if (outcome.status === 'failed') bars.log(`backfill ${describeDay(outcome)}\n`);
      bar?.update(done, { papers, rate: minutes > 0 ? (done / minutes).toFixed(1) : '0.0' });
    },
    stop() {
      bars.stop();
    },
  };
}
